import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENGINE_CONFIG,
  resolveEngineConfig,
  SCALE_BANDS,
  type ThresholdSet,
} from '../../../shared/health/config.js';
import { compileEngine, replayColumns, summarize } from '../../../shared/health/decide.js';
import { evaluate } from '../../../shared/health/engine.js';
import { GATE_COUNT, GATE_IDS } from '../../../shared/health/gates.js';
import {
  ABSENT,
  ENGINE_IDS,
  ENGINE_WIDTH,
  ERROR,
  I,
  OK,
  observationColumns,
  observeAll,
  observeInto,
  STALE,
  STATUS_NAMES,
} from '../../../shared/health/observation.js';
import { SIG } from '../../../shared/signals/ids.js';
import { ObservedStatusSchema } from '../../../shared/signals/value.js';
import { HEALTHY, snapshot, T0, withSpec } from '../../helpers/snapshots.js';

/** Each gate's threshold, named from the configuration (the kernel keeps them by position). */
const EXPECTED: Record<string, (t: ThresholdSet) => number> = {
  'critical.throughput': (t) => t.criticalThroughputMinPerSec,
  'critical.completion_rate': (t) => t.criticalCompletionRateMin,
  'critical.history_backlog': (t) => t.criticalHistoryBacklogMaxSec,
  'critical.processing': (t) => t.criticalProcessingMinPerSec,
  'critical.persistence_errors': (t) => t.criticalPersistenceErrorsMaxPerSec,
  'stressed.history_latency': (t) => t.stressedHistoryLatencyP99MaxMs,
  'stressed.history_backlog': (t) => t.stressedHistoryBacklogSec,
  'stressed.shard_churn': (t) => t.stressedShardChurnMaxPerSec,
  'stressed.frontend_latency': (t) => t.stressedFrontendLatencyP99MaxMs,
  'stressed.matching_backlog': (t) => t.stressedMatchingBacklogAgeSec,
  'stressed.poll_timeouts': (t) => t.stressedPollTimeoutRateMax,
  'stressed.persistence_latency': (t) => t.stressedPersistenceLatencyP99MaxMs,
  'stressed.no_pollers': (t) => t.stressedNoPollerTasksPerSec,
  'stressed.schedule_to_start': (t) => t.stressedScheduleToStartP95Ms,
  'healthy.throughput': (t) => t.healthyThroughputMinPerSec,
  'healthy.history_backlog': (t) => t.healthyHistoryBacklogMaxSec,
  'healthy.completion_rate': (t) => t.healthyCompletionRateMin,
  'recovery.throughput': (t) => t.criticalThroughputMinPerSec * 1.5,
  'recovery.history_backlog': (t) => t.criticalHistoryBacklogMaxSec * 0.75,
  'recovery.processing': (t) => t.criticalProcessingMinPerSec * 1.5,
};

describe('compiled thresholds', () => {
  it('sit at the position of the gate they belong to, in every band', () => {
    // Distinct values everywhere, so a swapped pair of positions cannot go unnoticed.
    const overrides = Object.fromEntries(
      SCALE_BANDS.map((band, b) => {
        const t = DEFAULT_ENGINE_CONFIG.thresholds[band];
        return [
          band,
          { ...t, stressedShardChurnMaxPerSec: 7 + b, stressedNoPollerTasksPerSec: 0.3 + b },
        ];
      }),
    );
    const config = resolveEngineConfig({ overrides });
    const e = compileEngine(config);
    expect(Object.keys(EXPECTED)).toEqual(GATE_IDS);
    SCALE_BANDS.forEach((band, b) => {
      const t = config.thresholds[band];
      GATE_IDS.forEach((id, g) => {
        expect([id, e.thresholds[b * GATE_COUNT + g]]).toEqual([id, EXPECTED[id]?.(t)]);
      });
    });
  });

  it('are what the evaluation reports per gate', () => {
    const ev = evaluate(null, snapshot(HEALTHY));
    const t = DEFAULT_ENGINE_CONFIG.thresholds[ev.scaleBand];
    for (const g of ev.gates) expect([g.id, g.threshold]).toEqual([g.id, EXPECTED[g.id]?.(t)]);
  });

  it('are compiled once per configuration object', () => {
    expect(compileEngine(DEFAULT_ENGINE_CONFIG)).toBe(compileEngine(DEFAULT_ENGINE_CONFIG));
    expect(compileEngine(resolveEngineConfig({}))).not.toBe(compileEngine(DEFAULT_ENGINE_CONFIG));
  });
});

describe('observation columns', () => {
  it('code statuses in the schema order', () => {
    expect(STATUS_NAMES).toEqual(ObservedStatusSchema.options);
    expect([
      STATUS_NAMES[OK],
      STATUS_NAMES[ABSENT],
      STATUS_NAMES[ERROR],
      STATUS_NAMES[STALE],
    ]).toEqual(['ok', 'absent', 'error', 'stale']);
  });

  it('store rows side by side, NaN for every unusable value', () => {
    const snaps = [
      snapshot(withSpec(HEALTHY, { throughput: 12 })),
      {
        observedAt: T0 + 30_000,
        values: {
          [SIG.throughput]: { status: 'error' as const, message: 'timeout' },
          [SIG.processing]: { status: 'ok' as const, value: Number.POSITIVE_INFINITY },
          [SIG.historyBacklog]: { status: 'ok' as const, value: 3, sampledAt: T0 - 3_600_000 },
        },
      },
    ];
    const cols = observeAll(snaps, 300);
    expect(cols.rows).toBe(2);
    expect([...cols.observedAt]).toEqual([T0, T0 + 30_000]);
    expect(cols.n[I.throughput]).toBe(12);
    const row = ENGINE_WIDTH;
    expect(Number.isNaN(cols.n[row + I.throughput] as number)).toBe(true);
    expect(cols.s[row + I.throughput]).toBe(ERROR);
    expect(cols.s[row + I.processing]).toBe(ERROR);
    expect(cols.s[row + I.historyBacklog]).toBe(STALE);
    expect(cols.s[row + I.success]).toBe(ABSENT);
    expect(ENGINE_IDS).toHaveLength(ENGINE_WIDTH);
  });

  it('refuse rows outside the columns and negative sizes', () => {
    const cols = observationColumns(2);
    expect(() => observeInto(cols, 2, snapshot(HEALTHY), 300)).toThrow(RangeError);
    expect(() => observeInto(cols, -1, snapshot(HEALTHY), 300)).toThrow(/outside 0\.\.1/);
    expect(() => observationColumns(-1)).toThrow(RangeError);
  });

  it('an empty replay decides nothing and hands the carried state back', () => {
    const carried = evaluate(null, snapshot(HEALTHY)).carried;
    let visits = 0;
    const out = replayColumns(DEFAULT_ENGINE_CONFIG, observationColumns(0), carried, () => {
      visits += 1;
    });
    expect(visits).toBe(0);
    expect(out).toEqual(carried);
  });
});

describe('replay from columns', () => {
  it('reaches critical over a collapse as the observer would, summary and all', () => {
    const snaps = [
      ...Array.from({ length: 3 }, () => snapshot(HEALTHY)),
      ...Array.from({ length: 5 }, () =>
        snapshot(withSpec(HEALTHY, { throughput: 0.1, processing: 0.1 })),
      ),
    ].map((s, i) => ({ ...s, observedAt: T0 + i * 30_000 }));
    const states: string[] = [];
    let lastSummary: ReturnType<typeof summarize> | undefined;
    const carried = replayColumns(DEFAULT_ENGINE_CONFIG, observeAll(snaps, 300), null, (d) => {
      lastSummary = summarize(d);
      states.push(lastSummary.state);
    });
    expect(states).toEqual([
      'happy',
      'happy',
      'happy',
      'stressed',
      'stressed',
      'critical',
      'critical',
      'critical',
    ]);
    expect(lastSummary?.firedGates).toContain('critical.throughput');
    expect(lastSummary?.bottleneck).toBe('server_limited');
    expect(carried.criticalStreak).toBe(5);
    expect(carried.cycles).toBe(8);
  });
});
