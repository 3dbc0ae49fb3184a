import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { StatusReasonSchema } from '../../shared/api/schemas.js';
import { signalById } from '../../shared/signals/catalog.js';
import { SIG } from '../../shared/signals/ids.js';
import {
  dashboardLinks,
  GRAFANA_UNITS,
  nullMapping,
  STATE_COLORS,
  STATE_MAPPING,
  TAGS,
  textMapping,
  UIDS,
} from './common.js';
import { copilotDatasource, copilotDatasourceVariable } from './datasources.js';
import { InfinityQueryBuilder, infinityQueryObject } from './infinity.js';

/*
 * The Copilot dashboard: what the engine decided and why, read from the copilot's JSON API
 * through Infinity. Every panel reads one or two endpoints for the cluster chosen above; the
 * README's panel table (generated from this file) names each endpoint and field.
 */

const STATUS_VARIABLE = 'status';
const CLUSTER_VARIABLE = 'cluster';

/**
 * Keeps the rows whose `column` holds one of the states chosen in the status filter. Grafana's
 * `regex` format turns the selection into `(happy|critical)` (all four when All is chosen), and
 * the backend parser evaluates the expression on every row (govaluate's `=~`).
 */
function statusFilter(column: string): string {
  return `${column} =~ '^(\${${STATUS_VARIABLE}:regex})$'`;
}

/** A query of the copilot API for the chosen cluster. */
function api(path: string): InfinityQueryBuilder {
  return new InfinityQueryBuilder(copilotDatasource, path).param(
    CLUSTER_VARIABLE,
    `\${${CLUSTER_VARIABLE}}`,
  );
}

/** The dashboard's time range, as the range endpoints take it (epoch milliseconds). */
function range(q: InfinityQueryBuilder): InfinityQueryBuilder {
  return q.param('start', `\${__from}`).param('end', `\${__to}`);
}

const SEVERITY_MAPPING = textMapping([
  ['critical', 'critical', 'red'],
  ['warning', 'warning', 'yellow'],
  ['info', 'info', 'blue'],
]);

/** How each reason reads on the badge; `stale` is the copilot's own failure, not the cluster's. */
const REASON_TEXT: Readonly<Record<(typeof StatusReasonSchema.options)[number], string>> = {
  no_progress_data: 'no forward-progress data',
  cannot_tell_idle_from_stuck: 'cannot tell idle from stuck',
  idle: 'idle',
  critical_sustained: 'critical, sustained',
  critical_debouncing: 'critical evidence, debouncing',
  critical_guard_from_happy: 'critical evidence straight from happy',
  recovery_hysteresis: 'recovering (hysteresis)',
  stressed_gates: 'stressed gates fired',
  below_healthy: 'below the healthy floors',
  healthy: 'healthy',
  partial_visibility: 'partly blind: a critical signal failed',
  stale: 'COPILOT ITSELF STALE: not evaluating',
};

const REASON_MAPPING = textMapping(
  StatusReasonSchema.options.map(
    (r) => [r, REASON_TEXT[r], r === 'stale' ? 'purple' : undefined] as const,
  ),
);

// `false` is not coloured green: a cluster never evaluated is "not stale" too (no age, no last
// state); the Age field says which, and says "never evaluated" when there is none.
const BOOLEAN_STALE_MAPPING = textMapping([
  ['true', 'STALE: the copilot is not evaluating', 'purple'],
  ['false', 'not stale'],
]);

function reduceAll(fields: string): common.ReduceDataOptionsBuilder {
  return new common.ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']).fields(fields);
}

/** Thresholds with one colourless step: colour comes from value mappings only. */
function noThresholdColours(): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: 'text' }]);
}

/** A transformation putting fields in the given order. */
function organize(names: readonly string[]): dashboard.DataTransformerConfig {
  return {
    id: 'organize',
    options: {
      indexByName: Object.fromEntries(names.map((n, i) => [n, i])),
      excludeByName: {},
      renameByName: {},
    },
  };
}

/**
 * Infinity's backend parser orders a frame's fields by name, not as the query lists its
 * columns; this puts them back in the query's order (tiles and table columns read left to right).
 */
function inColumnOrder(q: InfinityQueryBuilder): dashboard.DataTransformerConfig {
  return organize(q.build().columns.map((c) => c.text));
}

const wrap: common.TableCellOptions = { type: common.TableCellDisplayMode.Auto, wrapText: true };
const colourCell: common.TableCellOptions = {
  type: common.TableCellDisplayMode.ColorBackground,
  mode: common.TableCellBackgroundDisplayMode.Basic,
};
const setCell = (options: common.TableCellOptions): dashboard.DynamicConfigValue => ({
  id: 'custom.cellOptions',
  value: options,
});
const setUnit = (unit: string): dashboard.DynamicConfigValue => ({ id: 'unit', value: unit });

// --- Advisor -------------------------------------------------------------------------------------

function advisorPanel(): stat.PanelBuilder {
  const q = api('/status/summary')
    .refId('A')
    .column('health_state', 'State', 'string')
    .column('reason', 'Reason', 'string')
    .column('confidence', 'Confidence', 'number');
  return new stat.PanelBuilder()
    .title('Advisor')
    .description(
      'The engine’s state for the cluster, why, and how sure the newest explanation is. ' +
        '"COPILOT ITSELF STALE" means the copilot stopped evaluating: the cluster’s state is ' +
        'unknown, and the last known state is on the Evaluations’ age panel.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .reduceOptions(reduceAll('/^(State|Reason|Confidence)$/'))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .justifyMode(common.BigValueJustifyMode.Center)
    .orientation(common.VizOrientation.Horizontal)
    .mappings([STATE_MAPPING, REASON_MAPPING])
    .thresholds(noThresholdColours())
    .noValue('no answer from the copilot API')
    .overrideByName('Confidence', [
      setUnit('percentunit'),
      { id: 'decimals', value: 0 },
      { id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } },
    ])
    .span(8)
    .height(7);
}

function summaryPanel(): table.PanelBuilder {
  const q = api('/status/summary')
    .refId('A')
    .column('summary', 'Summary', 'string')
    .column('words_lag', 'Words', 'string')
    .column('assessed_at', 'Assessed', 'timestamp')
    .column('trigger', 'Trigger', 'string');
  return new table.PanelBuilder()
    .title('Summary')
    .description(
      'The newest assessment’s words (on every state change and every 5 minutes). "explain an ' +
        'earlier state": the words were written for another state or reason than the current ' +
        'one (a new explanation is on its way). While the copilot is stale, a sentence saying ' +
        'since when it has not evaluated.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .mappings([
      textMapping([
        ['true', 'explain an earlier state', 'orange'],
        ['false', 'current', 'green'],
      ]),
    ])
    .overrideByName('Words', [setCell(colourCell), { id: 'custom.width', value: 110 }])
    .cellHeight(common.TableCellHeight.Auto)
    .overrideByName('Summary', [setCell(wrap), { id: 'custom.width', value: 760 }])
    .span(16)
    .height(7);
}

// --- Insights ------------------------------------------------------------------------------------

function issuesPanel(): table.PanelBuilder {
  return (
    new table.PanelBuilder()
      .title('Issues and evidence')
      .description(
        'The newest assessment’s issues, most severe first, each with the gate that raised it: ' +
          'observed value, comparison and threshold as the newest evaluation (every 30 s) sees ' +
          'them. Issues not raised by a gate (worker findings, partial visibility, system busy) ' +
          'have no gate columns.',
      )
      .datasource(copilotDatasource)
      .withTarget(
        api('/status/issues')
          .refId('A')
          .param('limit', '100')
          .rows('issues')
          .column('severity', 'Severity', 'string')
          .column('title', 'Issue', 'string')
          .column('key', 'Gate', 'string')
          .column('likely_cause', 'Likely cause', 'string'),
      )
      .withTarget(
        api('/status/gates')
          .refId('B')
          .rows('gates')
          .column('id', 'Gate', 'string')
          .column('observed', 'Observed', 'number')
          .column('comparison', 'Comparison', 'string')
          .column('threshold', 'Threshold', 'number'),
      )
      // One row per issue: join the gates on the issue's key (a gate id for gate-raised issues),
      // then drop the gates no issue names.
      .withTransformation({ id: 'joinByField', options: { byField: 'Gate', mode: 'outerTabular' } })
      .withTransformation({
        id: 'filterByValue',
        options: {
          type: 'include',
          match: 'all',
          filters: [{ fieldName: 'Issue', config: { id: 'isNotNull', options: {} } }],
        },
      })
      .mappings([SEVERITY_MAPPING])
      .overrideByName('Severity', [setCell(colourCell), { id: 'custom.width', value: 90 }])
      .overrideByName('Likely cause', [setCell(wrap)])
      .cellHeight(common.TableCellHeight.Auto)
      .span(12)
      .height(10)
  );
}

function actionsPanel(): table.PanelBuilder {
  const q = api('/status')
    .refId('A')
    .rows('recommended_actions')
    .column('action', 'Action', 'string')
    .column('description', 'Description', 'string')
    .column('confidence', 'Confidence', 'number')
    .column('risk_level', 'Risk', 'string');
  return new table.PanelBuilder()
    .title('Suggested actions')
    .description(
      'What the newest assessment suggests, most severe issue first (at most five), with the ' +
        'explainer’s confidence and the risk of doing it. Nothing is ever done automatically.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .mappings([
      textMapping([
        ['low', 'low', 'green'],
        ['medium', 'medium', 'yellow'],
        ['high', 'high', 'red'],
      ]),
    ])
    .overrideByName('Confidence', [
      setUnit('percentunit'),
      { id: 'min', value: 0 },
      { id: 'max', value: 1 },
      setCell({ type: common.TableCellDisplayMode.Gauge, mode: common.BarGaugeDisplayMode.Basic }),
    ])
    .overrideByName('Risk', [setCell(colourCell), { id: 'custom.width', value: 80 }])
    .overrideByName('Description', [setCell(wrap)])
    .cellHeight(common.TableCellHeight.Auto)
    .span(12)
    .height(10);
}

// --- Cluster -------------------------------------------------------------------------------------

function servicesPanel(): table.PanelBuilder {
  const q = api('/status/services')
    .refId('A')
    .rows('services')
    .column('name', 'Service', 'string')
    .column('status', 'Status', 'string')
    .column('pressure', 'Pressure', 'string')
    .column('dominant_signal', 'Dominant signal', 'string')
    .column('elevated_signals.#', 'Elevated signals', 'number')
    .column('narrative', 'Narrative', 'string');
  return new table.PanelBuilder()
    .title('Per-service health')
    .description(
      'The engine’s verdict per service: forward progress (ok, degraded, blocked → happy, ' +
        'stressed, critical), pressure, the signal furthest past its limit and how many are; ' +
        'the service’s part of the newest Bedrock explanation (empty for the rules).',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .mappings([
      STATE_MAPPING,
      textMapping([
        ['low', 'low', 'green'],
        ['moderate', 'moderate', 'yellow'],
        ['high', 'high', 'red'],
      ]),
    ])
    .overrideByName('Status', [setCell(colourCell)])
    .overrideByName('Pressure', [setCell(colourCell)])
    .overrideByName('Narrative', [setCell(wrap)])
    .cellHeight(common.TableCellHeight.Auto)
    .span(12)
    .height(8);
}

function clustersPanel(): table.PanelBuilder {
  const q = new InfinityQueryBuilder(copilotDatasource, '/clusters')
    .refId('A')
    .rows('clusters')
    .column('name', 'Cluster', 'string')
    .column('health_state', 'State', 'string')
    .column('reason', 'Reason', 'string')
    .column('age_seconds', 'Age', 'number')
    .filter(statusFilter('State'));
  return new table.PanelBuilder()
    .title('Clusters')
    .description(
      'Every watched cluster in the states chosen by the status filter, with the age of its ' +
        'newest evaluation.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .mappings([STATE_MAPPING, REASON_MAPPING])
    .overrideByName('State', [setCell(colourCell)])
    .overrideByName('Age', [setUnit('s')])
    .span(12)
    .height(8);
}

// --- Signals -------------------------------------------------------------------------------------

/** Sparkline groups: signals of one unit, from the engine's stored values. */
const SPARKLINES: readonly { title: string; description: string; signals: string[] }[] = [
  {
    title: 'Forward progress',
    description: 'State transitions, completions and history tasks per second.',
    signals: [SIG.throughput, SIG.success, SIG.processing],
  },
  {
    title: 'Latency (p99)',
    description: 'History RPCs, frontend (long polls excluded) and persistence.',
    signals: [SIG.historyLatencyP99, SIG.frontendLatencyP99, SIG.persistenceLatencyP99],
  },
  {
    title: 'Backlogs',
    description: 'History queue wait and the oldest waiting workflow and activity tasks.',
    signals: [SIG.historyBacklog, SIG.matchingWorkflowBacklog, SIG.matchingActivityBacklog],
  },
  {
    title: 'Failures',
    description: 'Failed workflows, frontend and persistence errors, DSQL OCC conflicts.',
    signals: [SIG.failed, SIG.frontendErrors, SIG.persistenceErrors, SIG.occConflicts],
  },
];

function sparklinePanel(group: (typeof SPARKLINES)[number]): stat.PanelBuilder {
  const units = new Set(group.signals.map((id) => signalById(id)?.unit));
  const [unit] = units;
  if (units.size !== 1 || unit === undefined)
    throw new Error(`sparklines "${group.title}" mix units or name an unknown signal`);
  return (
    new stat.PanelBuilder()
      .title(group.title)
      .description(
        `${group.description} The values the engine stored each cycle (not re-queried); a gap is ` +
          'a cycle without a number (absent or a failed query), never a zero.',
      )
      .datasource(copilotDatasource)
      .withTarget(
        range(api('/status/signals'))
          .refId('A')
          .param('ids', group.signals.join(','))
          .rows('points')
          .column('timestamp', 'time', 'timestamp')
          .column('signal', 'signal', 'string')
          .column('value', 'value', 'number'),
      )
      // One series per signal, labelled with its id: the stat panel draws one sparkline each.
      .withTransformation({
        id: 'partitionByValues',
        options: { fields: ['signal'], keepFields: false, naming: { asLabels: true } },
      })
      .displayName(`\${__field.labels.signal}`)
      .unit(GRAFANA_UNITS[unit])
      // The newest cycle, not the newest number: a signal that failed or went absent shows so,
      // not an older value as if it were current (its status is in the store and the API).
      .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs(['last']))
      .noValue('no number in the newest cycle')
      .graphMode(common.BigValueGraphMode.Area)
      .colorMode(common.BigValueColorMode.None)
      .textMode(common.BigValueTextMode.ValueAndName)
      .orientation(common.VizOrientation.Horizontal)
      .span(6)
      .height(8)
  );
}

// --- Logs and timeline ---------------------------------------------------------------------------

function logPatternsPanel(): table.PanelBuilder {
  const q = api('/status/log-patterns')
    .refId('A')
    .param('since', `\${__from}`)
    .param('limit', '1000')
    .rows('log_patterns')
    .column('observed_at', 'Observed', 'timestamp')
    .column('service', 'Service', 'string')
    .column('pattern', 'Pattern', 'string')
    .column('count', 'Count', 'number')
    .column('count_is_lower_bound', 'Bound', 'string')
    .column('sample_message', 'Sample', 'string');
  return new table.PanelBuilder()
    .title('Log-pattern alerts')
    .description(
      'Known narrative patterns the log watcher counted in Loki, per observation window, since ' +
        'the start of the time range. "at least" marks a window whose log query hit its line ' +
        'limit: the count is a lower bound.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .mappings([
      textMapping([
        ['true', 'at least', 'orange'],
        ['false', 'exact'],
      ]),
    ])
    .overrideByName('Sample', [setCell(wrap)])
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Count').desc(true)])
    .span(24)
    .height(8);
}

function timelinePanel(): statetimeline.PanelBuilder {
  const q = range(api('/status/timeline'))
    .refId('A')
    .rows('timeline')
    .column('timestamp', 'time', 'timestamp')
    .column('health_state', 'State', 'string');
  return (
    new statetimeline.PanelBuilder()
      .title('State timeline')
      .description(
        'The engine’s state every cycle; on long ranges one row per bucket (its most severe ' +
          'cycle), so incidents are never averaged away.',
      )
      .datasource(copilotDatasource)
      .withTarget(q)
      .withTransformation(inColumnOrder(q))
      // A gap (the copilot stopped, or a range between cycles) stays a gap: without insertNulls the
      // panel would stretch the last state over time nobody evaluated. 180 s is past the 90 s
      // staleness limit and the buckets of the usual ranges.
      .mappings([STATE_MAPPING, nullMapping('no evaluation', 'purple')])
      .insertNulls(180_000)
      .thresholds(noThresholdColours())
      .mergeValues(true)
      .showValue(common.VisibilityMode.Auto)
      .rowHeight(0.8)
      .span(24)
      .height(5)
  );
}

function changesPanel(): table.PanelBuilder {
  const q = range(api('/status/timeline'))
    .refId('A')
    .param('changes_only', 'true')
    .rows('timeline')
    .column('timestamp', 'Time', 'timestamp')
    .column('previous_state', 'From', 'string')
    .column('health_state', 'State', 'string')
    .column('reason', 'Reason', 'string')
    .column('bottleneck', 'Bottleneck', 'string')
    .column('scale_band', 'Band', 'string')
    .filter(statusFilter('State'));
  return new table.PanelBuilder()
    .title('State changes')
    .description(
      'Every change of state in the time range into one of the states chosen by the status ' +
        'filter, with the engine’s reason, bottleneck and scale band.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .mappings([STATE_MAPPING, REASON_MAPPING])
    .overrideByName('From', [setCell(colourCell)])
    .overrideByName('State', [setCell(colourCell)])
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Time').desc(true)])
    .span(24)
    .height(8);
}

// --- The copilot itself --------------------------------------------------------------------------

function agePanel(): stat.PanelBuilder {
  const q = api('/status')
    .refId('A')
    .column('age_seconds', 'Age', 'number')
    .column('stale', 'Stale', 'string')
    .column('last_known_state', 'Last known state', 'string');
  return new stat.PanelBuilder()
    .title('Evaluations’ age')
    .description(
      'How old the newest evaluation is, and whether that is past the staleness limit (three ' +
        'observer intervals, at least 60 s): a stale copilot is blind, whatever the cluster ' +
        'does. Last known state: what the newest evaluation said, stale or not.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .reduceOptions(reduceAll('/^(Age|Stale|Last known state)$/'))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .orientation(common.VizOrientation.Horizontal)
    .mappings([BOOLEAN_STALE_MAPPING, STATE_MAPPING])
    .thresholds(noThresholdColours())
    .overrideByName('Age', [
      setUnit('s'),
      { id: 'mappings', value: [nullMapping('never evaluated', 'purple')] },
      {
        id: 'thresholds',
        value: {
          mode: dashboard.ThresholdsMode.Absolute,
          // The default limit at the default 30 s interval is 90 s.
          steps: [
            { value: null, color: 'green' },
            { value: 60, color: 'orange' },
            { value: 90, color: 'purple' },
          ],
        },
      },
    ])
    .span(8)
    .height(6);
}

function explainerPanel(): stat.PanelBuilder {
  const q = api('/status/summary')
    .refId('A')
    .column('explainer', 'Explainer', 'string')
    .column('model_id', 'Model', 'string')
    .column('trigger', 'Trigger', 'string')
    .column('fallback_reason', 'Fallback', 'string');
  return new stat.PanelBuilder()
    .title('Explainer')
    .description(
      'Who wrote the newest explanation: the rule-based explainer or Bedrock (and which model), ' +
        'what triggered it (a state change or the 5-minute schedule), and why the rules ' +
        'answered when Bedrock is configured (throttled, timed out, budget spent).',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .reduceOptions(reduceAll('/^(Explainer|Model|Trigger|Fallback)$/'))
    .colorMode(common.BigValueColorMode.None)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .orientation(common.VizOrientation.Horizontal)
    .mappings([
      textMapping([
        ['rules', 'rules'],
        ['bedrock', 'Bedrock'],
        ['state_change', 'state change'],
        ['scheduled', 'schedule (5 min)'],
      ]),
    ])
    .noValue('no assessment yet')
    .overrideByName('Model', [{ id: 'noValue', value: 'none (rules)' }])
    .overrideByName('Fallback', [{ id: 'noValue', value: 'none' }])
    .span(8)
    .height(6);
}

function tokensPanel(): stat.PanelBuilder {
  const q = api('/status/summary')
    .refId('A')
    .column('usage_today.input_tokens', 'Input tokens', 'number')
    .column('usage_today.output_tokens', 'Output tokens', 'number')
    .column('usage_today.cache_read_tokens', 'Cache reads', 'number')
    .column('usage_today.llm_calls', 'Bedrock calls', 'number')
    .column('usage_today.assessments', 'Explanations', 'number')
    .column('usage_today.bedrock', 'by Bedrock', 'number');
  return new stat.PanelBuilder()
    .title('Tokens spent today')
    .description(
      'What the cluster’s explanations cost since 00:00 UTC: Bedrock input and output tokens ' +
        '(prompt-cache reads apart), Converse calls, and explanations written, by Bedrock or ' +
        'not. All zero while the rule-based explainer answers.',
    )
    .datasource(copilotDatasource)
    .withTarget(q)
    .withTransformation(inColumnOrder(q))
    .reduceOptions(
      reduceAll(
        '/^(Input tokens|Output tokens|Cache reads|Bedrock calls|Explanations|by Bedrock)$/',
      ),
    )
    .unit('short')
    .decimals(0)
    .colorMode(common.BigValueColorMode.None)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .span(8)
    .height(6);
}

// --- Variables -----------------------------------------------------------------------------------

function statusVariable(): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder(STATUS_VARIABLE)
    .label('Status')
    .description('Show only clusters, and state changes, in these states.')
    .values(Object.keys(STATE_COLORS).join(','))
    .multi(true)
    .includeAll(true)
    .current({ text: ['All'], value: ['$__all'] });
}

function clusterVariable(): dashboard.QueryVariableBuilder {
  // Infinity turns a frame with __text and __value columns into options; the state column is
  // there for the status filter.
  const query = new InfinityQueryBuilder(copilotDatasource, '/clusters')
    .refId('clusters')
    .rows('clusters')
    .column('name', '__text', 'string')
    .column('name', '__value', 'string')
    .column('health_state', 'State', 'string')
    .filter(statusFilter('State'));
  return new dashboard.QueryVariableBuilder(CLUSTER_VARIABLE)
    .label('Cluster')
    .description('A watched cluster (GET /clusters), among those in the chosen states.')
    .datasource(copilotDatasource)
    .query({ queryType: 'infinity', refId: 'clusters', infinityQuery: infinityQueryObject(query) })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

export function copilotDashboard(): dashboard.DashboardBuilder {
  const builder = new dashboard.DashboardBuilder('Temporal SRE Copilot')
    .uid(UIDS.copilot)
    .description(
      'What the copilot decided about a Temporal cluster and why: its state, issues with their ' +
        'evidence, suggested actions, per-service health, the signals it read, log patterns, ' +
        'its state over time, and whether the copilot itself is keeping up. Rules decide, AI ' +
        'explains, Grafana only displays.',
    )
    .tags(TAGS)
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .links(dashboardLinks(UIDS.copilot))
    .withVariable(copilotDatasourceVariable())
    .withVariable(statusVariable())
    .withVariable(clusterVariable())
    .withRow(new dashboard.RowBuilder('Advisor'))
    .withPanel(advisorPanel())
    .withPanel(summaryPanel())
    .withRow(new dashboard.RowBuilder('Insights'))
    .withPanel(issuesPanel())
    .withPanel(actionsPanel())
    .withRow(new dashboard.RowBuilder('Cluster'))
    .withPanel(servicesPanel())
    .withPanel(clustersPanel())
    .withRow(new dashboard.RowBuilder('Signals (as the engine stored them)'));
  for (const group of SPARKLINES) builder.withPanel(sparklinePanel(group));
  return builder
    .withRow(new dashboard.RowBuilder('Logs'))
    .withPanel(logPatternsPanel())
    .withRow(new dashboard.RowBuilder('Timeline'))
    .withPanel(timelinePanel())
    .withPanel(changesPanel())
    .withRow(new dashboard.RowBuilder('The copilot itself'))
    .withPanel(agePanel())
    .withPanel(explainerPanel())
    .withPanel(tokensPanel());
}
