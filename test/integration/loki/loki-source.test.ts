import { afterEach, describe, expect, it } from 'vitest';
import { createLokiSource, LokiSourceConfigError } from '../../../worker/sources/loki.js';
import { type FakeLoki, type LogStream, startFakeLoki } from '../../support/loki-server.js';
import { startOversizedThenNormal } from '../../support/oversized-server.js';

/**
 * The Loki narrative source against a local server speaking Loki's `query_range` wire format
 * (no Loki binary runs here). The label sets are the two real deployments': ECS Alloy sidecars
 * (`job`, `service_name`, `cluster`, `task_id`, `level`) and docker-compose Alloy (`container`,
 * `service`).
 */

const AT = 1_764_288_000_000;
/** The window most tests ask for: the minute before AT. */
const FROM = AT - 60_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

const ecsHistory: LogStream = {
  labels: {
    job: 'temporal',
    service_name: 'history',
    cluster: 'bench',
    task_id: 't1',
    level: 'error',
  },
  entries: [
    [ns(AT - 5_000), 'level=error msg="persistence: SQLSTATE 40001 (OC000) conflict"'],
    [ns(AT - 4_000), 'level=error msg="Shard ownership lost" shard-id=7'],
    [ns(AT - 3_000), 'level=warn msg="sqlstate 40001 retrying"'],
    [ns(AT - 2_000), 'level=info msg="nothing to see"'],
    // Outside the window asked for (the minute before AT): must not count.
    [ns(AT - 120_000), 'level=error msg="SQLSTATE 40001 long ago"'],
    // `end` is exclusive: a line stamped exactly at the evaluation instant is not in range.
    [ns(AT), 'level=error msg="SQLSTATE 40001 at the boundary"'],
  ],
};
const composeMatching: LogStream = {
  labels: { container: 'temporal-matching-1', service: 'matching' },
  entries: [
    [ns(AT - 10_000), 'rpc error: code = DeadlineExceeded desc = context deadline exceeded'],
    [ns(AT - 9_000), 'no poller for task queue "orders"'],
  ],
};
const unrelated: LogStream = {
  labels: { job: 'nginx', container: 'proxy' },
  entries: [[ns(AT - 1_000), 'upstream connection refused']],
};

const fakes: FakeLoki[] = [];
async function loki(streams: LogStream[]): Promise<FakeLoki> {
  const f = await startFakeLoki(streams);
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('createLokiSource', () => {
  it('counts patterns per service across ECS and compose label sets by default', async () => {
    // Prepare
    const f = await loki([ecsHistory, composeMatching, unrelated]);
    const source = createLokiSource({ url: f.url });
    // Act
    const r = await source.narrative(FROM, AT);
    // Assess
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.narrative.limitHit).toBe(false);
    expect(r.narrative.patterns.map((p) => [p.patternId, p.service, p.count])).toEqual([
      ['sqlstate_40001', 'history', 2],
      ['deadline_exceeded', 'matching', 1],
      ['dsql_oc000', 'history', 1],
      ['no_poller', 'matching', 1],
      ['shard_ownership', 'history', 1],
    ]);
    // Backward direction: the newest matching line is the sample.
    expect(r.narrative.patterns[0]?.sample).toBe('level=warn msg="sqlstate 40001 retrying"');
    expect({ from: r.from, to: r.to }).toEqual({ from: AT - 60_000, to: AT });
    // The wire: one query per default selector, ns range, limit, backward, the pattern filter.
    expect(f.requests).toHaveLength(2);
    for (const p of f.requests) {
      expect(p.get('start')).toBe(`${ns(AT - 60_000)}`);
      expect(p.get('end')).toBe(`${ns(AT)}`);
      expect(p.get('limit')).toBe('1000');
      expect(p.get('direction')).toBe('backward');
      expect(p.get('query')).toMatch(
        /^\{(job|container)=~"[^"]+"\} \|~ `\(\?i\)\(deadline exceeded\|/,
      );
    }
    await source.close();
  });

  it('queries exactly the window it is asked for: start inclusive, end exclusive', async () => {
    // Prepare
    const f = await loki([ecsHistory, composeMatching]);
    const source = createLokiSource({ url: f.url, selectors: ['{service_name="history"}'] });
    // Act: two seconds that hold the lines stamped AT-4s and AT-3s, not those at AT-5s or AT-2s.
    const r = await source.narrative(AT - 4_000, AT - 2_000);
    // Assess
    expect(f.requests.map((p) => [p.get('start'), p.get('end')])).toEqual([
      [`${ns(AT - 4_000)}`, `${ns(AT - 2_000)}`],
    ]);
    expect(r).toMatchObject({ status: 'ok', from: AT - 4_000, to: AT - 2_000 });
    if (r.status !== 'ok') return;
    expect(r.narrative.patterns.map((p) => [p.patternId, p.count])).toEqual([
      ['shard_ownership', 1],
      ['sqlstate_40001', 1],
    ]);
    // Another window, another range: nothing is remembered from a lookback of its own.
    await source.narrative(AT - 130_000, AT - 110_000);
    expect(f.requests.map((p) => [p.get('start'), p.get('end')])[1]).toEqual([
      `${ns(AT - 130_000)}`,
      `${ns(AT - 110_000)}`,
    ]);
    await source.close();
  });

  it('refuses an empty or reversed window without asking Loki', async () => {
    const f = await loki([ecsHistory]);
    const source = createLokiSource({ url: f.url });
    for (const [from, to] of [
      [AT, AT],
      [AT, AT - 1],
      [Number.NaN, AT],
    ] as const) {
      expect(await source.narrative(from, to)).toMatchObject({
        status: 'error',
        message: expect.stringContaining('invalid log window'),
      });
    }
    expect(f.requests).toHaveLength(0);
    await source.close();
  });

  it('counts a line two selectors both return once, and equal lines of two streams twice', async () => {
    // Prepare: both default selectors select this stream (job and container both say temporal).
    const both: LogStream = {
      labels: { job: 'temporal', container: 'temporal-history-1', service: 'history' },
      entries: [
        [ns(AT - 3_000), 'shard ownership lost'],
        [ns(AT - 2_000), 'shard ownership lost'],
      ],
    };
    // Same line, same instant, another stream (its labels differ only in one value).
    const twin: LogStream = {
      labels: { job: 'temporal', container: 'temporal-history-2', service: 'history' },
      entries: [[ns(AT - 3_000), 'shard ownership lost']],
    };
    const f = await loki([both, twin]);
    const source = createLokiSource({ url: f.url });
    // Act
    const r = await source.narrative(FROM, AT);
    // Assess
    expect(f.requests).toHaveLength(2);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.narrative.linesScanned).toBe(3);
    expect(r.narrative.patterns.map((p) => [p.patternId, p.service, p.count, p.atLeast])).toEqual([
      ['shard_ownership', 'history', 3, false],
    ]);
    await source.close();
  });

  it('flags "at least" counts from each query\'s own limit, not from the merged lines', async () => {
    const f = await loki([composeMatching, ecsHistory]);
    const source = createLokiSource({
      url: f.url,
      selectors: ['{container="temporal-matching-1"}', '{service_name="history"}'],
      limit: 2,
    });
    // One line from each selector: two lines merged, as many as the limit, yet none was cut off.
    const under = await source.narrative(AT - 9_500, AT - 4_500);
    expect(under.status).toBe('ok');
    if (under.status !== 'ok') return;
    expect(under.narrative.linesScanned).toBe(2);
    expect(under.narrative.limitHit).toBe(false);
    expect(under.narrative.patterns.every((p) => !p.atLeast)).toBe(true);
    // Three history lines in range: that query is cut at two, and every count becomes a floor.
    const over = await source.narrative(AT - 9_500, AT);
    expect(over.status).toBe('ok');
    if (over.status !== 'ok') return;
    expect(over.narrative.limitHit).toBe(true);
    expect(over.narrative.patterns.length).toBeGreaterThan(0);
    expect(over.narrative.patterns.every((p) => p.atLeast)).toBe(true);
    await source.close();
  });

  it('takes a custom selector and reports "at least" counts when the limit is hit', async () => {
    const f = await loki([ecsHistory, composeMatching]);
    const source = createLokiSource({
      url: `${f.url}/loki/api/v1/query_range`,
      selectors: ['{service_name="history"}'],
      limit: 2,
    });
    const r = await source.narrative(FROM, AT);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    // Three matching history lines in range, limit 2: the newest two only, flagged as a floor.
    expect(r.narrative.limitHit).toBe(true);
    expect(r.narrative.linesScanned).toBe(2);
    expect(r.narrative.patterns.map((p) => [p.patternId, p.count, p.atLeast])).toEqual([
      ['shard_ownership', 1, true],
      ['sqlstate_40001', 1, true],
    ]);
    expect(f.requests[0]?.get('query')?.startsWith('{service_name="history"} |~')).toBe(true);
    await source.close();
  });

  it('answers error values, never empty counts, when Loki fails', async () => {
    const f = await loki([ecsHistory]);
    const source = createLokiSource({ url: f.url, timeoutMs: 300 });
    const cases = [
      ['http-500', /Loki HTTP 500: rpc error/],
      ['malformed-json', /malformed JSON/],
      ['wrong-shape', /unexpected shape/],
      ['hang', /timed out after 300 ms/],
    ] as const;
    for (const [mode, message] of cases) {
      f.mode = mode;
      const r = await source.narrative(FROM, AT);
      expect(r, mode).toMatchObject({ status: 'error', message: expect.stringMatching(message) });
    }
    await f.close();
    expect(await source.narrative(FROM, AT)).toMatchObject({
      status: 'error',
      message: expect.stringContaining('Loki query failed'),
    });
    await source.close();
  });

  it('passes Loki query errors through, as an invalid selector gets HTTP 400', async () => {
    const f = await loki([ecsHistory]);
    const source = createLokiSource({ url: f.url, selectors: ['{job=~".*"}'] });
    expect(await source.narrative(FROM, AT)).toMatchObject({
      status: 'error',
      message: expect.stringContaining('Loki HTTP 400'),
    });
    await source.close();
  });

  it('sends credentials in the URL as basic auth, which fetch refuses in the URL itself', async () => {
    const f = await loki([ecsHistory]);
    const withUserinfo = f.url.replace('http://', 'http://user:p%40ss@');
    const source = createLokiSource({ url: `${withUserinfo}/loki/api/v1/query_range` });
    const r = await source.narrative(FROM, AT);
    await source.close();
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.narrative.patterns.map((p) => [p.patternId, p.count])).toContainEqual([
      'shard_ownership',
      1,
    ]);
    const basic = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    expect(f.headers.map((h) => h.authorization)).toEqual([basic, basic]);
    // An explicit header, of any case, wins over the URL's credentials.
    const explicit = createLokiSource({
      url: withUserinfo,
      headers: { Authorization: 'Bearer t0k3n' },
    });
    expect((await explicit.narrative(FROM, AT)).status).toBe('ok');
    await explicit.close();
    expect(f.headers.slice(2).map((h) => h.authorization)).toEqual([
      'Bearer t0k3n',
      'Bearer t0k3n',
    ]);
  });

  it('fails at construction on invalid options', () => {
    expect(() => createLokiSource({ url: 'not a url' })).toThrow(LokiSourceConfigError);
    expect(() => createLokiSource({ url: 'http://user:%zz@loki:3100' })).toThrow(
      LokiSourceConfigError,
    );
    expect(() => createLokiSource({ url: 'http://loki:3100', selectors: ['job="x"'] })).toThrow(
      /stream selector/,
    );
  });

  it('turns a response past maxResponseBytes into an error naming the limit, and reads the next', async () => {
    const empty = { status: 'success', data: { resultType: 'streams', result: [] } };
    const server = await startOversizedThenNormal(
      { body: JSON.stringify(empty) },
      { totalBytes: 64 * 2 ** 20 },
    );
    const source = createLokiSource({
      url: server.url,
      selectors: ['{job="temporal"}'],
      maxResponseBytes: 128 * 1024,
    });
    try {
      expect(await source.narrative(FROM, AT)).toEqual({
        status: 'error',
        message: 'Loki query failed: response body larger than the 128 KiB limit',
      });
      expect(server.oversized.map((o) => o.complete)).toEqual([false]);
      server.settle();
      expect(await source.narrative(FROM, AT)).toMatchObject({ status: 'ok' });
    } finally {
      await source.close();
      await server.close();
    }
  });
});
