import type { InfinityColumn, InfinityQuery } from '../../../grafana/src/infinity.js';
import { interpolate, type VariableValues } from './grafana-vars.js';

/*
 * Resolves an Infinity query as the plugin's backend parser does, against a real HTTP server:
 * Grafana's variables substituted (url, params, root selector, filter), the data source's base
 * URL prefixed to the path, the params added to the query string, the API key sent as a header,
 * the root selector and each column's selector read as gjson paths, values typed by the column,
 * then `filterExpression` evaluated per row. Only the subset of gjson and govaluate the
 * dashboards use is implemented, and anything else throws: a dashboard cannot lean on syntax
 * these tests never exercised. It is our reading of the plugin (grafana-infinity-datasource
 * pkg/infinity and infinity-libs jsonframer), not the plugin itself, which cannot run here.
 */

export type Cell = string | number | null;

export interface Frame {
  readonly refId: string;
  readonly url: string;
  readonly fields: readonly { name: string; type: InfinityColumn['type'] }[];
  readonly rows: readonly Record<string, Cell>[];
  /** Columns whose selector found the key in at least one row (its value may be null). */
  readonly present: ReadonlySet<string>;
}

export class InfinityEmulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfinityEmulationError';
  }
}

/** A gjson path of plain keys, array indexes and `#` (an array's length). */
export function gjsonGet(value: unknown, path: string): unknown {
  if (path === '') return value;
  if (/[|@*?!\\]/.test(path))
    throw new InfinityEmulationError(`gjson syntax not emulated: ${path}`);
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (part === '#') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.length;
    } else if (Array.isArray(cur)) {
      cur = /^\d+$/.test(part) ? cur[Number(part)] : undefined;
    } else if (typeof cur === 'object') {
      cur = (cur as Record<string, unknown>)[part];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** A value converted to its column's type, or an error naming what arrived instead. */
function typed(value: unknown, column: InfinityColumn, where: string): Cell {
  if (value === undefined || value === null) return null;
  const fail = () =>
    new InfinityEmulationError(
      `${where}: column ${column.text} (${column.selector}) is ${column.type} but got ${JSON.stringify(value)}`,
    );
  switch (column.type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail();
      return value;
    case 'string':
      // The backend parser prints booleans; numbers or structures in a text column are a mistake.
      if (typeof value === 'boolean') return String(value);
      if (typeof value !== 'string') throw fail();
      return value;
    case 'timestamp':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw fail();
      return value;
  }
}

// --- govaluate, the subset the dashboards use: identifiers, '…' strings, =~ !~ == !=, && ||, ( )

type Token = { kind: 'id' | 'str' | 'op' | 'paren'; text: string };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const ws = /^\s+/.exec(rest);
    if (ws) {
      i += ws[0].length;
      continue;
    }
    const str = /^'((?:[^'\\]|\\.)*)'/.exec(rest);
    if (str) {
      out.push({ kind: 'str', text: (str[1] as string).replace(/\\(.)/g, '$1') });
      i += str[0].length;
      continue;
    }
    const op = /^(=~|!~|==|!=|&&|\|\|)/.exec(rest);
    if (op) {
      out.push({ kind: 'op', text: op[0] });
      i += op[0].length;
      continue;
    }
    const id = /^(\[[^\]]+\]|[A-Za-z_]\w*)/.exec(rest);
    if (id) {
      out.push({ kind: 'id', text: id[0].replace(/^\[|\]$/g, '') });
      i += id[0].length;
      continue;
    }
    if (rest[0] === '(' || rest[0] === ')') {
      out.push({ kind: 'paren', text: rest[0] });
      i += 1;
      continue;
    }
    throw new InfinityEmulationError(`filter syntax not emulated at "${rest}" in ${expr}`);
  }
  return out;
}

/** Evaluates a filter expression on one row; throws on unknown fields or syntax. */
export function evaluateFilter(expr: string, row: Readonly<Record<string, Cell>>): boolean {
  const tokens = tokenize(expr);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => {
    const t = tokens[pos++];
    if (t === undefined) throw new InfinityEmulationError(`filter ends early: ${expr}`);
    return t;
  };
  const operand = (): Cell | boolean => {
    const t = next();
    if (t.kind === 'str') return t.text;
    if (t.kind === 'id') {
      if (!(t.text in row)) throw new InfinityEmulationError(`filter names no column ${t.text}`);
      return row[t.text] as Cell;
    }
    if (t.kind === 'paren' && t.text === '(') {
      const v = or();
      if (next().text !== ')') throw new InfinityEmulationError(`unbalanced ( in ${expr}`);
      return v;
    }
    throw new InfinityEmulationError(`unexpected ${t.text} in ${expr}`);
  };
  const comparison = (): boolean => {
    const left = operand();
    const op = peek();
    if (op?.kind !== 'op' || op.text === '&&' || op.text === '||') {
      if (typeof left !== 'boolean') throw new InfinityEmulationError(`not a condition: ${expr}`);
      return left;
    }
    pos++;
    const right = operand();
    switch (op.text) {
      case '==':
        return left === right;
      case '!=':
        return left !== right;
      case '=~':
      case '!~': {
        // govaluate compiles the right side as a Go regexp and matches the left side's text.
        const matched = typeof left === 'string' && new RegExp(String(right)).test(left);
        return op.text === '=~' ? matched : !matched;
      }
      default:
        throw new InfinityEmulationError(`operator ${op.text} not emulated`);
    }
  };
  const and = (): boolean => {
    let v = comparison();
    while (peek()?.text === '&&') {
      pos++;
      v = comparison() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.text === '||') {
      pos++;
      v = and() || v;
    }
    return v;
  };
  const result = or();
  if (pos !== tokens.length) throw new InfinityEmulationError(`trailing tokens in ${expr}`);
  return result;
}

/** The query with Grafana's variables substituted where Infinity substitutes them. */
export function interpolateQuery(q: InfinityQuery, vars: VariableValues): InfinityQuery {
  return {
    ...q,
    url: interpolate(q.url, vars),
    url_options: {
      ...q.url_options,
      params: q.url_options.params.map((p) => ({ key: p.key, value: interpolate(p.value, vars) })),
    },
    root_selector: interpolate(q.root_selector, vars),
    ...(q.filterExpression === undefined
      ? {}
      : { filterExpression: interpolate(q.filterExpression, vars) }),
  };
}

export interface InfinitySource {
  /** The data source's URL (the API's base URL, no trailing slash). */
  readonly baseUrl: string;
  /** Sent as `x-api-key`, as the provisioned API-key data source does. */
  readonly apiKey?: string;
}

/** Runs one query: request, rows, typed columns, filter. */
export async function resolveQuery(
  query: InfinityQuery,
  vars: VariableValues,
  source: InfinitySource,
  where: string,
): Promise<Frame> {
  if (query.type !== 'json' || query.source !== 'url' || query.parser !== 'backend')
    throw new InfinityEmulationError(`${where}: only JSON URL queries with the backend parser`);
  const q = interpolateQuery(query, vars);
  const url = new URL(`${source.baseUrl}${q.url}`);
  for (const p of q.url_options.params) url.searchParams.append(p.key, p.value);
  const res = await fetch(url, {
    headers: source.apiKey === undefined ? {} : { 'x-api-key': source.apiKey },
  });
  const body = await res.text();
  if (res.status !== 200)
    throw new InfinityEmulationError(`${where}: GET ${url} answered ${res.status}: ${body}`);
  const root = gjsonGet(JSON.parse(body), q.root_selector);
  if (root === undefined)
    throw new InfinityEmulationError(`${where}: no ${q.root_selector} in the answer of ${url}`);
  const items = Array.isArray(root) ? root : [root];
  const present = new Set<string>();
  let rows = items.map((item) => {
    const row: Record<string, Cell> = {};
    for (const c of q.columns) {
      const value = gjsonGet(item, c.selector);
      if (value !== undefined) present.add(c.text);
      row[c.text] = typed(value, c, where);
    }
    return row;
  });
  const filter = q.filterExpression;
  if (filter !== undefined && filter.trim() !== '')
    rows = rows.filter((r) => evaluateFilter(filter, r));
  return {
    refId: q.refId ?? 'A',
    url: url.toString(),
    fields: q.columns.map((c) => ({ name: c.text, type: c.type })),
    rows,
    present,
  };
}

/** What a panel receives after its transformations: rows, or one set of rows per partition. */
export interface Transformed {
  readonly rows: Record<string, Cell>[];
  /** `partitionByValues`: the rows of each value of the partitioning field. */
  readonly partitions?: ReadonlyMap<string, Record<string, Cell>[]>;
}

/**
 * Grafana's transformations, the ones the dashboards use: `joinByField` in `outerTabular` mode
 * (rows matched on the field; unmatched rows of either side kept), `filterByValue` with the
 * `isNotNull` matcher, `organize` (field order; every name it orders must be a field) and
 * `partitionByValues` (one frame per value of a field). Another id throws.
 */
export function applyTransformations(
  frames: readonly Frame[],
  transformations: readonly { id: string; options: Record<string, unknown> }[],
): Transformed {
  let rows: Record<string, Cell>[] = frames.length === 1 ? [...(frames[0]?.rows ?? [])] : [];
  let partitions: Map<string, Record<string, Cell>[]> | undefined;
  const fields = new Set(frames.flatMap((f) => f.fields.map((x) => x.name)));
  if (frames.length > 1 && transformations[0]?.id !== 'joinByField')
    throw new InfinityEmulationError('several frames without a join are not emulated');
  for (const t of transformations) {
    if (t.id === 'joinByField') {
      const by = t.options.byField as string;
      if (t.options.mode !== 'outerTabular')
        throw new InfinityEmulationError(`join mode ${String(t.options.mode)} not emulated`);
      const [left, ...others] = frames;
      if (left === undefined) throw new InfinityEmulationError('join of no frames');
      for (const f of frames)
        if (!f.fields.some((x) => x.name === by))
          throw new InfinityEmulationError(`frame ${f.refId} has no join field ${by}`);
      rows = left.rows.map((r) => ({ ...r }));
      for (const right of others) {
        const joined: Record<string, Cell>[] = [];
        const used = new Set<number>();
        for (const l of rows) {
          const matches = right.rows
            .map((r, i) => ({ r, i }))
            .filter(({ r }) => r[by] !== null && r[by] === l[by]);
          if (matches.length === 0) joined.push(l);
          for (const { r, i } of matches) {
            used.add(i);
            joined.push({ ...r, ...l });
          }
        }
        right.rows.forEach((r, i) => {
          if (!used.has(i)) joined.push({ ...r });
        });
        rows = joined;
      }
    } else if (t.id === 'filterByValue') {
      const filters = t.options.filters as { fieldName: string; config: { id: string } }[];
      if (t.options.type !== 'include')
        throw new InfinityEmulationError('only include filters are emulated');
      for (const f of filters) {
        if (f.config.id !== 'isNotNull')
          throw new InfinityEmulationError(`value matcher ${f.config.id} not emulated`);
        if (!fields.has(f.fieldName))
          throw new InfinityEmulationError(`filter on ${f.fieldName}, which no frame has`);
      }
      const has = (r: Record<string, Cell>, name: string) =>
        r[name] !== null && r[name] !== undefined;
      rows = rows.filter((r) =>
        t.options.match === 'any'
          ? filters.some((f) => has(r, f.fieldName))
          : filters.every((f) => has(r, f.fieldName)),
      );
    } else if (t.id === 'organize') {
      for (const name of Object.keys(t.options.indexByName as Record<string, number>))
        if (!fields.has(name))
          throw new InfinityEmulationError(`organize orders ${name}, which no frame has`);
    } else if (t.id === 'partitionByValues') {
      const [by, ...more] = t.options.fields as string[];
      if (by === undefined || more.length > 0 || !fields.has(by))
        throw new InfinityEmulationError(
          `partition by ${JSON.stringify(t.options.fields)} not emulated`,
        );
      partitions = new Map();
      for (const r of rows) {
        const key = String(r[by]);
        partitions.set(key, [...(partitions.get(key) ?? []), r]);
      }
    } else {
      throw new InfinityEmulationError(`transformation ${t.id} not emulated`);
    }
  }
  return partitions === undefined ? { rows } : { rows, partitions };
}
