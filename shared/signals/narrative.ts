import { NARRATIVE_PATTERNS, type NarrativePattern } from './narrative-patterns.js';
import type { Service } from './types.js';

/**
 * Log narrative: which known patterns (`NARRATIVE_PATTERNS`) the monitored cluster's log lines
 * show, per pattern and service. Pure: the Loki source fetches the lines, this counts them. Logs
 * never decide the health state; they explain it (docs/lessons.md#logs-explain-never-decide).
 */

/** One log line with the labels of the stream it came from. */
export interface LogLine {
  readonly line: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PatternCount {
  readonly patternId: string;
  readonly pattern: string;
  /** The Temporal service the lines came from (see {@link serviceOf}). */
  readonly service: string;
  readonly count: number;
  /** True when the line limit was hit: the real count is at least `count`. */
  readonly atLeast: boolean;
  /** The first matching line (the newest, when lines arrive newest first), ≤ 500 chars. */
  readonly sample: string;
  readonly speaksFor: Service;
  readonly meaning: string;
}

export interface Narrative {
  /** Sorted by count, highest first (ties: pattern id, then service). */
  readonly patterns: readonly PatternCount[];
  readonly linesScanned: number;
  /** The query returned as many lines as it was allowed: every count is a lower bound. */
  readonly limitHit: boolean;
}

export const SAMPLE_MAX_CHARS = 500;

/**
 * The service a stream speaks for, from the labels the known log shippers set: `service_name`
 * (the ECS Alloy sidecars), `service` or `container` (docker compose via Alloy), then `job`.
 */
export function serviceOf(labels: Readonly<Record<string, string>>): string {
  for (const key of ['service_name', 'service', 'container', 'job']) {
    const v = labels[key];
    if (v !== undefined && v !== '') return v;
  }
  return 'unknown';
}

/** Whether a pattern applies to a service: its list is empty, or one entry is a substring. */
function appliesTo(p: NarrativePattern, service: string): boolean {
  if (p.services.length === 0) return true;
  const s = service.toLowerCase();
  return p.services.some((want) => s.includes(want.toLowerCase()));
}

/**
 * Counts pattern matches: case-insensitive substring tests, each line counted once per pattern
 * it matches (a line can match several), restricted to the pattern's services.
 *
 * Every count is marked "at least" when the lines are known to be truncated: `limitHit` says so
 * (a caller that merged several queries knows whether one of them hit its limit), or `lines`
 * reach `limit`, the line limit of the one query they came from.
 */
export function matchNarrative(
  lines: readonly LogLine[],
  options: {
    /** The line limit the query ran with; as many lines as that means some were cut off. */
    limit?: number;
    /** The lines were cut off at a limit, whatever their number. */
    limitHit?: boolean;
    patterns?: readonly NarrativePattern[];
  } = {},
): Narrative {
  const patterns = options.patterns ?? NARRATIVE_PATTERNS;
  const needles = patterns.map((p) => p.pattern.toLowerCase());
  const limitHit =
    options.limitHit === true || (options.limit !== undefined && lines.length >= options.limit);
  const counts = new Map<
    string,
    { p: NarrativePattern; service: string; n: number; sample: string }
  >();
  for (const { line, labels } of lines) {
    const lower = line.toLowerCase();
    const service = serviceOf(labels);
    patterns.forEach((p, i) => {
      if (!lower.includes(needles[i] as string) || !appliesTo(p, service)) return;
      const key = `${p.id}\u0000${service}`;
      const c = counts.get(key);
      if (c === undefined) {
        counts.set(key, { p, service, n: 1, sample: line.slice(0, SAMPLE_MAX_CHARS) });
      } else c.n++;
    });
  }
  const out: PatternCount[] = [...counts.values()].map(({ p, service, n, sample }) => ({
    patternId: p.id,
    pattern: p.pattern,
    service,
    count: n,
    atLeast: limitHit,
    sample,
    speaksFor: p.speaksFor,
    meaning: p.meaning,
  }));
  out.sort(
    (a, b) =>
      b.count - a.count ||
      a.patternId.localeCompare(b.patternId) ||
      a.service.localeCompare(b.service),
  );
  return { patterns: out, linesScanned: lines.length, limitHit };
}

/** RE2 metacharacters escaped, so a pattern is matched literally inside a regex. */
function escapeRegex(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * The LogQL line filter that keeps only lines some pattern can match, so Loki ships (and the
 * limit counts) relevant lines only: `` |~ `(?i)(deadline exceeded|context canceled|…)` ``. A
 * backtick string needs no escaping in LogQL; patterns containing a backtick are refused.
 */
export function lineFilter(patterns: readonly NarrativePattern[] = NARRATIVE_PATTERNS): string {
  const alternatives = patterns.map((p) => {
    if (p.pattern.includes('`')) throw new RangeError(`pattern ${p.id} contains a backtick`);
    return escapeRegex(p.pattern);
  });
  return `|~ \`(?i)(${alternatives.join('|')})\``;
}
