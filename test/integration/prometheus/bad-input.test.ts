import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { replayRange } from '../../../bin/commands/observe.js';
import { evaluate } from '../../../shared/health/engine.js';
import { SIGNAL_CATALOG, signalById } from '../../../shared/signals/catalog.js';
import { SIG } from '../../../shared/signals/ids.js';
import type { SignalDef } from '../../../shared/signals/types.js';
import {
  createPrometheusSource,
  normalizePrometheusUrl,
  PrometheusConfigError,
} from '../../../worker/sources/prometheus.js';
import { type OversizedServer, startOversizedServer } from '../../support/oversized-server.js';
import { freePort } from '../../support/prometheus.js';
import { expectSigV4Valid } from '../../support/sigv4.js';

/**
 * What real Prometheus cannot be made to do on demand (hang, 5xx, garbage, ±Inf on the wire),
 * played by a local HTTP server that speaks the Prometheus HTTP API's exact JSON.
 */

interface Captured {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly params: URLSearchParams;
}

type Handler = (req: Captured, res: ServerResponse) => void | Promise<void>;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function fakePrometheus(handler: Handler): Promise<{ url: string; seen: Captured[] }> {
  const seen: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const u = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(req.method === 'POST' ? body : u.search);
      const c: Captured = {
        method: req.method ?? '',
        path: u.pathname,
        headers: req.headers,
        body,
        params,
      };
      seen.push(c);
      void handler(c, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, seen };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const vector = (value?: string) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: value === undefined ? [] : [{ metric: {}, value: [1767571200, value] }],
  },
});
/** The dialect probe: one range query counting the Temporal series by name. */
const isProbe = (c: Captured) =>
  c.path.endsWith('/query_range') && c.params.get('query')?.startsWith('count by (__name__)');
/** The probe's answer: these names have samples in the window. */
const namesMatrix = (names: readonly string[]) => ({
  status: 'success',
  data: {
    resultType: 'matrix',
    result: names.map((n) => ({ metric: { __name__: n }, values: [[1767571200, '1']] })),
  },
});
const TALLY_NAMES = ['state_transition_count_count', 'service_latency_count', 'workflow_success'];

/** Answers the dialect probe with tally names and every other query with `answer(query)`. */
function promWith(
  answer: (query: string, c: Captured, res: ServerResponse) => void | Promise<void>,
): Handler {
  return (c, res) => {
    if (isProbe(c)) return json(res, 200, namesMatrix(TALLY_NAMES));
    return answer(c.params.get('query') ?? '', c, res);
  };
}

const AT = Date.UTC(2026, 0, 5, 0, 30);
const THROUGHPUT = signalById(SIG.throughput) as SignalDef;
const FEW: SignalDef[] = [SIG.throughput, SIG.historyLatencyP99, SIG.failed, SIG.backlogCount].map(
  (id) => signalById(id) as SignalDef,
);

describe('tri-state mapping of bad answers', () => {
  it('connection refused: every value is an error, the engine says unknown', async () => {
    const port = await freePort(); // nothing listens there
    const source = createPrometheusSource({
      url: `http://127.0.0.1:${port}`,
      dialect: { server: 'tally', sdk: 'core' },
    });
    const snap = await source.snapshot(AT);
    await source.close();
    expect(Object.keys(snap.values)).toHaveLength(SIGNAL_CATALOG.length);
    for (const v of Object.values(snap.values)) {
      expect(v.status).toBe('error');
      if (v.status === 'error') expect(v.message).toMatch(/ECONNREFUSED/);
    }
    const e = evaluate(null, snap);
    expect([e.state, e.bottleneck]).toEqual(['unknown', 'unknown']);
    expect(source.lastProbe?.reachable).toBe(false);
  });

  it('slow source: a query past its timeout is an error, not a hang or a zero', async () => {
    const { url } = await fakePrometheus(
      promWith(async (_q, _c, res) => {
        await new Promise((r) => setTimeout(r, 3000));
        if (!res.destroyed) json(res, 200, vector('5'));
      }),
    );
    const source = createPrometheusSource({ url, timeoutMs: 200 });
    const snap = await source.snapshot(AT, [THROUGHPUT]);
    await source.close();
    expect(snap.values[SIG.throughput]).toEqual({
      status: 'error',
      message: 'timed out after 200 ms',
    });
  });

  it.each([
    [
      '5xx with a text body',
      (res: ServerResponse) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('service unavailable');
      },
      /^HTTP 503: service unavailable$/,
    ],
    [
      'a Prometheus error envelope',
      (res: ServerResponse) =>
        json(res, 422, {
          status: 'error',
          errorType: 'execution',
          error: 'query timed out in expression evaluation',
        }),
      /^HTTP 422: execution: query timed out/,
    ],
    [
      'malformed JSON',
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":{');
      },
      /^malformed response: not JSON$/,
    ],
    [
      'JSON that is not a Prometheus answer',
      (res: ServerResponse) => json(res, 200, { hello: 'world' }),
      /^malformed response/,
    ],
    [
      'a result of the wrong shape',
      (res: ServerResponse) =>
        json(res, 200, {
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: 'x' }] },
        }),
      /^malformed response: unexpected result shape$/,
    ],
    ['+Inf', (res: ServerResponse) => json(res, 200, vector('+Inf')), /non-finite value \+Inf/],
    ['-Inf', (res: ServerResponse) => json(res, 200, vector('-Inf')), /non-finite value -Inf/],
    [
      'two series where one was asked for',
      (res: ServerResponse) =>
        json(res, 200, {
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: { a: '1' }, value: [1, '1'] },
              { metric: { a: '2' }, value: [1, '2'] },
            ],
          },
        }),
      /expected one series, got 2/,
    ],
  ])('%s → error value', async (_name, reply, message) => {
    const { url } = await fakePrometheus(promWith((_q, _c, res) => reply(res)));
    const source = createPrometheusSource({ url });
    const snap = await source.snapshot(AT, [THROUGHPUT]);
    await source.close();
    const v = snap.values[SIG.throughput];
    expect(v?.status).toBe('error');
    if (v?.status === 'error') expect(v.message).toMatch(message);
  });

  it('NaN and empty results are absent (no data), never 0', async () => {
    const { url } = await fakePrometheus(
      promWith((q, _c, res) =>
        json(res, 200, q.includes('histogram_quantile') ? vector('NaN') : vector()),
      ),
    );
    const source = createPrometheusSource({ url });
    const snap = await source.snapshot(AT, FEW);
    await source.close();
    for (const s of FEW) expect(snap.values[s.id], s.id).toEqual({ status: 'absent' });
    expect(evaluate(null, snap).state).toBe('unknown');
  });

  it('a partial batch keeps the answers that came back and marks only the failures', async () => {
    const { url } = await fakePrometheus(
      promWith((q, _c, res) => {
        if (q === 'sum(rate(state_transition_count_count[60s]))')
          return json(res, 200, vector('42.5'));
        if (q.includes('approximate_backlog_count')) return json(res, 200, vector('0'));
        res.writeHead(500);
        res.end();
      }),
    );
    const source = createPrometheusSource({ url });
    const snap = await source.snapshot(AT, FEW);
    await source.close();
    expect(snap.values[SIG.throughput]).toEqual({ status: 'ok', value: 42.5 });
    // a real 0 from the source stays a 0
    expect(snap.values[SIG.backlogCount]).toEqual({ status: 'ok', value: 0 });
    expect(snap.values[SIG.historyLatencyP99]).toEqual({
      status: 'error',
      message: 'HTTP 500: Internal Server Error',
    });
    expect(snap.values[SIG.failed]?.status).toBe('error');
  });

  it('a scalar result is read as one value', async () => {
    const { url } = await fakePrometheus(
      promWith((_q, _c, res) =>
        json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '7'] } }),
      ),
    );
    const source = createPrometheusSource({ url });
    const snap = await source.snapshot(AT, [THROUGHPUT]);
    await source.close();
    expect(snap.values[SIG.throughput]).toEqual({ status: 'ok', value: 7 });
  });

  it('a closed source answers errors, it does not throw', async () => {
    const { url } = await fakePrometheus(promWith((_q, _c, res) => json(res, 200, vector('1'))));
    const source = createPrometheusSource({ url });
    await source.close();
    await source.close();
    const snap = await source.snapshot(AT, [THROUGHPUT]);
    expect(snap.values[SIG.throughput]?.status).toBe('error');
  });
});

describe('the wire', () => {
  it('POSTs form-encoded queries with the evaluation time in seconds', async () => {
    const { url, seen } = await fakePrometheus(
      promWith((_q, _c, res) => json(res, 200, vector('1'))),
    );
    const source = createPrometheusSource({ url });
    await source.snapshot(AT, [THROUGHPUT]);
    await source.close();
    const q = seen.find((c) => c.path === '/api/v1/query');
    expect(q?.method).toBe('POST');
    expect(q?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(q?.params.get('query')).toBe('sum(rate(state_transition_count_count[60s]))');
    expect(q?.params.get('time')).toBe(String(AT / 1000));
  });

  it.each([
    ['', '/api/v1/query'],
    ['/', '/api/v1/query'],
    ['/api/v1', '/api/v1/query'],
    ['/api/v1/query', '/api/v1/query'],
    ['/api/v1/query_range/', '/api/v1/query'],
    ['/prometheus', '/prometheus/api/v1/query'],
    ['/workspaces/ws-1234/api/v1/query', '/workspaces/ws-1234/api/v1/query'],
  ])('base URL %j is queried at %s (no doubled /api/v1)', async (suffix, expected) => {
    const { url, seen } = await fakePrometheus(
      promWith((_q, _c, res) => json(res, 200, vector('1'))),
    );
    const source = createPrometheusSource({ url: `${url}${suffix}` });
    const snap = await source.snapshot(AT, [THROUGHPUT]);
    await source.close();
    expect(snap.values[SIG.throughput]?.status).toBe('ok');
    expect(seen.filter((c) => !isProbe(c)).map((c) => c.path)).toEqual([expected]);
  });

  it('rejects URLs that are not http(s)', () => {
    expect(() => normalizePrometheusUrl('not a url')).toThrow(PrometheusConfigError);
    expect(() => normalizePrometheusUrl('ftp://x/')).toThrow(PrometheusConfigError);
  });

  it('sends bearer and basic credentials (URL userinfo becomes basic auth)', async () => {
    const { url, seen } = await fakePrometheus(
      promWith((_q, _c, res) => json(res, 200, vector('1'))),
    );
    const bearer = createPrometheusSource({ url, auth: { kind: 'bearer', token: 't0k3n' } });
    await bearer.snapshot(AT, [THROUGHPUT]);
    await bearer.close();
    const basic = createPrometheusSource({ url: url.replace('http://', 'http://user:p%40ss@') });
    await basic.snapshot(AT, [THROUGHPUT]);
    await basic.close();
    const auths = seen.map((c) => c.headers.authorization);
    expect(auths).toContain('Bearer t0k3n');
    expect(auths).toContain(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('keeps at most `concurrency` queries in flight', async () => {
    let inFlight = 0;
    let max = 0;
    const { url } = await fakePrometheus(
      promWith(async (_q, _c, res) => {
        inFlight++;
        max = Math.max(max, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        json(res, 200, vector('1'));
      }),
    );
    const source = createPrometheusSource({ url, concurrency: 3 });
    const snap = await source.snapshot(AT);
    await source.close();
    expect(Object.values(snap.values).every((v) => v.status === 'ok')).toBe(true);
    expect(max).toBeLessThanOrEqual(3);
    expect(max).toBeGreaterThan(1);
  });
});

describe('dialect probing', () => {
  it('reuses an undecided probe across cycles and probes again after 5 minutes', async () => {
    // A source without Temporal metrics leaves the dialect undecided, so it is probed again later.
    const { url, seen } = await fakePrometheus((c, res) => {
      if (c.path.endsWith('/query_range')) return json(res, 200, namesMatrix([]));
      return json(res, 200, vector());
    });
    const probes = () => seen.filter(isProbe).length;
    const source = createPrometheusSource({ url });
    await source.snapshot(AT, [THROUGHPUT]);
    await source.snapshot(AT + 30_000, [THROUGHPUT]);
    expect(source.lastProbe?.origin.server).toBe('default');
    expect(probes()).toBe(1);
    expect(source.requestCount).toBe(3); // one probe, one query per cycle
    await source.snapshot(AT + 5 * 60_000, [THROUGHPUT]);
    expect(probes()).toBe(2);
    // A replay lists the names of its own window: it may predate what the cycles saw.
    await source.range(AT - 86_400_000, AT - 86_400_000 + 60_000, 30_000, [THROUGHPUT]);
    expect(probes()).toBe(3);
    await source.close();
  });

  it('probes again on the next cycle after a probe that failed, reading the real dialect at once', async () => {
    let down = true;
    const { url, seen } = await fakePrometheus((c, res) => {
      if (down) return json(res, 503, { status: 'error', error: 'starting' });
      if (isProbe(c)) return json(res, 200, namesMatrix(TALLY_NAMES));
      return json(res, 200, vector());
    });
    const probes = () => seen.filter(isProbe).length;
    const source = createPrometheusSource({ url });
    await source.snapshot(AT, [THROUGHPUT]);
    expect(source.lastProbe?.reachable).toBe(false);
    down = false;
    await source.snapshot(AT + 30_000, [THROUGHPUT]);
    expect(probes()).toBe(2);
    expect(source.lastProbe?.reachable).toBe(true);
    await source.close();
  });
});

describe('the dialect probe on the wire', () => {
  it('asks for the window only: one evaluation for an hour, hour-long parts for a day', async () => {
    const { url, seen } = await fakePrometheus(promWith((_q, _c, res) => json(res, 200, vector())));
    const source = createPrometheusSource({ url });
    const hour = await source.probe(AT - 3_600_000, AT);
    const day = await source.probe(AT - 86_400_000, AT);
    await source.close();
    expect([hour.dialect.server, hour.origin.server, hour.serverSeriesSeen]).toEqual([
      'tally',
      'detected',
      3, // all three names are catalog server series
    ]);
    expect(day.reachable).toBe(true);
    const [h, d] = seen.filter(isProbe);
    expect(h?.method).toBe('POST');
    // `last_over_time(…[step])` at each evaluation covers (t − step, t]: the parts tile the window.
    expect(h?.params.get('query')).toMatch(
      /^count by \(__name__\) \(last_over_time\(\{__name__=~"[^"]*\|service_requests_total\|[^"]*"\}\[3600s\]\)\)$/,
    );
    expect([h?.params.get('start'), h?.params.get('end'), h?.params.get('step')]).toEqual([
      String(AT / 1000),
      String(AT / 1000),
      '3600',
    ]);
    expect(d?.params.get('query')).toContain('[3600s]');
    expect([d?.params.get('start'), d?.params.get('end'), d?.params.get('step')]).toEqual([
      String(AT / 1000 - 23 * 3600),
      String(AT / 1000),
      '3600',
    ]);
  });

  it('a month is cut into at most 30 parts, and a probe that answers no matrix is unreachable', async () => {
    const { url, seen } = await fakePrometheus((c, res) =>
      isProbe(c) ? json(res, 200, vector('1')) : json(res, 200, vector()),
    );
    const source = createPrometheusSource({ url });
    const p = await source.probe(AT - 31 * 86_400_000, AT);
    await source.close();
    expect(p.reachable).toBe(false);
    expect(p.warning).toMatch(/^cannot list metric names at 127\.0\.0\.1:\d+: malformed response/);
    const step = Number(seen[0]?.params.get('step'));
    expect(step).toBe((31 * 86_400) / 30);
    expect(seen[0]?.params.get('start')).toBe(String(AT / 1000 - 29 * step));
  });
});

describe('range queries for replay', () => {
  it('splits a long range below the points limit and matches values by timestamp', async () => {
    const step = 30_000;
    const from = AT;
    const to = AT + 99 * step; // 100 steps
    const { url, seen } = await fakePrometheus(
      promWith((_q, c, res) => {
        const start = Number(c.params.get('start'));
        const end = Number(c.params.get('end'));
        const values: [number, string][] = [];
        for (let t = start; t <= end; t += step / 1000) {
          const k = Math.round((t * 1000 - from) / step);
          if (k === 7) continue; // a gap: no point at step 7
          values.push([t, k === 11 ? 'NaN' : k === 12 ? '+Inf' : String(k)]);
        }
        json(res, 200, {
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: {}, values }] },
        });
      }),
    );
    const source = createPrometheusSource({ url, maxPointsPerRequest: 40 });
    const snaps = await source.range(from, to, step, [THROUGHPUT]);
    await source.close();
    const ranges = seen.filter((c) => c.path === '/api/v1/query_range' && !isProbe(c));
    expect(ranges).toHaveLength(3); // 40 + 40 + 20 points
    expect(ranges.map((c) => c.params.get('step'))).toEqual(['30', '30', '30']);
    expect(snaps).toHaveLength(100);
    expect(snaps.map((s) => s.observedAt)).toEqual(
      Array.from({ length: 100 }, (_, i) => from + i * step),
    );
    const v = (i: number) => snaps[i]?.values[SIG.throughput];
    expect(v(0)).toEqual({ status: 'ok', value: 0 });
    expect(v(45)).toEqual({ status: 'ok', value: 45 });
    expect(v(99)).toEqual({ status: 'ok', value: 99 });
    expect(v(7)).toEqual({ status: 'absent' });
    expect(v(11)).toEqual({ status: 'absent' });
    expect(v(12)?.status).toBe('error');
  });

  it('a failed chunk marks only its own steps, and replay reads them as unknown', async () => {
    const step = 30_000;
    const { url } = await fakePrometheus(
      promWith((_q, c, res) => {
        const start = Number(c.params.get('start'));
        if (start * 1000 > AT) {
          res.writeHead(502);
          res.end('bad gateway');
          return;
        }
        const values: [number, string][] = [];
        for (let t = start; t <= Number(c.params.get('end')); t += 30) values.push([t, '100']);
        json(res, 200, {
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: {}, values }] },
        });
      }),
    );
    const source = createPrometheusSource({ url, maxPointsPerRequest: 10 });
    const evals = await replayRange(source, {
      from: AT,
      to: AT + 19 * step,
      stepMs: step,
      signals: [THROUGHPUT],
    });
    await source.close();
    expect(evals.slice(0, 10).every((e) => e.state !== 'unknown')).toBe(true);
    expect(evals.slice(10).map((e) => e.state)).toEqual(Array(10).fill('unknown'));
  });
});

describe('response size limits', () => {
  const oversized: OversizedServer[] = [];
  afterEach(async () => {
    await Promise.all(oversized.splice(0).map((s) => s.close()));
  });
  const KiB = 1024;
  const TOTAL = 64 * 2 ** 20; // far past the socket buffers: a reader that reads it all finishes

  /** The probe answers tally names; the queries answer `big()` ? oversized : `vector('1')`. */
  async function serve(big: () => boolean, declareLength = false): Promise<OversizedServer> {
    const server = await startOversizedServer(
      (req) => {
        const params = new URLSearchParams(req.body);
        if (params.get('query')?.startsWith('count by (__name__)')) {
          return { body: JSON.stringify(namesMatrix(TALLY_NAMES)) };
        }
        if (big()) return 'oversized';
        const start = params.get('start');
        return {
          body: JSON.stringify(
            start === null
              ? vector('1')
              : {
                  status: 'success',
                  data: {
                    resultType: 'matrix',
                    result: [{ metric: {}, values: [[Number(start), '1']] }],
                  },
                },
          ),
        };
      },
      { totalBytes: TOTAL, filler: '[1,"1"],', declareLength },
    );
    oversized.push(server);
    return server;
  }

  it.each([
    ['streamed', false],
    ['with a Content-Length', true],
  ])(
    'an instant answer past the limit (%s) is an error naming it; the next one reads',
    async (_how, declared) => {
      let big = true;
      const server = await serve(() => big, declared);
      const source = createPrometheusSource({ url: server.url, maxResponseBytes: 256 * KiB });
      try {
        const first = await source.snapshot(AT, [THROUGHPUT]);
        expect(first.values[SIG.throughput]).toEqual({
          status: 'error',
          message: 'response body larger than the 256 KiB limit',
        });
        // The read stopped at the limit and closed the connection: the rest was never sent.
        expect(server.oversized).toHaveLength(1);
        expect(server.oversized[0]?.complete).toBe(false);
        big = false;
        const next = await source.snapshot(AT + 30_000, [THROUGHPUT]);
        expect(next.values[SIG.throughput]).toEqual({ status: 'ok', value: 1 });
      } finally {
        await source.close();
      }
    },
  );

  it('a range chunk past its limit marks its steps as errors; the other chunks read', async () => {
    let n = 0;
    const server = await serve(() => n++ === 0);
    const source = createPrometheusSource({
      url: server.url,
      maxRangeResponseBytes: 512 * KiB,
      maxPointsPerRequest: 2,
      concurrency: 1,
    });
    try {
      const snaps = await source.range(AT, AT + 3 * 30_000, 30_000, [THROUGHPUT]);
      expect(snaps.map((x) => x.values[SIG.throughput])).toEqual([
        { status: 'error', message: 'response body larger than the 512 KiB limit' },
        { status: 'error', message: 'response body larger than the 512 KiB limit' },
        { status: 'ok', value: 1 },
        { status: 'absent' },
      ]);
      expect(server.oversized[0]?.complete).toBe(false);
    } finally {
      await source.close();
    }
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() =>
      createPrometheusSource({ url: 'http://127.0.0.1:9', maxResponseBytes: 0 }),
    ).toThrow(PrometheusConfigError);
  });
});

describe('AMP SigV4', () => {
  it('signs with service aps and the default credential chain, over the exact body sent', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'session-token-example',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const { url, seen } = await fakePrometheus(
        promWith((_q, _c, res) => json(res, 200, vector('3'))),
      );
      const source = createPrometheusSource({
        url: `${url}/workspaces/ws-abc/api/v1/query`,
        auth: { kind: 'sigv4', region: 'eu-west-1' },
      });
      expect(source.kind).toBe('amp');
      const snap = await source.snapshot(AT, [THROUGHPUT]);
      await source.close();
      expect(snap.values[SIG.throughput]).toEqual({ status: 'ok', value: 3 });
      const q = seen.find((c) => c.path === '/workspaces/ws-abc/api/v1/query');
      if (q === undefined) throw new Error('no query captured');
      expect(q.headers['x-amz-security-token']).toBe('session-token-example');
      // Re-sign what arrived: the signature must cover the received body and headers exactly.
      await expectSigV4Valid(q, {
        service: 'aps',
        region: 'eu-west-1',
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
      });
    } finally {
      process.env = saved;
    }
  });

  it('takes the region from an aps-workspaces URL and refuses to sign without one', () => {
    expect(() =>
      createPrometheusSource({ url: 'http://127.0.0.1:9/x', auth: { kind: 'sigv4' }, env: {} }),
    ).toThrow(/region/);
    const s = createPrometheusSource({
      url: 'https://aps-workspaces.us-east-2.amazonaws.com/workspaces/ws-1/api/v1/query',
      auth: { kind: 'sigv4' },
      env: {},
    });
    expect(s.baseUrl).toBe('https://aps-workspaces.us-east-2.amazonaws.com/workspaces/ws-1');
  });
});
