/**
 * A parser for the Prometheus text exposition format (version 0.0.4, what Temporal's `/metrics`
 * serves), producing flat samples: one per line, with the name exactly as exported (`x_bucket`,
 * `x_count`, `x_total`). Pure: no I/O.
 *
 * Why not `parse-prometheus-text-format`: it reshapes histograms into prom2json's nested form
 * (buckets keyed by the raw `le` string, `_count`/`_sum` folded into the family, values as
 * strings, timestamps dropped), while the catalog addresses the exported series by name
 * (`seriesName(metric, 'bucket', dialect)`), exactly as PromQL does. Undoing that reshaping costs
 * more than scanning the text once, and a flat sample list is also what Prometheus itself ingests.
 */

export interface Sample {
  /** Exported series name, e.g. `service_latency_bucket`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** May be NaN or ±Inf: the format allows them and the evaluator decides what they mean. */
  readonly value: number;
  /** Explicit sample timestamp (epoch ms) when the line carries one. */
  readonly timestampMs?: number;
  /**
   * The series identity, {@link seriesKeyOf} of name and labels, when the producer computed it
   * (the parser does, for free while scanning). Absent: the evaluator computes it.
   */
  readonly key?: string;
}

/**
 * A canonical identity for a series: the name, then each label as `\0name\1value` in sorted
 * label order. Two samples with the same name and label set always get the same key.
 */
export function seriesKeyOf(name: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let key = name;
  for (const k of keys) key += `\u0000${k}\u0001${labels[k] ?? ''}`;
  return key;
}

export class ExpositionParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`exposition line ${line}: ${message}`);
    this.name = 'ExpositionParseError';
  }
}

// Character classes by code unit: this loop runs once per byte of a large exposition.
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

/** Parses a float as Prometheus does, including `NaN`, `+Inf`, `-Inf` (case-insensitive). */
export function parsePromFloat(text: string): number {
  const t = text.toLowerCase();
  if (t === 'nan') return Number.NaN;
  if (t === '+inf' || t === 'inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf') return Number.NEGATIVE_INFINITY;
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

function isValidFloat(text: string): boolean {
  const t = text.toLowerCase();
  return (
    t === 'nan' ||
    t === '+inf' ||
    t === 'inf' ||
    t === '-inf' ||
    /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)
  );
}

export interface ParseOptions {
  /**
   * Only samples with these names are returned; other lines are read only as far as their name
   * (so a malformed label set on a line nobody reads is not an error). Cuts allocation when a
   * consumer needs a fraction of a large exposition.
   */
  readonly keep?: ReadonlySet<string>;
  /** Receives every sample name seen, kept or not (dialect detection, endpoint inventories). */
  readonly names?: Set<string>;
  /** Prepended to every key: an identity for the producer (Prometheus's `instance`). */
  readonly keyPrefix?: string;
}

/**
 * Parses one exposition text. Comment lines (`# HELP`, `# TYPE`, anything after `#`) and blank
 * lines are skipped. A malformed line throws {@link ExpositionParseError}: Prometheus rejects the
 * whole scrape in that case, and so do we, rather than guess.
 */
export function parseExposition(text: string, options: ParseOptions = {}): Sample[] {
  const out: Sample[] = [];
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    lineNo++;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(pos, end - 1) : text.slice(pos, end);
    pos = end + 1;
    const sample = parseLine(line, lineNo, options);
    if (sample !== undefined) out.push(sample);
  }
  return out;
}

const SPACE = 32;
const TAB = 9;
const HASH = 35;
const LBRACE = 123;
const RBRACE = 125;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;

function skipBlanks(line: string, i: number, n: number): number {
  let j = i;
  while (j < n) {
    const c = line.charCodeAt(j);
    if (c !== SPACE && c !== TAB) break;
    j++;
  }
  return j;
}

/** A label value from after its opening quote; returns the value and the index of the closing quote. */
function labelValue(line: string, from: number, lineNo: number): [string, number] {
  const close = line.indexOf('"', from);
  const slash = line.indexOf('\\', from);
  // The common case: no escapes before the closing quote.
  if (close >= 0 && (slash < 0 || slash > close)) return [line.slice(from, close), close];
  let value = '';
  let chunk = from;
  let i = from;
  const n = line.length;
  for (;;) {
    if (i >= n) throw new ExpositionParseError('unterminated label value', lineNo);
    const c = line.charCodeAt(i);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      value += line.slice(chunk, i);
      const e = line[i + 1];
      // The format defines exactly three escapes; anything else is kept verbatim, as
      // Prometheus's own text parser does.
      if (e === 'n') value += '\n';
      else if (e === '\\') value += '\\';
      else if (e === '"') value += '"';
      else value += `\\${e ?? ''}`;
      i += 2;
      chunk = i;
      continue;
    }
    i++;
  }
  return [value + line.slice(chunk, i), i];
}

function parseLine(line: string, lineNo: number, options: ParseOptions): Sample | undefined {
  const n = line.length;
  let i = skipBlanks(line, 0, n);
  if (i === n || line.charCodeAt(i) === HASH) return undefined;
  const nameStart = i;
  if (!isNameStart(line.charCodeAt(i)))
    throw new ExpositionParseError('invalid metric name', lineNo);
  i++;
  while (i < n && isNameChar(line.charCodeAt(i))) i++;
  const name = line.slice(nameStart, i);
  options.names?.add(name);
  if (options.keep !== undefined && !options.keep.has(name)) return undefined;
  const labels: Record<string, string> = {};
  // The key is built while scanning; labels printed out of order fall back to sorting.
  let key = name;
  let sorted = true;
  let lastLabel = '';
  if (line.charCodeAt(i) === LBRACE) {
    i++;
    for (;;) {
      i = skipBlanks(line, i, n);
      if (line.charCodeAt(i) === RBRACE) {
        i++;
        break;
      }
      const ls = i;
      if (!isNameStart(line.charCodeAt(i)) || line.charCodeAt(i) === COLON)
        throw new ExpositionParseError('invalid label name', lineNo);
      while (i < n && isNameChar(line.charCodeAt(i)) && line.charCodeAt(i) !== COLON) i++;
      const label = line.slice(ls, i);
      i = skipBlanks(line, i, n);
      if (line.charCodeAt(i) !== EQUALS)
        throw new ExpositionParseError(`expected '=' after ${label}`, lineNo);
      i = skipBlanks(line, i + 1, n);
      if (line.charCodeAt(i) !== QUOTE)
        throw new ExpositionParseError(`expected '"' for ${label}`, lineNo);
      const [value, close] = labelValue(line, i + 1, lineNo);
      i = close + 1;
      if (Object.hasOwn(labels, label))
        throw new ExpositionParseError(`duplicate label ${label}`, lineNo);
      labels[label] = value;
      if (label < lastLabel) sorted = false;
      lastLabel = label;
      key += `\u0000${label}\u0001${value}`;
      i = skipBlanks(line, i, n);
      const c = line.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === RBRACE) {
        i++;
        break;
      }
      throw new ExpositionParseError("expected ',' or '}' in labels", lineNo);
    }
  }
  if (!sorted) key = seriesKeyOf(name, labels);
  if (options.keyPrefix !== undefined) key = options.keyPrefix + key;
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  const valueStart = i;
  while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
  const value = parseValue(line.slice(valueStart, i), lineNo);
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  // OpenMetrics exemplars (`# {...}`) may follow; they carry no series data.
  if (i === n || line[i] === '#') return { name, labels, value, key };
  const tsStart = i;
  while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
  const tsText = line.slice(tsStart, i);
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  if (!/^-?\d+$/.test(tsText) || (i < n && line[i] !== '#'))
    throw new ExpositionParseError(`invalid timestamp '${tsText.slice(0, 40)}'`, lineNo);
  return { name, labels, value, timestampMs: Number(tsText), key };
}

function parseValue(text: string, lineNo: number): number {
  // Number() is the fast path; it also accepts forms Go's ParseFloat refuses ("", "0x1", " 1",
  // "Infinity"), so anything it does not answer plainly goes through the strict check.
  const v = Number(text);
  if (text !== '' && Number.isFinite(v) && /^[+-]?[\d.]/.test(text) && !/[xXbBoO]/.test(text)) {
    return v;
  }
  if (!isValidFloat(text))
    throw new ExpositionParseError(`invalid value '${text.slice(0, 40)}'`, lineNo);
  return parsePromFloat(text);
}
