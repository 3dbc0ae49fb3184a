import { describe, expect, it } from 'vitest';
import { staleFiles } from '../../grafana/build.js';
import { SIGNAL_CATALOG, signalById } from '../../shared/signals/catalog.js';
import { DEFAULT_DIALECT } from '../../shared/signals/dialect.js';
import { renderSignal } from '../../shared/signals/promql.js';
import { loadDashboards, panelsOf, promTargets } from './support/dashboards.js';
import { parseGates } from './support/promql-gates.js';

const dashboards = loadDashboards();
const byUid = new Map(dashboards.map((d) => [d.json.uid, d.json]));

describe('the committed dashboards', () => {
  it('are exactly what grafana/src builds, and so are the README’s panel tables', () => {
    // Fails when someone edits the TypeScript without `npm run grafana:build`, edits the JSON
    // by hand, or leaves a dashboard file no code builds.
    expect(staleFiles()).toEqual([]);
  });

  it('keep their uids: links, bookmarks and alerts point at them', () => {
    expect([...byUid.keys()].sort()).toEqual(
      [
        'temporal-dsql-persistence',
        'temporal-server-health',
        'temporal-sre-copilot',
        'temporal-workers',
      ].sort(),
    );
  });

  it('the Copilot dashboard refreshes every 30 s and links to the three others', () => {
    const copilot = byUid.get('temporal-sre-copilot');
    expect(copilot?.refresh).toBe('30s');
    const targets = (copilot?.links ?? []).map((l) => l.url);
    expect(targets.sort()).toEqual(
      ['/d/temporal-dsql-persistence', '/d/temporal-server-health', '/d/temporal-workers'].sort(),
    );
  });

  it('never paints what it did not see: gaps stay gaps, nothing evaluated says so, no stale green', () => {
    const copilot = byUid.get('temporal-sre-copilot');
    if (copilot === undefined) throw new Error('no Copilot dashboard');
    const panels = panelsOf(copilot) as unknown as {
      title: string;
      type: string;
      options?: { reduceOptions?: { calcs?: string[] }; graphMode?: string };
      fieldConfig?: {
        defaults?: { mappings?: unknown[]; custom?: { insertNulls?: number | boolean } };
        overrides?: {
          matcher: { options: string };
          properties: { id: string; value: unknown }[];
        }[];
      };
    }[];
    const nullShownAs = (mappings: unknown[] | undefined) =>
      (mappings as { type: string; options: { match?: string; result?: { text: string } } }[])
        ?.filter((m) => m.type === 'special' && m.options.match === 'null+nan')
        .map((m) => m.options.result?.text);
    // The state timeline: a copilot that stopped leaves a gap, not the last state stretched.
    const timeline = panels.find((p) => p.type === 'state-timeline');
    expect(timeline?.fieldConfig?.defaults?.custom?.insertNulls).toBe(180_000);
    expect(nullShownAs(timeline?.fieldConfig?.defaults?.mappings)).toEqual(['no evaluation']);
    // The age of a cluster never evaluated reads as such, and "not stale" is never green.
    const age = panels.find((p) => p.title === 'Evaluations’ age');
    const ageOverride = age?.fieldConfig?.overrides?.find((o) => o.matcher.options === 'Age');
    const ageMappings = ageOverride?.properties.find((x) => x.id === 'mappings')?.value;
    expect(nullShownAs(ageMappings as unknown[])).toEqual(['never evaluated']);
    expect(JSON.stringify(age?.fieldConfig?.defaults?.mappings)).not.toMatch(
      /"false":\{[^}]*"color":"green"/,
    );
    // Sparkline numbers are the newest cycle's, never an older number shown as current.
    const sparklines = panels.filter((p) => p.type === 'stat' && p.options?.graphMode === 'area');
    expect(sparklines.length).toBeGreaterThan(0);
    for (const p of sparklines) expect(p.options?.reduceOptions?.calcs, p.title).toEqual(['last']);
  });

  it.each(dashboards.map((d) => [d.json.uid, d.json] as const))(
    '%s: every data source is a dashboard variable, and every variable used exists',
    (_, d) => {
      const variables = new Set(d.templating.list.map((v) => v.name));
      const refs = [
        ...panelsOf(d).flatMap((p) => [
          p.datasource,
          ...(p.targets ?? []).map((t) => t.datasource),
        ]),
        ...d.templating.list.filter((v) => v.type === 'query').map((v) => v.datasource),
      ];
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        const m = /^\$\{(\w+)\}$/.exec(ref?.uid ?? '');
        expect(m, `hard-coded data source ${JSON.stringify(ref)}`).not.toBeNull();
        const v = d.templating.list.find((x) => x.name === m?.[1]);
        expect(v?.type, `${m?.[1]} is not a data-source variable`).toBe('datasource');
        expect(v?.query, `${m?.[1]} lists another plugin`).toBe(ref?.type);
      }
      // Every ${name} in queries names a dashboard variable or one of Grafana's own.
      const text = JSON.stringify(panelsOf(d).map((p) => p.targets ?? []));
      for (const [, name] of text.matchAll(/\$\{(\w+)(?::\w+)?\}/g))
        expect(variables.has(name as string) || (name as string).startsWith('__'), name).toBe(true);
    },
  );
});

describe('the Prometheus dashboards show the engine’s catalog, nothing else', () => {
  const targets = promTargets();

  it('every catalog signal is on exactly one panel of one dashboard', () => {
    const where = new Map<string, Set<string>>();
    for (const { dashboard, panel, target } of targets) {
      const at = where.get(target.legendFormat) ?? new Set<string>();
      at.add(`${dashboard} / ${panel.title}`);
      where.set(target.legendFormat, at);
    }
    for (const s of SIGNAL_CATALOG) expect([...(where.get(s.id) ?? [])], s.id).toHaveLength(1);
    expect([...where.keys()].filter((id) => signalById(id) === undefined)).toEqual([]);
  });

  it.each(
    targets.map((t) => [`${t.dashboard} / ${t.panel.title} / ${t.target.refId}`, t] as const),
  )('%s is renderSignal in the dialect its gates name', (_, { target }) => {
    const def = signalById(target.legendFormat);
    expect(def, target.legendFormat).toBeDefined();
    const { engineExpr, conditions } = parseGates(target.expr);
    const dialect = { ...DEFAULT_DIALECT };
    for (const c of conditions) {
      if (c.variable === 'dialect') dialect.server = c.value as typeof dialect.server;
      else if (c.variable === 'sdk_dialect') dialect.sdk = c.value as typeof dialect.sdk;
      else throw new Error(`unknown gate variable ${c.variable}`);
    }
    expect(engineExpr).toBe(renderSignal(def as NonNullable<typeof def>, dialect));
  });

  it('for every choice of the variables, each signal has exactly one target that answers', () => {
    const choices = ['tally', 'otel'].flatMap((server) =>
      ['core', 'go'].map(
        (sdk) => ({ dialect: server, sdk_dialect: sdk }) as Record<string, string>,
      ),
    );
    for (const choice of choices) {
      const open = new Map<string, number>();
      for (const { target } of targets) {
        const { conditions } = parseGates(target.expr);
        if (conditions.every((c) => choice[c.variable] === c.value))
          open.set(target.legendFormat, (open.get(target.legendFormat) ?? 0) + 1);
      }
      for (const s of SIGNAL_CATALOG)
        expect(open.get(s.id), `${s.id} with ${JSON.stringify(choice)}`).toBe(1);
    }
  });

  it('a signal whose PromQL differs per dialect is never shown ungated', () => {
    for (const { target } of targets) {
      const def = signalById(target.legendFormat);
      if (def === undefined) continue;
      const variants = new Set(
        ['tally', 'otel'].flatMap((server) =>
          ['core', 'go'].map((sdk) =>
            renderSignal(def, { ...DEFAULT_DIALECT, server, sdk } as typeof DEFAULT_DIALECT),
          ),
        ),
      );
      if (variants.size > 1)
        expect(parseGates(target.expr).conditions.length, target.legendFormat).toBeGreaterThan(0);
    }
  });
});
