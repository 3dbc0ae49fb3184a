import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { copilotDashboard } from './copilot.js';
import { dsqlPersistenceDashboard } from './dsql-persistence.js';
import { serverHealthDashboard } from './server-health.js';
import { workersDashboard } from './workers.js';

/** Every generated dashboard and the file under grafana/dashboards/ it is written to. */
export const DASHBOARDS: readonly {
  readonly file: string;
  readonly build: () => dashboard.DashboardBuilder;
}[] = [
  { file: 'copilot.generated.json', build: copilotDashboard },
  { file: 'server-health.generated.json', build: serverHealthDashboard },
  { file: 'dsql-persistence.generated.json', build: dsqlPersistenceDashboard },
  { file: 'workers.generated.json', build: workersDashboard },
];

/** A dashboard's JSON exactly as committed: two-space indent, a final newline. */
export function renderDashboard(builder: dashboard.DashboardBuilder): string {
  return `${JSON.stringify(builder.build(), null, 2)}\n`;
}
