import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { signalById } from '../../../shared/signals/catalog.js';
import type { SignalDef } from '../../../shared/signals/types.js';
import type { Snapshot } from '../../../shared/signals/value.js';
import { createScrapeSource, ScrapeSourceConfigError } from '../../../worker/sources/scrape.js';
import { startOversizedThenNormal } from '../../support/oversized-server.js';

/**
 * The direct-scrape source against real HTTP endpoints on loopback that serve Temporal-style
 * expositions (tally names), changing with every scrape like a live server.
 */

type Handler = (n: number) => { status?: number; body: string } | 'hang';

interface Endpoint {
  readonly url: string;
  scrapes(): number;
  close(): Promise<void>;
}

const open: Endpoint[] = [];

async function endpoint(handler: Handler): Promise<Endpoint> {
  let n = 0;
  const hanging: (() => void)[] = [];
  const server: Server = createServer((_req, res) => {
    const answer = handler(n++);
    if (answer === 'hang') {
      hanging.push(() => res.destroy());
      return;
    }
    res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const ep: Endpoint = {
    url: `http://127.0.0.1:${port}/metrics`,
    scrapes: () => n,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const h of hanging) h();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  open.push(ep);
  return ep;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

const sig = (id: string) => signalById(id) as SignalDef;
const SIGNALS = [
  'state_transitions.throughput_per_sec',
  'workflow_completion.success_per_sec',
  'persistence.latency_p99_ms',
  'frontend.request_rate_per_sec',
  'runtime.goroutines',
  'matching.backlog_count',
  'persistence.occ_conflicts_per_sec',
].map(sig);

/** A history process: state transitions, completions, persistence latency, goroutines. */
const history: Handler = (n) => ({
  body: [
    '# TYPE state_transition_count histogram',
    `state_transition_count_count{service_name="history",namespace="default"} ${100 + n * 50}`,
    `workflow_success{service_name="history",namespace="default"} ${10 + n * 5}`,
    `persistence_latency_bucket{service_name="history",operation="UpdateWorkflowExecution",le="0.01"} ${n * 90}`,
    `persistence_latency_bucket{service_name="history",operation="UpdateWorkflowExecution",le="0.1"} ${n * 100}`,
    `persistence_latency_bucket{service_name="history",operation="UpdateWorkflowExecution",le="+Inf"} ${n * 100}`,
    'num_goroutines{service_name="history"} 1000',
    '',
  ].join('\n'),
});

/** A frontend process: requests (one long poll among them) and its own goroutines. */
const frontend: Handler = (n) => ({
  body: [
    `service_requests{service_name="frontend",operation="StartWorkflowExecution"} ${n * 20}`,
    `service_requests{service_name="frontend",operation="PollWorkflowTaskQueue"} ${n * 1000}`,
    'num_goroutines{service_name="frontend"} 500',
    // The same series as the other frontend process: only the instance label tells them apart.
    'service_pending_requests{service_name="frontend",operation="StartWorkflowExecution"} 2',
    '',
  ].join('\n'),
});

const value = (s: Snapshot, id: string) => s.values[id];

describe('createScrapeSource', () => {
  it('has rates on the first call and merges endpoints, each series kept apart by instance', async () => {
    // Prepare
    const h = await endpoint(history);
    const f1 = await endpoint(frontend);
    const f2 = await endpoint(frontend);
    const source = createScrapeSource({ urls: [h.url, f1.url, f2.url], minIntervalMs: 200 });
    // Act
    const snap = await source.snapshot(1_764_288_000_000, [
      ...SIGNALS,
      sig('grpc.pending_requests'),
    ]);
    // Assess: two scrapes per endpoint on the first call, so rates already exist.
    expect(h.scrapes()).toBe(2);
    expect(snap.observedAt).toBe(1_764_288_000_000);
    expect(value(snap, 'state_transitions.throughput_per_sec')).toMatchObject({ status: 'ok' });
    const st = value(snap, 'state_transitions.throughput_per_sec');
    const sr = value(snap, 'frontend.request_rate_per_sec');
    // 50 transitions and 20 non-poll requests per frontend per scrape: whatever the interval,
    // the frontend rate (two processes) is 2 × 20/50 of the history one; long polls excluded.
    expect(
      st?.status === 'ok' && sr?.status === 'ok' ? sr.value / st.value : Number.NaN,
    ).toBeCloseTo(0.8, 9);
    // Goroutines: 1000 + 500 + 500 — identical series from two processes are both counted.
    expect(value(snap, 'runtime.goroutines')).toMatchObject({ status: 'ok', value: 2000 });
    expect(value(snap, 'grpc.pending_requests')).toMatchObject({ status: 'ok', value: 4 });
    // 90 of 100 observations ≤ 10 ms, the rest ≤ 100 ms: p99 = 10 + 90 × 9/10 = 91 ms.
    expect(value(snap, 'persistence.latency_p99_ms')).toMatchObject({ status: 'ok' });
    const p99 = value(snap, 'persistence.latency_p99_ms');
    expect(p99?.status === 'ok' ? p99.value : Number.NaN).toBeCloseTo(91, 9);
    // Series no endpoint exposes are absent, not 0.
    expect(value(snap, 'matching.backlog_count')).toEqual({ status: 'absent' });
    expect(value(snap, 'persistence.occ_conflicts_per_sec')).toEqual({ status: 'absent' });
    expect(source.dialect().server).toBe('tally');
    await source.close();
    await source.close();
  });

  it('turns a dead endpoint into errors for its signals and for what cannot be told absent', async () => {
    // Prepare: a first healthy cycle, so the source knows what each endpoint exposes.
    const h = await endpoint(history);
    const f = await endpoint(frontend);
    const source = createScrapeSource({ urls: [h.url, f.url], minIntervalMs: 50 });
    await source.snapshot(1);
    // Act: the frontend process dies.
    await f.close();
    const snap = await source.snapshot(2, SIGNALS);
    // Assess
    expect(value(snap, 'frontend.request_rate_per_sec')).toMatchObject({
      status: 'error',
      message: expect.stringContaining(f.url),
    });
    // A sum over both processes would be a partial sum: an error, not a smaller number.
    expect(value(snap, 'runtime.goroutines')).toMatchObject({ status: 'error' });
    // The history process's own signals still have values.
    expect(value(snap, 'state_transitions.throughput_per_sec')).toMatchObject({ status: 'ok' });
    expect(value(snap, 'persistence.latency_p99_ms')).toMatchObject({ status: 'ok' });
    // Nobody exposed it, but the dead process might now: "cannot see", not "absent".
    expect(value(snap, 'matching.backlog_count')).toMatchObject({ status: 'error' });
    await source.close();
  });

  it('reports HTTP errors, malformed expositions and timeouts as error values', async () => {
    const e500 = await endpoint(() => ({ status: 500, body: 'boom' }));
    const bad = await endpoint(() => ({ body: 'state_transition_count_count{x="1" 3\n' }));
    const slow = await endpoint(() => 'hang');
    for (const [ep, expected] of [
      [e500, /HTTP 500/],
      [bad, /exposition line 1/],
      [slow, /timed out after 300 ms/],
    ] as const) {
      const source = createScrapeSource({ urls: [ep.url], minIntervalMs: 0, timeoutMs: 300 });
      const snap = await source.snapshot(5, SIGNALS);
      for (const s of SIGNALS) {
        expect(value(snap, s.id), `${ep.url} ${s.id}`).toMatchObject({
          status: 'error',
          message: expect.stringMatching(expected),
        });
      }
      await source.close();
    }
  });

  it('turns an exposition past maxBodyBytes into errors naming the limit, and reads the next', async () => {
    const server = await startOversizedThenNormal(
      { contentType: 'text/plain', body: (history(1) as { body: string }).body },
      // Comment lines: read whole, the exposition would parse and the scrape succeed.
      { totalBytes: 64 * 2 ** 20, filler: '# filler\n', contentType: 'text/plain' },
    );
    const source = createScrapeSource({
      urls: [`${server.url}/metrics`],
      minIntervalMs: 0,
      maxBodyBytes: 256 * 1024,
    });
    try {
      const snap = await source.snapshot(1, SIGNALS);
      for (const s of SIGNALS) {
        expect(value(snap, s.id), s.id).toEqual({
          status: 'error',
          message: `scrape of ${server.url}/metrics failed: response body larger than the 256 KiB limit`,
        });
      }
      // Both scrapes of the first call stopped at the limit and closed the connection.
      expect(server.oversized.map((o) => o.complete)).toEqual([false, false]);
      server.settle();
      const next = await source.snapshot(2, SIGNALS);
      expect(value(next, 'runtime.goroutines')).toMatchObject({ status: 'ok', value: 1000 });
    } finally {
      await source.close();
      await server.close();
    }
  });

  it('a quantile over a window without observations is absent, a failed scrape is an error', async () => {
    // The histogram exists but never moves: no requests in the window, not a failed query.
    const idle = await endpoint(() => ({
      body: [
        '# TYPE persistence_latency histogram',
        'persistence_latency_bucket{service_name="history",le="0.01"} 90',
        'persistence_latency_bucket{service_name="history",le="0.1"} 100',
        'persistence_latency_bucket{service_name="history",le="+Inf"} 100',
        'persistence_latency_count{service_name="history"} 100',
        'persistence_latency_sum{service_name="history"} 2',
        '',
      ].join('\n'),
    }));
    const p99 = [sig('persistence.latency_p99_ms')];
    // Control: the same two scrapes of a histogram that moves give a value, so the absent value
    // below is "no observations", not "fewer than two scrapes".
    const busy = await endpoint(history);
    const control = createScrapeSource({ urls: [busy.url], minIntervalMs: 50 });
    expect(value(await control.snapshot(1, p99), 'persistence.latency_p99_ms')).toMatchObject({
      status: 'ok',
    });
    await control.close();
    const source = createScrapeSource({ urls: [idle.url], minIntervalMs: 50 });
    expect(value(await source.snapshot(1, p99), 'persistence.latency_p99_ms')).toEqual({
      status: 'absent',
    });
    await idle.close();
    const after = await source.snapshot(2, p99);
    expect(value(after, 'persistence.latency_p99_ms')).toMatchObject({
      status: 'error',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    await source.close();
  });

  it('detects the OpenTelemetry dialect from the names, and honours an override', async () => {
    const otel = await endpoint((n) => ({
      body: [
        `state_transition_count_ratio_count{service_name="history"} ${n * 10}`,
        `state_transition_count_ratio_bucket{service_name="history",le="+Inf"} ${n * 10}`,
        `service_requests_total{service_name="frontend",operation="StartWorkflowExecution"} ${n}`,
        `workflow_success_total{service_name="history"} ${n * 2}`,
        '',
      ].join('\n'),
    }));
    const auto = createScrapeSource({ urls: [otel.url], minIntervalMs: 50 });
    const snap = await auto.snapshot(1, SIGNALS);
    expect(auto.dialect().server).toBe('otel');
    expect(value(snap, 'workflow_completion.success_per_sec')).toMatchObject({ status: 'ok' });
    const forced = createScrapeSource({
      urls: [otel.url],
      minIntervalMs: 50,
      dialect: { server: 'tally' },
    });
    const snap2 = await forced.snapshot(1, SIGNALS);
    expect(forced.dialect().server).toBe('tally');
    expect(value(snap2, 'workflow_completion.success_per_sec')).toEqual({ status: 'absent' });
    await auto.close();
    await forced.close();
  });

  it('fails at construction on invalid options', () => {
    expect(() => createScrapeSource({ urls: [] })).toThrow(ScrapeSourceConfigError);
    expect(() => createScrapeSource({ urls: ['ftp://x/metrics'] })).toThrow(
      /invalid scrape source options/,
    );
    expect(() =>
      createScrapeSource({ urls: ['http://127.0.0.1:1/metrics'], timeoutMs: 0 }),
    ).toThrow(ScrapeSourceConfigError);
  });
});
