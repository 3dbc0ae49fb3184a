import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENGINE_CONFIG,
  DEFAULT_PROFILES,
  EngineConfigError,
  resolveEngineConfig,
  SCALE_BANDS,
  thresholdOrderingErrors,
} from '../../../shared/health/config.js';

describe('threshold profiles (docs/lessons.md#small-clusters-get-small-limits)', () => {
  it('keep the prior art values at each band', () => {
    expect(DEFAULT_PROFILES.starter).toMatchObject({
      criticalThroughputMinPerSec: 0.5,
      criticalHistoryBacklogMaxSec: 600,
      stressedFrontendLatencyP99MaxMs: 5000,
      stressedPersistenceLatencyP99MaxMs: 500,
      stressedPollTimeoutRateMax: 0.5,
      healthyThroughputMinPerSec: 0.5,
    });
    expect(DEFAULT_PROFILES['mid-scale']).toMatchObject({
      criticalThroughputMinPerSec: 3,
      stressedPersistenceLatencyP99MaxMs: 200,
      healthyThroughputMinPerSec: 5,
    });
    expect(DEFAULT_PROFILES['high-throughput']).toMatchObject({
      criticalThroughputMinPerSec: 5,
      stressedHistoryBacklogSec: 30,
      stressedPersistenceLatencyP99MaxMs: 100,
      healthyThroughputMinPerSec: 10,
    });
  });

  it('are each internally ordered', () => {
    for (const band of SCALE_BANDS)
      expect(thresholdOrderingErrors(DEFAULT_PROFILES[band])).toEqual([]);
  });
});

describe('resolveEngineConfig', () => {
  it('resolves defaults for an empty input', () => {
    expect(resolveEngineConfig({})).toEqual(DEFAULT_ENGINE_CONFIG);
    expect(DEFAULT_ENGINE_CONFIG.debounce.criticalConsecutiveCycles).toBe(3);
    expect(DEFAULT_ENGINE_CONFIG.band).toMatchObject({
      starterMaxPerSec: 50,
      midMaxPerSec: 500,
      hysteresis: 0.1,
    });
  });

  it('applies `all` overrides, then per-band overrides', () => {
    const cfg = resolveEngineConfig({
      overrides: {
        all: { stressedPersistenceLatencyP99MaxMs: 450 },
        'high-throughput': { stressedPersistenceLatencyP99MaxMs: 300 },
      },
    });
    expect(cfg.thresholds.starter.stressedPersistenceLatencyP99MaxMs).toBe(450);
    expect(cfg.thresholds['mid-scale'].stressedPersistenceLatencyP99MaxMs).toBe(450);
    expect(cfg.thresholds['high-throughput'].stressedPersistenceLatencyP99MaxMs).toBe(300);
  });

  it.each([
    [
      'a critical throughput floor above the healthy floor',
      { overrides: { starter: { criticalThroughputMinPerSec: 2 } } },
      'starter: criticalThroughputMinPerSec (2) must not exceed healthyThroughputMinPerSec (0.5)',
    ],
    [
      'a critical completion rate at or above the healthy one',
      { overrides: { all: { criticalCompletionRateMin: 0.9 } } },
      'criticalCompletionRateMin (0.9) must be below healthyCompletionRateMin (0.85)',
    ],
    [
      'a stressed backlog limit at or above the critical one',
      { overrides: { 'mid-scale': { stressedHistoryBacklogSec: 300 } } },
      'mid-scale: stressedHistoryBacklogSec (300) must be below criticalHistoryBacklogMaxSec (300)',
    ],
    [
      'a healthy backlog limit above the stressed one',
      { overrides: { all: { healthyHistoryBacklogMaxSec: 500 } } },
      'healthyHistoryBacklogMaxSec (500) must not exceed stressedHistoryBacklogSec',
    ],
  ])('fails on %s', (_name, input, message) => {
    expect(() => resolveEngineConfig(input)).toThrow(EngineConfigError);
    expect(() => resolveEngineConfig(input)).toThrow(message);
  });

  it.each([
    [
      'an unknown threshold name (a typo)',
      { overrides: { all: { persistenceLatencyMax: 5 } } },
      'overrides.all',
    ],
    [
      'a negative threshold',
      { overrides: { all: { stressedShardChurnMaxPerSec: -1 } } },
      'overrides.all.stressedShardChurnMaxPerSec',
    ],
    [
      'a ratio above 1',
      { overrides: { all: { stressedPollTimeoutRateMax: 1.5 } } },
      'stressedPollTimeoutRateMax',
    ],
    ['an unknown band', { overrides: { huge: {} } }, 'overrides'],
    [
      'inverted band boundaries',
      { band: { starterMaxPerSec: 600 } },
      'band.starterMaxPerSec must be below band.midMaxPerSec',
    ],
    [
      'a zero debounce',
      { debounce: { criticalConsecutiveCycles: 0 } },
      'debounce.criticalConsecutiveCycles',
    ],
    ['a non-number', { demandGateMinPerSec: 'five' }, 'demandGateMinPerSec'],
  ])('fails on %s, naming the field', (_name, input, fragment) => {
    expect(() => resolveEngineConfig(input)).toThrow(fragment);
  });

  it('lists every problem at once', () => {
    try {
      resolveEngineConfig({
        overrides: { all: { criticalThroughputMinPerSec: 100, criticalCompletionRateMin: 0.99 } },
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EngineConfigError);
      // 2 rules broken in each of 3 bands.
      expect((e as EngineConfigError).issues).toHaveLength(6);
    }
  });

  it('returns frozen thresholds so nothing mutates them at run time', () => {
    expect(Object.isFrozen(DEFAULT_ENGINE_CONFIG.thresholds.starter)).toBe(true);
  });
});
