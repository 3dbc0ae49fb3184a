import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { INFINITY_TYPE } from './infinity.js';

/*
 * Panels reference their data source through a dashboard variable, never a fixed uid, so the
 * same JSON works against any Grafana. The variables default to the uids the provisioning files
 * in grafana/provisioning/ give their data sources (a test checks they agree).
 */

/** The variable holding the copilot API's Infinity data source. */
export const COPILOT_DS_VARIABLE = 'copilot';
/** The uid and name the provisioning files give the copilot API's data source. */
export const COPILOT_DS_UID = 'copilot-api';
export const COPILOT_DS_NAME = 'Copilot API';

/** The variable holding the Prometheus (or AMP) data source the engine reads. */
export const PROMETHEUS_DS_VARIABLE = 'prometheus';
export const PROMETHEUS_DS_UID = 'prometheus';
export const PROMETHEUS_DS_NAME = 'Prometheus';
export const PROMETHEUS_TYPE = 'prometheus';

export const copilotDatasource: DataSourceRef = {
  type: INFINITY_TYPE,
  uid: `\${${COPILOT_DS_VARIABLE}}`,
};

export const prometheusDatasource: DataSourceRef = {
  type: PROMETHEUS_TYPE,
  uid: `\${${PROMETHEUS_DS_VARIABLE}}`,
};

export function copilotDatasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(COPILOT_DS_VARIABLE)
    .label('Copilot API')
    .description('The Infinity data source pointing at the copilot JSON API.')
    .type(INFINITY_TYPE)
    .current({ text: COPILOT_DS_NAME, value: COPILOT_DS_UID });
}

export function prometheusDatasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(PROMETHEUS_DS_VARIABLE)
    .label('Prometheus')
    .description('The Prometheus, Mimir or AMP data source holding the Temporal metrics.')
    .type(PROMETHEUS_TYPE)
    .current({ text: PROMETHEUS_DS_NAME, value: PROMETHEUS_DS_UID });
}
