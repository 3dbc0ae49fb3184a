import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DIALECT,
  type Dialect,
  detectDialect,
  quantileScale,
  seriesName,
} from '../../../shared/signals/dialect.js';
import type { MetricRef } from '../../../shared/signals/types.js';

const OTEL: Dialect = { ...DEFAULT_DIALECT, server: 'otel' };
const GO: Dialect = { ...DEFAULT_DIALECT, sdk: 'go' };
const counter: MetricRef = { name: 'workflow_success', type: 'counter', emitter: 'server' };
const timer: MetricRef = { name: 'persistence_latency', type: 'timer', emitter: 'server' };
const hist: MetricRef = { name: 'state_transition_count', type: 'histogram', emitter: 'server' };
const sdkTimer: MetricRef = {
  name: 'workflow_task_schedule_to_start_latency',
  type: 'timer',
  emitter: 'sdk',
};
const dsqlCounter: MetricRef = { name: 'dsql_tx_conflict', type: 'counter', emitter: 'dsql' };

describe('seriesName', () => {
  it.each([
    [counter, 'value', DEFAULT_DIALECT, 'workflow_success'],
    [counter, 'value', OTEL, 'workflow_success_total'],
    [timer, 'bucket', DEFAULT_DIALECT, 'persistence_latency_bucket'],
    [timer, 'bucket', OTEL, 'persistence_latency_milliseconds_bucket'],
    [hist, 'count', DEFAULT_DIALECT, 'state_transition_count_count'],
    [hist, 'bucket', OTEL, 'state_transition_count_ratio_bucket'],
    [
      sdkTimer,
      'bucket',
      DEFAULT_DIALECT,
      'temporal_workflow_task_schedule_to_start_latency_bucket',
    ],
    [dsqlCounter, 'value', OTEL, 'dsql_tx_conflict_total'],
  ] as const)('names %o %s in %o as %s', (metric, part, dialect, name) => {
    expect(seriesName(metric, part, dialect)).toBe(name);
  });
});

describe('quantileScale', () => {
  it('converts tally seconds and Go SDK seconds to ms, and leaves OTel ms alone', () => {
    expect(quantileScale(timer, 'ms', DEFAULT_DIALECT)).toBe(1000);
    expect(quantileScale(timer, 'ms', OTEL)).toBe(1);
    expect(quantileScale(timer, 'sec', OTEL)).toBe(0.001);
    expect(quantileScale(sdkTimer, 'ms', DEFAULT_DIALECT)).toBe(1);
    expect(quantileScale(sdkTimer, 'ms', GO)).toBe(1000);
    expect(quantileScale(hist, 'count', OTEL)).toBe(1);
  });
});

describe('detectDialect', () => {
  it('recognises tally and OTel server names and says nothing when names do not decide', () => {
    expect(detectDialect(['service_latency_bucket', 'state_transition_count_bucket'])).toEqual({
      server: 'tally',
    });
    expect(
      detectDialect(['service_latency_milliseconds_bucket', 'state_transition_count_ratio_bucket']),
    ).toEqual({ server: 'otel' });
    expect(detectDialect(['up', 'go_goroutines'])).toEqual({});
    expect(detectDialect(['temporal_activity_schedule_to_start_latency_seconds_bucket'])).toEqual({
      sdk: 'go',
    });
  });
});
