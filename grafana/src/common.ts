import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { SignalUnit } from '../../shared/signals/types.js';

/** Stable dashboard uids: links, bookmarks and alerts point at them. */
export const UIDS = {
  copilot: 'temporal-sre-copilot',
  serverHealth: 'temporal-server-health',
  dsqlPersistence: 'temporal-dsql-persistence',
  workers: 'temporal-workers',
} as const;

/** Every generated dashboard carries these tags. */
export const TAGS = ['temporal-sre-copilot', 'generated'];

/** Grafana's unit for each catalog unit (a custom suffix where Grafana has none). */
export const GRAFANA_UNITS: Readonly<Record<SignalUnit, string>> = {
  per_sec: 'suffix:/s',
  per_min: 'suffix:/min',
  ms: 'ms',
  sec: 's',
  ratio: 'percentunit',
  pct: 'percent',
  count: 'short',
  bytes: 'bytes',
};

/** Colours of the four health states, the same on every panel. */
export const STATE_COLORS = {
  happy: 'green',
  stressed: 'yellow',
  critical: 'red',
  unknown: 'text',
} as const;

/** A value mapping from strings to display text and colour, in the given order. */
export function textMapping(
  entries: readonly (readonly [value: string, text: string, color?: string])[],
): dashboard.ValueMap {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  entries.forEach(([value, text, color], index) => {
    options[value] = color === undefined ? { text, index } : { text, color, index };
  });
  return { type: dashboard.MappingType.ValueToText, options };
}

/** A null (no value at all) shown as `text` in `color`, never as a blank or a stretched value. */
export function nullMapping(text: string, color: string): dashboard.SpecialValueMap {
  return {
    type: dashboard.MappingType.SpecialValue,
    options: {
      match: dashboard.SpecialValueMatch.NullAndNan,
      result: { text, color, index: 0 },
    },
  };
}

/** The health states in their colours, shown as themselves. */
export const STATE_MAPPING = textMapping(
  (Object.keys(STATE_COLORS) as (keyof typeof STATE_COLORS)[]).map(
    (s) => [s, s, STATE_COLORS[s]] as const,
  ),
);

/**
 * Links from one dashboard to the others. Time is kept; variables are not, since each
 * dashboard's variables differ (cluster and status here, data source and dialect there).
 */
export function dashboardLinks(self: string): dashboard.DashboardLinkBuilder[] {
  const all: [string, string][] = [
    [UIDS.copilot, 'Copilot'],
    [UIDS.serverHealth, 'Server Health'],
    [UIDS.dsqlPersistence, 'DSQL Persistence'],
    [UIDS.workers, 'Workers'],
  ];
  return all
    .filter(([uid]) => uid !== self)
    .map(([uid, title]) =>
      new dashboard.DashboardLinkBuilder(title)
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${uid}`)
        .icon('dashboard')
        .keepTime(true)
        .includeVars(false)
        .targetBlank(false)
        .asDropdown(false),
    );
}
