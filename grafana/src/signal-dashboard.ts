import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { signalById } from '../../shared/signals/catalog.js';
import {
  SDK_DIALECT_VARIABLE,
  SERVER_DIALECT_VARIABLE,
  signalQueries,
  signalTargets,
} from './catalog-targets.js';
import { dashboardLinks, GRAFANA_UNITS, TAGS } from './common.js';
import { prometheusDatasource, prometheusDatasourceVariable } from './datasources.js';

/** A panel of catalog signals that share a unit. */
export interface SignalPanelSpec {
  readonly title: string;
  /** Why an operator looks at this panel; the signals' own meanings are appended. */
  readonly description: string;
  readonly signals: readonly string[];
}

export interface SignalRowSpec {
  readonly title: string;
  readonly panels: readonly SignalPanelSpec[];
}

export interface SignalDashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly rows: readonly SignalRowSpec[];
}

function dialectVariable(): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder(SERVER_DIALECT_VARIABLE)
    .label('Metric dialect')
    .description(
      'How the Temporal server exports its metrics: tally (the default, the dev server) or ' +
        'otel (framework: opentelemetry). COPILOT_METRICS_DIALECT names the same choice.',
    )
    .values('tally,otel')
    .current({ text: 'tally', value: 'tally' });
}

function sdkDialectVariable(): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder(SDK_DIALECT_VARIABLE)
    .label('SDK dialect')
    .description(
      'How the workers export SDK metrics: core (TypeScript, Python, .NET, Ruby: milliseconds) ' +
        'or go (the Go SDK through tally: seconds). Metric prefix temporal_.',
    )
    .values('core,go')
    .current({ text: 'core', value: 'core' });
}

/** The panel's description: its purpose, then what each signal means. */
function describe(spec: SignalPanelSpec): string {
  const lines = spec.signals.map((id) => `- \`${id}\`: ${signalById(id)?.meaning ?? ''}`);
  return `${spec.description}\n\nThe engine's own PromQL for each catalog signal:\n${lines.join('\n')}`;
}

function signalPanel(spec: SignalPanelSpec): timeseries.PanelBuilder {
  const units = new Set(spec.signals.map((id) => signalById(id)?.unit));
  const [unit] = units;
  if (units.size !== 1 || unit === undefined)
    throw new Error(`panel "${spec.title}" mixes units or names an unknown signal`);
  let ref = 0;
  // refIds A, B, …: one per target (a signal has one per dialect it depends on).
  const nextRefId = () => String.fromCharCode(65 + ref++);
  const panel = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(describe(spec))
    .datasource(prometheusDatasource)
    .unit(GRAFANA_UNITS[unit])
    .min(0)
    .span(12)
    .height(8)
    .lineWidth(1)
    .fillOpacity(10)
    // A missing sample is no data, never zero: draw the gap.
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true),
    );
  if (unit === 'ratio') panel.max(1);
  if (unit === 'pct') panel.max(100);
  for (const id of spec.signals) for (const q of signalQueries(id, nextRefId)) panel.withTarget(q);
  return panel;
}

/** A dashboard of catalog signals over Prometheus, in the dialect its variables choose. */
export function signalDashboard(spec: SignalDashboardSpec): dashboard.DashboardBuilder {
  const signals = spec.rows.flatMap((r) => r.panels.flatMap((p) => p.signals));
  const variables = new Set(
    signals.flatMap((id) => signalTargets(id).flatMap((t) => t.conditions.map((c) => c.variable))),
  );
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(TAGS)
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .links(dashboardLinks(spec.uid))
    .withVariable(prometheusDatasourceVariable());
  if (variables.has(SERVER_DIALECT_VARIABLE)) builder.withVariable(dialectVariable());
  if (variables.has(SDK_DIALECT_VARIABLE)) builder.withVariable(sdkDialectVariable());
  for (const row of spec.rows) {
    builder.withRow(new dashboard.RowBuilder(row.title));
    for (const p of row.panels) builder.withPanel(signalPanel(p));
  }
  return builder;
}
