import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessAt, replayRange } from '../../../bin/commands/observe.js';
import type { ExplanationLine } from '../../../bin/commands/replay-explain.js';
import { DEFAULT_ENGINE_CONFIG } from '../../../shared/health/config.js';
import type { DecisionSummary } from '../../../shared/health/decide.js';
import { ENGINE_WIDTH, I, observeAll } from '../../../shared/health/observation.js';
import { SIGNAL_CATALOG } from '../../../shared/signals/catalog.js';
import { SIG } from '../../../shared/signals/ids.js';
import { createPrometheusSource, type DialectChoice } from '../../../worker/sources/prometheus.js';
import {
  EVENT_MIN,
  type FixtureServerDialect,
  generateOpenMetrics,
  SCENARIOS,
  scenarioStartSec,
} from '../../fixtures/openmetrics/scenarios.js';
import { answering, bedrockEnv, startFakeBedrock } from '../../support/bedrock-server.js';
import { freePort, type LocalPrometheus, startPrometheus } from '../../support/prometheus.js';

const exec = promisify(execFile);

interface ExplainedLine {
  readonly health_state: 'unknown' | 'happy' | 'stressed' | 'critical';
  readonly fired_gates: readonly string[];
  readonly explanation: ExplanationLine;
}
const STEP_MS = 30_000;
const DIALECTS: readonly FixtureServerDialect[] = ['tally', 'otel'];
// tally fixtures carry sdk-core workers (ms), otel fixtures Go SDK workers (seconds).
const SDK = { tally: 'core', otel: 'go' } as const;

function slot(dialect: FixtureServerDialect, id: string): { from: number; to: number } {
  const i = SCENARIOS.findIndex((s) => s.id === id);
  const scenario = SCENARIOS[i];
  if (scenario === undefined) throw new Error(`no scenario ${id}`);
  const from = scenarioStartSec(DIALECTS.indexOf(dialect) * SCENARIOS.length + i) * 1000;
  return { from, to: from + scenario.durationMin * 60_000 };
}

let prom: LocalPrometheus;

beforeAll(async () => {
  const docs: string[] = [];
  DIALECTS.forEach((d, di) => {
    SCENARIOS.forEach((s, i) => {
      docs.push(
        generateOpenMetrics(s, {
          server: d,
          sdk: SDK[d],
          startSec: scenarioStartSec(di * SCENARIOS.length + i),
        }),
      );
    });
  });
  prom = await startPrometheus(docs);
});

afterAll(async () => {
  await prom?.stop();
});

async function replay(
  dialect: FixtureServerDialect,
  id: string,
  choice: DialectChoice = { server: 'auto', sdk: dialect === 'otel' ? 'go' : 'auto' },
): Promise<DecisionSummary[]> {
  const { from, to } = slot(dialect, id);
  const source = createPrometheusSource({ url: prom.url, dialect: choice });
  let steps: DecisionSummary[];
  try {
    steps = await replayRange(source, { from, to, stepMs: STEP_MS });
  } finally {
    await source.close();
  }
  // Every step of the range, both ends included: a short or empty replay would let the
  // per-step loops below pass without looking at anything.
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (scenario === undefined) throw new Error(`no scenario ${id}`);
  expect(steps, `${dialect} ${id} steps`).toHaveLength(
    (scenario.durationMin * 60_000) / STEP_MS + 1,
  );
  return steps;
}

/** Steps from minute `m` on (the first minute has no rate yet: one sample per series). */
const from = (evals: readonly DecisionSummary[], m: number) => evals.slice((m * 60_000) / STEP_MS);
const states = (evals: readonly DecisionSummary[]) => new Set(evals.map((e) => e.state));

describe('names Prometheus actually stores', () => {
  it.each(DIALECTS)('%s: counters, timers and histograms under their exported names', async (d) => {
    const { from: f, to } = slot(d, 'persistence-pressure');
    const url = `${prom.url}/api/v1/label/__name__/values?start=${f / 1000}&end=${to / 1000}`;
    const body = (await (await fetch(url)).json()) as { data: string[] };
    const names = new Set(body.data);
    if (d === 'tally') {
      for (const n of [
        'workflow_success',
        'dsql_tx_conflict',
        'service_latency_bucket',
        'state_transition_count_count',
      ]) {
        expect(names.has(n), n).toBe(true);
      }
      expect(names.has('workflow_success_total')).toBe(false);
      expect(names.has('temporal_workflow_task_schedule_to_start_latency_bucket')).toBe(true);
    } else {
      for (const n of [
        'workflow_success_total',
        'dsql_tx_conflict_total',
        'service_latency_milliseconds_bucket',
        'state_transition_count_ratio_count',
        'temporal_sticky_cache_hit',
      ]) {
        expect(names.has(n), n).toBe(true);
      }
      expect(names.has('workflow_success')).toBe(false);
      // the never-incremented failure counter of this scenario exists; timeouts never do
      expect(names.has('workflow_timeout_total')).toBe(false);
    }
  });

  it.each(DIALECTS)('%s: the source detects the dialect from the names', async (d) => {
    const { from: f, to } = slot(d, 'healthy');
    const source = createPrometheusSource({ url: prom.url });
    const p = await source.probe(f, to);
    await source.close();
    expect(p.reachable).toBe(true);
    expect(p.dialect.server).toBe(d);
    expect(p.origin.server).toBe('detected');
    expect(p.serverSeriesSeen).toBeGreaterThan(10);
    expect(p.warning).toBeUndefined();
  });
});

describe('every catalog signal against real Prometheus', () => {
  it('resolves without query errors and agrees across dialects', async () => {
    const values = await Promise.all(
      DIALECTS.map(async (d) => {
        const { from: f } = slot(d, 'persistence-pressure');
        const source = createPrometheusSource({
          url: prom.url,
          dialect: { server: 'auto', sdk: SDK[d] },
        });
        const snap = await source.snapshot(f + 20 * 60_000);
        await source.close();
        return snap.values;
      }),
    );
    const [tally, otel] = values as [(typeof values)[0], (typeof values)[0]];
    for (const s of SIGNAL_CATALOG) {
      const a = tally[s.id];
      const b = otel[s.id];
      expect(a?.status, `${s.id} tally: ${JSON.stringify(a)}`).not.toBe('error');
      expect(b?.status, `${s.id} otel`).toBe(a?.status);
      if (a?.status === 'ok' && b?.status === 'ok') {
        // Same load, different names and units: the unit conversions must land on one number.
        expect(b.value, s.id).toBeCloseTo(a.value, 6);
      }
    }
    const v = (id: string) => {
      const x = tally[id];
      return x?.status === 'ok' ? x.value : Number.NaN;
    };
    expect(v(SIG.throughput)).toBeGreaterThan(76);
    expect(v(SIG.throughput)).toBeLessThan(84);
    expect(v(SIG.persistenceLatencyP99)).toBeGreaterThan(500); // 800 ms in the (500, 1000] bucket
    expect(v(SIG.persistenceLatencyP99)).toBeLessThanOrEqual(1000);
    expect(v(SIG.occConflicts)).toBeGreaterThan(27);
    expect(v(SIG.occConflicts)).toBeLessThan(33);
    expect(v(SIG.poolUtilization)).toBeCloseTo(95, 6);
    expect(v(SIG.wftScheduleToStartP95)).toBeLessThanOrEqual(10); // 8 ms
    // lazily-created counters that never fired are absent, never 0
    expect(tally[SIG.txExhausted]).toEqual({ status: 'absent' });
    expect(tally[SIG.frontendErrors]).toEqual({ status: 'absent' });
    // failed = workflow_failed alone (timeout/terminate never created): still a value
    expect(v(SIG.failed)).toBeGreaterThan(0);
  });
});

describe.each(DIALECTS)('replay scenarios in the %s dialect', (d) => {
  it('healthy load: happy, healthy bottleneck, mid-scale', async () => {
    const e = await replay(d, 'healthy');
    expect(e).toHaveLength(61);
    expect(e[0]?.state).toBe('unknown'); // one sample per series: no rate yet
    expect(e[0]?.reason).toBe('no_progress_data');
    for (const x of from(e, 1)) {
      expect([x.state, x.bottleneck, x.scaleBand]).toEqual(['happy', 'healthy', 'mid-scale']);
    }
  });

  it('idle: happy and idle, not stuck', async () => {
    const e = await replay(d, 'idle');
    for (const x of from(e, 1))
      expect([x.state, x.idle, x.systemBusy]).toEqual(['happy', true, false]);
  });

  it('startup: unknown before the first rate, never critical, happy once running', async () => {
    const e = await replay(d, 'startup');
    expect(e[0]?.state).toBe('unknown');
    expect(states(e).has('critical')).toBe(false);
    expect(e.at(-1)?.state).toBe('happy');
  });

  it('retention storm: system busy, never idle or critical', async () => {
    const e = await replay(d, 'retention-storm');
    for (const x of from(e, 1)) {
      expect(x.systemBusy).toBe(true);
      expect(x.idle).toBe(false);
      expect(x.state).not.toBe('critical');
      expect(x.firedGates).not.toContain('critical.throughput');
    }
  });

  it('throughput collapse: happy, then critical after debounce, server-limited, band kept', async () => {
    const e = await replay(d, 'throughput-collapse');
    for (const x of e.slice(2, (EVENT_MIN * 60_000) / STEP_MS)) expect(x.state).toBe('happy');
    const firstBad = e.findIndex((x, i) => i > 1 && x.state !== 'happy');
    const firstCritical = e.findIndex((x) => x.state === 'critical');
    expect(firstBad).toBeGreaterThan(0);
    expect(firstCritical - firstBad).toBeGreaterThanOrEqual(2); // 3 critical cycles in a row
    const last = e.at(-1);
    expect(last?.state).toBe('critical');
    expect(last?.bottleneck).toBe('server_limited');
    expect(last?.scaleBand).toBe('mid-scale');
    expect(last?.firedGates).toContain('critical.throughput');
  });

  it('persistence pressure with OCC conflicts: stressed, server-limited', async () => {
    const e = await replay(d, 'persistence-pressure');
    // The band starts at starter and moves up after its dwell; the history gate is mid-scale's.
    for (const x of from(e, 1))
      expect([x.state, x.bottleneck]).toEqual(['stressed', 'server_limited']);
    for (const x of from(e, 3)) {
      expect([x.state, x.bottleneck]).toEqual(['stressed', 'server_limited']);
      expect(x.firedGates).toContain('stressed.persistence_latency');
      expect(x.firedGates).toContain('stressed.history_latency');
    }
  });

  it('worker starvation: stressed, worker-limited', async () => {
    const e = await replay(d, 'worker-starvation');
    for (const x of from(e, 1)) {
      expect([x.state, x.bottleneck]).toEqual(['stressed', 'worker_limited']);
      // Starved workers show on both sides: tasks wait in matching, and the SDK sees the wait.
      expect(x.firedGates).toEqual(['stressed.matching_backlog', 'stressed.schedule_to_start']);
    }
  });

  it('metrics outage: happy, then unknown once the series stop, never happy again', async () => {
    const e = await replay(d, 'metrics-outage');
    for (const x of e.slice(2, (EVENT_MIN * 60_000) / STEP_MS)) expect(x.state).toBe('happy');
    for (const x of from(e, EVENT_MIN + 2)) {
      expect([x.state, x.bottleneck]).toEqual(['unknown', 'unknown']);
    }
  });
});

describe('dialect overrides', () => {
  it('reads Go SDK seconds as ms only when told: auto keeps sdk-core milliseconds', async () => {
    const { from: f } = slot('otel', 'worker-starvation');
    const at = f + 10 * 60_000;
    const read = async (sdk: 'auto' | 'go') => {
      const source = createPrometheusSource({ url: prom.url, dialect: { sdk } });
      const v = (await source.snapshot(at)).values[SIG.wftScheduleToStartP95];
      await source.close();
      return v?.status === 'ok' ? v.value : Number.NaN;
    };
    // 8 s waits: Go's tally names carry no unit, so only the override reads them as 8000 ms.
    const go = await read('go');
    const auto = await read('auto');
    expect(go).toBeGreaterThan(5000);
    expect(go).toBeLessThanOrEqual(10_000);
    expect(auto).toBeCloseTo(go / 1000, 6);
  });

  it('a wrong server dialect reads nothing and says unknown, never happy', async () => {
    const e = await replay('otel', 'healthy', { server: 'tally', sdk: 'go' });
    expect(states(e)).toEqual(new Set(['unknown']));
  });
});

describe('assess at one instant', () => {
  it('evaluates one observation cycle in one batch of queries', async () => {
    const { from: f } = slot('tally', 'persistence-pressure');
    const source = createPrometheusSource({ url: prom.url });
    const e = await assessAt(source, f + 10 * 60_000);
    expect(e.state).toBe('stressed');
    expect(e.bottleneck).toBe('server_limited');
    // one dialect probe plus one query per catalog signal
    expect(source.requestCount).toBe(SIGNAL_CATALOG.length + 1);
    await source.close();
  });
});

describe('copilot CLI against real Prometheus', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    exec(process.execPath, ['bin/copilot.js', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, ...env },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('replay prints one JSON line per step (URL pasted with /api/v1/query)', async () => {
    const { from: f, to } = slot('otel', 'throughput-collapse');
    const r = await cli([
      'replay',
      '--prometheus-url',
      `${prom.url}/api/v1/query`,
      '--from',
      new Date(f).toISOString(),
      '--to',
      new Date(to).toISOString(),
      '--step',
      '30s',
      '--sdk-dialect',
      'go',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(71);
    expect(lines[0]?.timestamp).toBe(new Date(f).toISOString());
    for (const k of [
      'timestamp',
      'health_state',
      'scale_band',
      'bottleneck',
      'idle',
      'system_busy',
      'fired_gates',
    ]) {
      expect(lines[10], k).toHaveProperty(k);
    }
    expect(lines[10]?.health_state).toBe('happy');
    expect(lines.at(-1)?.health_state).toBe('critical');
    expect(lines.at(-1)?.bottleneck).toBe('server_limited');
  });

  it('replay --changes prints only the steps where the state moved', async () => {
    const { from: f, to } = slot('tally', 'throughput-collapse');
    const r = await cli([
      'replay',
      '--prometheus-url',
      prom.url,
      '--from',
      new Date(f).toISOString(),
      '--to',
      new Date(to).toISOString(),
      '--changes',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const states = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { health_state: string }).health_state);
    // unknown (no rate yet) → happy → stressed while debouncing → critical, nothing repeated.
    expect(states).toEqual(['unknown', 'happy', 'stressed', 'critical']);
  });

  /** `copilot replay --changes --explain` over the collapse, as JSON lines. */
  const replayExplained = async (env: NodeJS.ProcessEnv = {}) => {
    const { from: f, to } = slot('tally', 'throughput-collapse');
    const range = ['--from', new Date(f).toISOString(), '--to', new Date(to).toISOString()];
    const r = await cli(
      ['replay', '--prometheus-url', prom.url, ...range, '--changes', '--explain'],
      env,
    );
    expect(r.code).toBe(0);
    // Nothing of ours on stderr (the AWS SDK warns there about Node 20 when a client is made).
    expect(r.stderr).not.toMatch(/^copilot:/m);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ExplainedLine);
  };

  it('replay --changes --explain explains each change with the rules, grounded in the runbooks', async () => {
    const lines = await replayExplained();
    expect(lines.map((l) => l.health_state)).toEqual(['unknown', 'happy', 'stressed', 'critical']);
    const word = { unknown: 'Unknown', happy: 'Happy', stressed: 'Stressed', critical: 'Critical' };
    for (const l of lines) {
      expect(l.explanation.summary.startsWith(`${word[l.health_state]}:`)).toBe(true);
      expect(l.explanation).toMatchObject({
        explainer: 'rules',
        fallback_reason: null,
        llm_calls: 0,
      });
      expect(l.explanation.sources.length).toBeGreaterThan(0);
      for (const s of l.explanation.sources) expect(s).toMatch(/^docs\/rag\/[a-z-]+\.md$/);
    }
    const critical = lines[3] as ExplainedLine;
    for (const g of critical.fired_gates.filter((g) => g.startsWith('critical.')))
      expect(critical.explanation.summary).toContain(`(${g})`);
    expect(critical.explanation.summary).toMatch(/Runbook: "[^"]+"/);
    expect(critical.explanation.issues.some((i) => i.severity === 'critical')).toBe(true);
  });

  it('replay --explain on Bedrock: the model explains until the hourly budget, then the rules', async () => {
    const fake = await startFakeBedrock({
      converse: answering('the replayed cluster, as the model reads it.'),
    });
    try {
      // Two explanations of two calls each, then the budget is spent.
      const lines = await replayExplained(
        bedrockEnv(fake.url, { COPILOT_EXPLAIN_CALLS_PER_HOUR: '4' }),
      );
      expect(lines.map((l) => l.explanation.explainer)).toEqual([
        'bedrock',
        'bedrock',
        'rules',
        'rules',
      ]);
      expect(lines[0]?.explanation.summary).toBe(
        'Unknown: the replayed cluster, as the model reads it.',
      );
      expect(lines[0]?.explanation.model_id).toBe('us.anthropic.claude-opus-4-6-v1');
      expect(lines[0]?.explanation.llm_calls).toBe(2);
      expect(lines[0]?.explanation.input_tokens).toBeGreaterThan(0);
      expect(lines[2]?.explanation.fallback_reason).toMatch(/^budget: 4 calls/);
      expect(lines[3]?.explanation.summary).toMatch(/^Critical: /);
      expect(fake.converse).toHaveLength(4);
      expect(fake.converse.map((c) => c.modelId)).toEqual([
        'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        'us.anthropic.claude-opus-4-6-v1',
        'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        'us.anthropic.claude-opus-4-6-v1',
      ]);
    } finally {
      await fake.close();
    }
  });

  it('replay --explain refuses an unknown model before reading anything', async () => {
    const r = await cli(
      [
        'replay',
        '--prometheus-url',
        prom.url,
        '--from',
        '2026-01-05T00:00:00Z',
        '--to',
        '2026-01-05T01:00:00Z',
        '--explain',
      ],
      bedrockEnv('http://127.0.0.1:9', { COPILOT_BEDROCK_RESEARCHER_MODEL: 'anthropic.claude-v2' }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown Bedrock model "anthropic\.claude-v2": use one of /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('assess --format line prints the same record for one instant', async () => {
    const { from: f } = slot('tally', 'worker-starvation');
    const at = new Date(f + 10 * 60_000).toISOString();
    const r = await cli(['assess', '--prometheus-url', prom.url, '--at', at, '--format', 'line']);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout) as Record<string, unknown>;
    expect([line.timestamp, line.health_state, line.bottleneck]).toEqual([
      at,
      'stressed',
      'worker_limited',
    ]);
  });

  it('warns on stderr when the source has none of the server metrics', async () => {
    const at = new Date(Date.UTC(2025, 0, 1)).toISOString();
    const r = await cli(['assess', '--prometheus-url', prom.url, '--at', at, '--format', 'line']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/has none of the Temporal server's metrics/);
    expect((JSON.parse(r.stdout) as { health_state: string }).health_state).toBe('unknown');
  });

  it('an unreachable source exits 1 with one line naming the cause', async () => {
    const port = await freePort();
    const r = await cli([
      'replay',
      '--prometheus-url',
      `http://127.0.0.1:${port}`,
      '--from',
      '2026-01-05T00:00:00Z',
      '--to',
      '2026-01-05T01:00:00Z',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^copilot: cannot list metric names at 127\.0\.0\.1:\d+: .*ECONNREFUSED\n$/,
    );
    expect(r.stdout).toBe('');
    const s = await cli(['assess', '--scrape-url', `http://127.0.0.1:${port}/metrics`]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/^copilot: cannot scrape /);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [
      ['--from', '2026-01-05T01:00:00Z', '--to', '2026-01-05T00:00:00Z'],
      2,
      /--from must be before --to/,
    ],
    [
      ['--from', '2026-01-05T00:00:00Z', '--to', '2026-01-05T01:00:00Z', '--step', '0s'],
      2,
      /invalid step/,
    ],
    [['--from', 'yesterday', '--to', '2026-01-05T01:00:00Z'], 2, /invalid --from/],
  ])('rejects bad input %j with one line', async (args, code, message) => {
    const r = await cli(['replay', '--prometheus-url', prom.url, ...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

describe('replay columns', () => {
  it.each(DIALECTS)(
    '%s: the engine-signal columns equal snapshots of every signal read into columns',
    async (d) => {
      const { from, to } = slot(d, 'worker-starvation');
      const source = createPrometheusSource({ url: prom.url, dialect: { sdk: SDK[d] } });
      try {
        const cols = await source.rangeColumns(from, to, STEP_MS);
        const columnRequests = source.requestCount;
        const snaps = await source.range(from, to, STEP_MS);
        const viaSnapshots = observeAll(snaps, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec);
        expect(cols.rows).toBe(snaps.length);
        expect([...cols.observedAt]).toEqual([...viaSnapshots.observedAt]);
        expect([...cols.s]).toEqual([...viaSnapshots.s]);
        expect([...cols.n]).toEqual([...viaSnapshots.n]);
        // Real values, not a grid of NaN: throughput is there after the first minute.
        expect(cols.n[2 * ENGINE_WIDTH + I.throughput]).toBeGreaterThan(0);
        // One probe plus one range query per engine signal with a query; the whole catalog costs more.
        expect(columnRequests).toBeLessThan(SIGNAL_CATALOG.length);
      } finally {
        await source.close();
      }
    },
  );
});
