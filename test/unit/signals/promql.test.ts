import { describe, expect, it } from 'vitest';
import { SIGNAL_CATALOG, signalById } from '../../../shared/signals/catalog.js';
import type { Dialect } from '../../../shared/signals/dialect.js';
import { seriesNamesOf } from '../../../shared/signals/dialect.js';
import { SIG } from '../../../shared/signals/ids.js';
import {
  PromqlError,
  quote,
  renderMeasure,
  renderSelector,
  renderSignal,
} from '../../../shared/signals/promql.js';
import type { SignalDef } from '../../../shared/signals/types.js';

const TALLY: Dialect = { server: 'tally', sdk: 'core', sdkPrefix: 'temporal_' };
const OTEL: Dialect = { server: 'otel', sdk: 'core', sdkPrefix: 'temporal_' };
const GO: Dialect = { server: 'tally', sdk: 'go', sdkPrefix: 'temporal_' };
const DIALECTS = { tally: TALLY, otel: OTEL, go: GO, otelGo: { ...OTEL, sdk: 'go' } } as const;

function sig(id: string): SignalDef {
  const s = signalById(id);
  if (s === undefined) throw new Error(`no signal ${id}`);
  return s;
}

describe('renderSignal in the server dialects', () => {
  it('reads throughput from the state_transition_count histogram count', () => {
    expect(renderSignal(sig(SIG.throughput), TALLY)).toBe(
      'sum(rate(state_transition_count_count[60s]))',
    );
    expect(renderSignal(sig(SIG.throughput), OTEL)).toBe(
      'sum(rate(state_transition_count_ratio_count[60s]))',
    );
  });

  it('scales tally timer quantiles from seconds to ms and leaves OTel milliseconds alone', () => {
    expect(renderSignal(sig(SIG.historyLatencyP99), TALLY)).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(service_latency_bucket{service_name="history"}[300s]))) * 1000',
    );
    expect(renderSignal(sig(SIG.historyLatencyP99), OTEL)).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(service_latency_milliseconds_bucket{service_name="history"}[300s])))',
    );
  });

  it('scales OTel millisecond timers to a seconds signal and leaves tally seconds alone', () => {
    expect(renderSignal(sig(SIG.historyBacklog), TALLY)).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(task_latency_queue_bucket{service_name="history"}[300s])))',
    );
    expect(renderSignal(sig(SIG.historyBacklog), OTEL)).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(task_latency_queue_milliseconds_bucket{service_name="history"}[300s]))) * 0.001',
    );
  });

  it('keeps every existing lazily-created counter of a sum, without a fake zero', () => {
    const q = renderSignal(sig(SIG.failed), OTEL);
    expect(q).toBe(
      'sum(' +
        'label_replace(sum(rate(workflow_failed_total[60s])), "copilot_term", "0", "", "") or ' +
        'label_replace(sum(rate(workflow_timeout_total[60s])), "copilot_term", "1", "", "") or ' +
        'label_replace(sum(rate(workflow_terminate_total[60s])), "copilot_term", "2", "", ""))',
    );
    for (const s of SIGNAL_CATALOG) {
      for (const d of Object.values(DIALECTS)) expect(renderSignal(s, d)).not.toContain('vector(');
    }
  });

  it('excludes long polls from frontend latency and selects only them for the long-poll signal', () => {
    expect(renderSignal(sig(SIG.frontendLatencyP99), TALLY)).toContain(
      'service_latency_bucket{service_name="frontend",operation!~"Poll.*|GetWorkflowExecutionHistory"}',
    );
    expect(renderSignal(sig(SIG.frontendLongPollP99), OTEL)).toContain(
      'service_latency_milliseconds_bucket{service_name="frontend",operation=~"Poll.*|GetWorkflowExecutionHistory"}',
    );
  });

  it('renders ratios, complements and scales', () => {
    expect(renderSignal(sig(SIG.cacheHitRate), TALLY)).toBe(
      '1 - ((sum(rate(cache_miss{cache_type="mutablestate"}[60s]))) / (sum(rate(cache_requests{cache_type="mutablestate"}[60s]))))',
    );
    expect(renderSignal(sig(SIG.pollTimeoutRate), OTEL)).toBe(
      '(sum(rate(poll_timeouts_total[60s]))) / (sum(' +
        'label_replace(sum(rate(poll_success_total[60s])), "copilot_term", "0", "", "") or ' +
        'label_replace(sum(rate(poll_timeouts_total[60s])), "copilot_term", "1", "", "")))',
    );
    expect(renderSignal(sig(SIG.poolUtilization), TALLY)).toBe(
      '((sum(dsql_pool_in_use)) / (sum(dsql_pool_max_open))) * 100',
    );
    expect(renderSignal(sig('deploy.membership_changes_per_min'), OTEL)).toBe(
      '(sum(rate(membership_changed_count_total[60s]))) * 60',
    );
  });

  it('renders gauges with their aggregate', () => {
    expect(renderSignal(sig(SIG.matchingWorkflowBacklog), TALLY)).toBe(
      'max(approximate_backlog_age_seconds{service_name="matching",task_type="Workflow"})',
    );
    expect(renderSignal(sig(SIG.backlogCount), OTEL)).toBe(
      'sum(approximate_backlog_count{service_name="matching"})',
    );
  });

  it('follows the server dialect for the DSQL plugin metrics', () => {
    expect(renderSignal(sig(SIG.occConflicts), TALLY)).toBe('sum(rate(dsql_tx_conflict[60s]))');
    expect(renderSignal(sig(SIG.occConflicts), OTEL)).toBe(
      'sum(rate(dsql_tx_conflict_total[60s]))',
    );
  });
});

describe('renderSignal in the SDK dialects', () => {
  it('reads sdk-core histograms in ms and Go SDK histograms in seconds', () => {
    expect(renderSignal(sig(SIG.wftScheduleToStartP95), TALLY)).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(temporal_workflow_task_schedule_to_start_latency_bucket{namespace!="temporal_system"}[300s])))',
    );
    expect(renderSignal(sig(SIG.wftScheduleToStartP95), GO)).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(temporal_workflow_task_schedule_to_start_latency_bucket{namespace!="temporal_system"}[300s]))) * 1000',
    );
  });

  it('never adds _total to SDK counters and honours the prefix', () => {
    expect(renderSignal(sig(SIG.wftFailures), OTEL)).toBe(
      'sum(rate(temporal_workflow_task_execution_failed{namespace!="temporal_system"}[60s]))',
    );
    expect(renderSignal(sig(SIG.wftFailures), { ...GO, sdkPrefix: 'myapp_' })).toBe(
      'sum(rate(myapp_workflow_task_execution_failed{namespace!="temporal_system"}[60s]))',
    );
    expect(renderSignal(sig(SIG.activityPollers), GO)).toBe(
      'sum(temporal_num_pollers{namespace!="temporal_system",poller_type="activity_task"})',
    );
  });
});

describe('selectors and escaping', () => {
  it('escapes quotes, backslashes and control characters in label values', () => {
    expect(quote('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(renderSelector('x', [{ label: 'operation', op: '=~', value: 'Poll\\..*' }])).toBe(
      'x{operation=~"Poll\\\\..*"}',
    );
  });

  it('rejects invalid metric and label names instead of rendering a broken query', () => {
    expect(() => renderSelector('bad-name', [])).toThrow(PromqlError);
    expect(() => renderSelector('x', [{ label: 'a-b', op: '=', value: 'v' }])).toThrow(PromqlError);
    expect(() =>
      renderMeasure({ kind: 'rate', series: [], windowSec: 60 }, 'per_sec', TALLY),
    ).toThrow(PromqlError);
  });

  it('renders every catalog signal in every dialect with balanced parentheses', () => {
    for (const s of SIGNAL_CATALOG) {
      for (const [name, d] of Object.entries(DIALECTS)) {
        const q = renderSignal(s, d);
        let depth = 0;
        for (const ch of q.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
          if (ch === '(') depth++;
          if (ch === ')') depth--;
          expect(depth, `${s.id} in ${name}: ${q}`).toBeGreaterThanOrEqual(0);
        }
        expect(depth, `${s.id} in ${name}`).toBe(0);
        for (const n of seriesNamesOf(s.measure, d)) expect(q).toContain(n);
      }
    }
  });

  it('uses OTel suffixes only in the OTel dialect', () => {
    for (const s of SIGNAL_CATALOG) {
      const q = renderSignal(s, TALLY);
      expect(q, s.id).not.toMatch(/_total\b|_milliseconds_|_ratio_/);
    }
  });
});
