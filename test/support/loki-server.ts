import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Loki (no Loki binary is obtainable here) that speaks `GET /loki/api/v1/query_range`
 * for log queries the way Loki 3 does: the stream selector's matchers (`=`, `!=`, `=~`, `!~`,
 * regexes fully anchored), a `|~` / `|=` line filter, `start` inclusive and `end` exclusive in
 * nanoseconds, `direction=backward` returning the newest `limit` lines overall, and the JSON shape
 * `{"status":"success","data":{"resultType":"streams","result":[{"stream":{…},"values":[["<ns>","line"]]}],"stats":{…}}}`.
 * Errors answer like Loki: HTTP 400 with a plain-text message for a bad query.
 */
export interface LogStream {
  readonly labels: Record<string, string>;
  /** `[nanosecond timestamp, line]`. */
  readonly entries: readonly (readonly [bigint, string])[];
}

export type LokiMode = 'ok' | 'http-500' | 'malformed-json' | 'wrong-shape' | 'hang';

export interface FakeLoki {
  readonly url: string;
  streams: LogStream[];
  mode: LokiMode;
  /** The query parameters of every request received. */
  readonly requests: URLSearchParams[];
  /** The headers of every request received, in the same order as `requests`. */
  readonly headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

class LogQlError extends Error {}

function jsRegex(re: string, anchored: boolean): RegExp {
  let body = re;
  let flags = '';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags = 'i';
  }
  return new RegExp(anchored ? `^(?:${body})$` : body, flags);
}

/** Parses `{a="x", b=~"y"} |~ \`re\`` (or a double-quoted filter string). */
function parseQuery(q: string): {
  matchers: Matcher[];
  filter?: { op: '|~' | '|='; value: string };
} {
  const m = /^\s*\{(.*?)\}\s*(.*)$/s.exec(q);
  if (m === null) throw new LogQlError('parse error: expected a stream selector');
  const matchers: Matcher[] = [];
  const body = m[1] ?? '';
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const mm = re.exec(body);
    if (mm === null) throw new LogQlError(`parse error: bad matcher at ${body.slice(pos)}`);
    matchers.push({
      label: mm[1] as string,
      op: mm[2] as Matcher['op'],
      value: (mm[3] as string).replace(/\\(.)/g, '$1'),
    });
    pos = re.lastIndex;
  }
  if (matchers.length === 0)
    throw new LogQlError('parse error: queries require at least one matcher');
  // Loki refuses selectors that would select every stream: one matcher must reject "".
  if (matchers.every((x) => selects({}, x)))
    throw new LogQlError(
      'parse error: queries require at least one regexp or equality matcher that does not have an empty-compatible value',
    );
  const rest = (m[2] ?? '').trim();
  if (rest === '') return { matchers };
  const f = /^(\|~|\|=)\s*(?:`([^`]*)`|"((?:[^"\\]|\\.)*)")\s*$/s.exec(rest);
  if (f === null) throw new LogQlError(`parse error: unsupported pipeline ${rest}`);
  return {
    matchers,
    filter: { op: f[1] as '|~' | '|=', value: f[2] ?? (f[3] ?? '').replace(/\\(.)/g, '$1') },
  };
}

function selects(labels: Record<string, string>, m: Matcher): boolean {
  const v = labels[m.label] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return jsRegex(m.value, true).test(v);
    case '!~':
      return !jsRegex(m.value, true).test(v);
  }
}

function answer(
  fake: FakeLoki,
  req: IncomingMessage,
): { status: number; body: string; type: string } {
  const url = new URL(req.url ?? '/', 'http://loki');
  if (url.pathname !== '/loki/api/v1/query_range')
    return { status: 404, body: '404 page not found\n', type: 'text/plain' };
  const p = url.searchParams;
  fake.requests.push(p);
  fake.headers.push(req.headers);
  const query = p.get('query') ?? '';
  const limit = Number(p.get('limit') ?? '100');
  const start = BigInt(p.get('start') ?? '0');
  const end = BigInt(p.get('end') ?? '0');
  const direction = p.get('direction') ?? 'backward';
  let parsed: ReturnType<typeof parseQuery>;
  try {
    parsed = parseQuery(query);
  } catch (e) {
    return { status: 400, body: `${(e as Error).message}\n`, type: 'text/plain' };
  }
  const lineRe = parsed.filter?.op === '|~' ? jsRegex(parsed.filter.value, false) : undefined;
  const picked: { labels: Record<string, string>; ts: bigint; line: string }[] = [];
  for (const s of fake.streams) {
    if (!parsed.matchers.every((m) => selects(s.labels, m))) continue;
    for (const [ts, line] of s.entries) {
      if (ts < start || ts >= end) continue;
      if (lineRe !== undefined && !lineRe.test(line)) continue;
      if (parsed.filter?.op === '|=' && !line.includes(parsed.filter.value)) continue;
      picked.push({ labels: s.labels, ts, line });
    }
  }
  picked.sort((a, b) => (a.ts === b.ts ? 0 : a.ts < b.ts === (direction === 'backward') ? 1 : -1));
  const kept = picked.slice(0, limit);
  const byStream = new Map<
    string,
    { stream: Record<string, string>; values: [string, string][] }
  >();
  for (const e of kept) {
    const key = JSON.stringify(Object.entries(e.labels).sort());
    let s = byStream.get(key);
    if (s === undefined) {
      s = { stream: e.labels, values: [] };
      byStream.set(key, s);
    }
    s.values.push([e.ts.toString(), e.line]);
  }
  const body = {
    status: 'success',
    data: {
      resultType: 'streams',
      result: [...byStream.values()],
      stats: {
        summary: {
          bytesProcessedPerSecond: 0,
          linesProcessedPerSecond: 0,
          totalBytesProcessed: 0,
          totalLinesProcessed: picked.length,
          execTime: 0.001,
          queueTime: 0,
          subqueries: 0,
          totalEntriesReturned: kept.length,
        },
        querier: { store: {} },
        ingester: {},
      },
    },
  };
  return { status: 200, body: JSON.stringify(body), type: 'application/json' };
}

export async function startFakeLoki(streams: LogStream[] = []): Promise<FakeLoki> {
  const pending: (() => void)[] = [];
  const fake: FakeLoki = {
    url: '',
    streams,
    mode: 'ok',
    requests: [],
    headers: [],
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    switch (fake.mode) {
      case 'hang':
        pending.push(() => res.destroy());
        return;
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('rpc error: code = Unavailable desc = no healthy ingesters\n');
        return;
      case 'malformed-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":{"resultType":"streams","result":[{');
        return;
      case 'wrong-shape':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":{"resultType":"matrix","result":[]}}');
        return;
      case 'ok': {
        const a = answer(fake, req);
        res.writeHead(a.status, { 'content-type': a.type });
        res.end(a.body);
      }
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const p of pending) p();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  });
}
