import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INFINITY_TYPE, type InfinityQuery } from '../../../grafana/src/infinity.js';

/** The committed dashboards, as Grafana will read them. */
export const DASHBOARD_DIR = join(import.meta.dirname, '../../../grafana/dashboards');

export interface DashboardJson {
  readonly uid: string;
  readonly title: string;
  readonly refresh?: string;
  readonly tags?: string[];
  readonly links?: { url?: string; title?: string }[];
  readonly panels: PanelJson[];
  readonly templating: { list: VariableJson[] };
}

export interface PanelJson {
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: TargetJson[];
  readonly transformations?: { id: string; options: Record<string, unknown> }[];
  readonly panels?: PanelJson[];
}

export type TargetJson = Record<string, unknown> & {
  refId: string;
  datasource?: { type?: string; uid?: string };
};

export interface PromTargetJson extends TargetJson {
  expr: string;
  legendFormat: string;
}

export interface VariableJson {
  readonly type: string;
  readonly name: string;
  readonly query?: unknown;
  readonly current?: { text: string | string[]; value: string | string[] };
  readonly datasource?: { type?: string; uid?: string };
}

export function loadDashboards(): { file: string; json: DashboardJson }[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.generated.json'))
    .sort()
    .map((file) => ({
      file,
      json: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as DashboardJson,
    }));
}

/** Every panel that is not a row, rows' nested panels included. */
export function panelsOf(d: DashboardJson): PanelJson[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export const isInfinity = (t: TargetJson): boolean => t.datasource?.type === INFINITY_TYPE;

/** A place an Infinity query lives: a panel's target or a query variable. */
export interface InfinityUse {
  readonly dashboard: string;
  /** The panel's title, or `variable <name>`. */
  readonly where: string;
  readonly query: InfinityQuery;
  readonly panel?: PanelJson;
}

export function infinityUses(): InfinityUse[] {
  const out: InfinityUse[] = [];
  for (const { json } of loadDashboards()) {
    for (const p of panelsOf(json))
      for (const t of p.targets ?? [])
        if (isInfinity(t))
          out.push({
            dashboard: json.uid,
            where: p.title,
            query: t as unknown as InfinityQuery,
            panel: p,
          });
    for (const v of json.templating.list) {
      const q = v.query as { queryType?: string; infinityQuery?: InfinityQuery } | undefined;
      if (v.type === 'query' && v.datasource?.type === INFINITY_TYPE && q?.infinityQuery)
        out.push({ dashboard: json.uid, where: `variable ${v.name}`, query: q.infinityQuery });
    }
  }
  return out;
}

/** Every Prometheus target, with its panel and dashboard. */
export function promTargets(): { dashboard: string; panel: PanelJson; target: PromTargetJson }[] {
  const out: { dashboard: string; panel: PanelJson; target: PromTargetJson }[] = [];
  for (const { json } of loadDashboards())
    for (const p of panelsOf(json))
      for (const t of p.targets ?? [])
        if (t.datasource?.type === 'prometheus')
          out.push({ dashboard: json.uid, panel: p, target: t as PromTargetJson });
  return out;
}
