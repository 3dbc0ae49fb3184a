import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { signalById } from '../../shared/signals/catalog.js';
import {
  DEFAULT_DIALECT,
  type Dialect,
  SDK_DIALECTS,
  type SdkDialect,
  SERVER_DIALECTS,
  type ServerDialect,
} from '../../shared/signals/dialect.js';
import { renderSignal } from '../../shared/signals/promql.js';
import type { SignalDef } from '../../shared/signals/types.js';
import { prometheusDatasource } from './datasources.js';

/*
 * A dashboard shows a catalog signal with exactly the PromQL the engine's Prometheus source
 * evaluates (`renderSignal`), so a dashboard and the engine cannot read different metrics.
 *
 * The expression differs per dialect (tally `x` vs OTel `x_total`, seconds vs milliseconds), and
 * Grafana cannot choose a query by a variable's value. So a panel carries one target per dialect
 * the signal's rendering depends on, each followed by a gate that is empty unless the dashboard
 * variable names that dialect: only the chosen target returns data. The gate compares the
 * variable with the target's dialect as a label, since PromQL cannot compare strings:
 *
 *   (<renderSignal(def, tally)>) and on() (label_replace(vector(1), "dialect", "${dialect}", "", "")
 *                          and on(dialect) label_replace(vector(1), "dialect", "tally", "", ""))
 *
 * Both dashboard variables hold a dialect's name, as COPILOT_METRICS_DIALECT does.
 */

/** The dashboard variable naming the server dialect (`tally` | `otel`). */
export const SERVER_DIALECT_VARIABLE = 'dialect';
/** The dashboard variable naming the SDK dialect (`core` | `go`). */
export const SDK_DIALECT_VARIABLE = 'sdk_dialect';

/** One dialect axis a rendering can depend on, with the variable that chooses it. */
type Axis =
  | { readonly variable: typeof SERVER_DIALECT_VARIABLE; readonly values: readonly ServerDialect[] }
  | { readonly variable: typeof SDK_DIALECT_VARIABLE; readonly values: readonly SdkDialect[] };

const SERVER_AXIS: Axis = { variable: SERVER_DIALECT_VARIABLE, values: SERVER_DIALECTS };
const SDK_AXIS: Axis = { variable: SDK_DIALECT_VARIABLE, values: SDK_DIALECTS };

/** A condition on a dashboard variable: the target returns data only when it holds. */
export interface DialectCondition {
  readonly variable: string;
  readonly value: string;
}

/** One target of a signal: the engine's expression in one dialect, and when it is shown. */
export interface SignalTarget {
  readonly signal: string;
  /** Exactly `renderSignal(def, dialect)`. */
  readonly engineExpr: string;
  readonly dialect: Dialect;
  readonly conditions: readonly DialectCondition[];
  /** What the dashboard sends: `engineExpr` and its gates. */
  readonly expr: string;
}

/** The empty-unless-chosen vector for one condition (see the module comment). */
export function dialectGate(c: DialectCondition): string {
  return (
    `label_replace(vector(1), "dialect", "\${${c.variable}}", "", "") ` +
    `and on(dialect) label_replace(vector(1), "dialect", "${c.value}", "", "")`
  );
}

/** `engineExpr` behind its gates; no gate when the rendering is the same in every dialect. */
export function gatedExpr(engineExpr: string, conditions: readonly DialectCondition[]): string {
  if (conditions.length === 0) return engineExpr;
  const gates = conditions.map((c) => ` and on() (${dialectGate(c)})`).join('');
  return `(${engineExpr})${gates}`;
}

/** The dialect axes whose choice changes this signal's PromQL. */
function axesOf(def: SignalDef): Axis[] {
  const at = (server: ServerDialect, sdk: SdkDialect) =>
    renderSignal(def, { ...DEFAULT_DIALECT, server, sdk });
  const base = at(DEFAULT_DIALECT.server, DEFAULT_DIALECT.sdk);
  const axes: Axis[] = [];
  if (SERVER_DIALECTS.some((s) => at(s, DEFAULT_DIALECT.sdk) !== base)) axes.push(SERVER_AXIS);
  if (SDK_DIALECTS.some((s) => at(DEFAULT_DIALECT.server, s) !== base)) axes.push(SDK_AXIS);
  return axes;
}

/** Every target a panel needs for one catalog signal: one per dialect its PromQL depends on. */
export function signalTargets(signalId: string): SignalTarget[] {
  const def = signalById(signalId);
  if (def === undefined) throw new Error(`no catalog signal ${signalId}`);
  let combos: { dialect: Dialect; conditions: DialectCondition[] }[] = [
    { dialect: DEFAULT_DIALECT, conditions: [] },
  ];
  for (const axis of axesOf(def)) {
    combos = combos.flatMap((c) =>
      axis.values.map((value) => ({
        dialect:
          axis.variable === SERVER_DIALECT_VARIABLE
            ? { ...c.dialect, server: value as ServerDialect }
            : { ...c.dialect, sdk: value as SdkDialect },
        conditions: [...c.conditions, { variable: axis.variable, value }],
      })),
    );
  }
  return combos.map(({ dialect, conditions }) => {
    const engineExpr = renderSignal(def, dialect);
    return {
      signal: def.id,
      engineExpr,
      dialect,
      conditions,
      expr: gatedExpr(engineExpr, conditions),
    };
  });
}

/** Prometheus query builders for a signal's targets, refIds taken from `nextRefId`. */
export function signalQueries(
  signalId: string,
  nextRefId: () => string,
): prometheus.DataqueryBuilder[] {
  return signalTargets(signalId).map((t) =>
    new prometheus.DataqueryBuilder()
      .datasource(prometheusDatasource)
      .refId(nextRefId())
      .expr(t.expr)
      .legendFormat(t.signal)
      .range(),
  );
}
