import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfinityQuery } from '../../grafana/src/infinity.js';
import { type LocalApi, startLocalApi } from '../../lambda/local-server.js';
import { DEFAULT_ENGINE_CONFIG } from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import { HEALTH_STATES } from '../../shared/health/evaluation.js';
import { storedSignalsOf } from '../../shared/models/stored-evaluation.js';
import { ensureCluster, recordEvaluations } from '../../shared/store/writes.js';
import { type SeededStore, silentLogger, startSeededStore, TEST_API_KEY } from '../api/support.js';
import { CYCLE_MS, HEALTHY, snapshot, T0 } from '../helpers/snapshots.js';
import { infinityUses, loadDashboards, panelsOf } from './support/dashboards.js';
import type { VariableValues } from './support/grafana-vars.js';
import {
  applyTransformations,
  type Frame,
  type InfinitySource,
  resolveQuery,
  type Transformed,
} from './support/infinity.js';

/*
 * The Copilot dashboard against the real API: a seeded PostgreSQL (a real engine run for
 * cluster `local`, an assessment with issues, log patterns; a registered `empty` cluster) plus a
 * cluster `fresh` evaluated now, served by the local API server. Every Infinity query is checked
 * against the `/openapi.json` that server serves, then resolved as Grafana would resolve it.
 */

let seeded: SeededStore;
let api: LocalApi;
let openapi: OpenApi;
let source: InfinitySource;

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
}
interface Operation {
  parameters: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
};

beforeAll(async () => {
  seeded = await startSeededStore();
  // A cluster evaluated just now, so the store holds clusters in different states for the status
  // filter to tell apart (the seeded run is days old, hence stale, hence unknown).
  const fresh = await ensureCluster(seeded.store.sql, 'fresh');
  const now = Date.now();
  const snap = snapshot(HEALTHY, now);
  await recordEvaluations(seeded.store.sql, [
    {
      clusterId: fresh.id,
      workflowId: 'observe-cluster-fresh',
      cycle: 0,
      intervalMs: CYCLE_MS,
      evaluation: evaluate(null, snap, DEFAULT_ENGINE_CONFIG),
      signals: storedSignalsOf(snap, DEFAULT_ENGINE_CONFIG.maxSampleAgeSec),
    },
  ]);
  // A day of grace, so `fresh` cannot turn stale while the tests run (no test depends on time).
  api = await startLocalApi({
    store: seeded.store,
    port: 0,
    apiKey: TEST_API_KEY,
    logger: silentLogger,
    staleness: { intervals: 1_000, minMs: 86_400_000 },
  }).catch(async (error: unknown) => {
    await seeded.stop();
    throw error;
  });
  source = { baseUrl: api.url, apiKey: TEST_API_KEY };
  openapi = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApi;
});

afterAll(async () => {
  await api?.close();
  await seeded?.stop();
});

/** The dashboard's variables: the seeded cluster, every state, a range holding the seeded run. */
function vars(over: Record<string, string | readonly string[]> = {}): VariableValues {
  return {
    cluster: 'local',
    status: [...HEALTH_STATES],
    __from: String(T0 - 3_600_000),
    __to: String(Date.now() + 60_000),
    ...over,
  };
}

// --- the OpenAPI document ----------------------------------------------------------------------

/** The schemas a value may match: anyOf/oneOf branches (nullable fields are `anyOf [x, null]`). */
function branches(s: JsonSchema): JsonSchema[] {
  return [s, ...(s.anyOf ?? []).flatMap(branches), ...(s.oneOf ?? []).flatMap(branches)];
}

/** The schema a gjson path leads to, or null when the document has no such field. */
function schemaAt(schema: JsonSchema, path: string): JsonSchema | null {
  if (path === '') return schema;
  let cur: JsonSchema[] = [schema];
  for (const part of path.split('.')) {
    const next: JsonSchema[] = [];
    for (const s of cur.flatMap(branches)) {
      if (part === '#' && s.type === 'array') next.push({ type: 'integer' });
      else if (/^\d+$/.test(part) && s.items !== undefined) next.push(s.items);
      else if (s.properties?.[part] !== undefined) next.push(s.properties[part] as JsonSchema);
    }
    if (next.length === 0) return null;
    cur = next;
  }
  return { anyOf: cur };
}

/** The row schema: the root selector's array items, or the root object itself. */
function rowSchema(response: JsonSchema, root: string): JsonSchema | null {
  const at = schemaAt(response, root);
  if (at === null) return null;
  const arrays = branches(at).filter((s) => s.type === 'array' && s.items !== undefined);
  return root === ''
    ? at
    : arrays.length > 0
      ? { anyOf: arrays.map((a) => a.items as JsonSchema) }
      : null;
}

const queryName = (u: { dashboard: string; where: string; query: InfinityQuery }) =>
  `${u.dashboard} / ${u.where} / ${u.query.refId ?? ''}`;

describe('every Infinity query exists in the API’s /openapi.json', () => {
  const uses = infinityUses();

  it('finds the queries of the Copilot dashboard (panels and the cluster variable)', () => {
    // A walk over nothing would pass: at least one query per panel that reads the API.
    expect(uses.length).toBeGreaterThanOrEqual(17);
    expect(uses.some((u) => u.where === 'variable cluster')).toBe(true);
  });

  it.each(uses.map((u) => [queryName(u), u] as const))('%s', (_, use) => {
    const q = use.query;
    const op = openapi.paths[q.url]?.get;
    expect(op, `GET ${q.url} is not in /openapi.json`).toBeDefined();
    const names = new Set(
      (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    );
    for (const p of q.url_options.params)
      expect(names.has(p.key), `GET ${q.url} takes no ?${p.key}`).toBe(true);
    const response = op?.responses['200']?.content?.['application/json']?.schema;
    expect(response, `GET ${q.url} documents no 200 body`).toBeDefined();
    const rows = rowSchema(response as JsonSchema, q.root_selector);
    expect(rows, `GET ${q.url} has no array ${q.root_selector}`).not.toBeNull();
    for (const c of q.columns)
      expect(
        schemaAt(rows as JsonSchema, c.selector),
        `GET ${q.url} rows have no field ${c.selector}`,
      ).not.toBeNull();
  });

  it('a field the API does not serve is found missing (the walk can fail)', () => {
    const summary = openapi.paths['/status/summary']?.get?.responses['200']?.content?.[
      'application/json'
    ]?.schema as JsonSchema;
    expect(schemaAt(summary, 'health_state')).not.toBeNull();
    expect(schemaAt(summary, 'health_stat')).toBeNull();
    expect(rowSchema(summary, 'issues')).toBeNull();
  });
});

// --- the seeded store, through the local API -----------------------------------------------------

async function resolvePanel(
  title: string,
  over: Record<string, string | readonly string[]> = {},
): Promise<{ frames: Frame[] } & Transformed> {
  const { json } = loadDashboards().find((d) => d.json.uid === 'temporal-sre-copilot') ?? {};
  const panel = json === undefined ? undefined : panelsOf(json).find((p) => p.title === title);
  if (panel === undefined) throw new Error(`no panel ${title}`);
  const frames = await Promise.all(
    (panel.targets ?? []).map((t) =>
      resolveQuery(t as unknown as InfinityQuery, vars(over), source, title),
    ),
  );
  return { frames, ...applyTransformations(frames, panel.transformations ?? []) };
}

async function clusterOptions(status: readonly string[]): Promise<string[]> {
  const use = infinityUses().find((u) => u.where === 'variable cluster');
  if (use === undefined) throw new Error('no cluster variable');
  const frame = await resolveQuery(use.query, vars({ status }), source, use.where);
  // Infinity's rule: a frame with __text and __value columns gives (text, value) options.
  for (const r of frame.rows) expect(r.__text).toBe(r.__value);
  return frame.rows.map((r) => String(r.__value)).sort();
}

describe('every Infinity panel answers from a seeded store', () => {
  const copilot = loadDashboards().find((d) => d.json.uid === 'temporal-sre-copilot')?.json;
  const panels = copilot === undefined ? [] : panelsOf(copilot);

  it('the Copilot dashboard has its panels', () => {
    expect(panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Advisor',
        'Issues and evidence',
        'Suggested actions',
        'Per-service health',
        'Log-pattern alerts',
        'State timeline',
        'Evaluations’ age',
        'Explainer',
        'Tokens spent today',
      ]),
    );
  });

  it.each(panels.map((p) => [p.title] as const))('%s: non-empty and well typed', async (title) => {
    // resolveQuery throws on a non-200 answer and on any value of the wrong type.
    const { frames, rows } = await resolvePanel(title);
    expect(rows.length, `${title}: no rows`).toBeGreaterThan(0);
    for (const f of frames)
      for (const field of f.fields)
        expect(f.present.has(field.name), `${title}: ${f.url} never has ${field.name}`).toBe(true);
  });

  it('the Advisor shows the copilot itself as stale when it is', async () => {
    // The seeded run is days old: the API says unknown/stale, and so must the badge.
    const { rows } = await resolvePanel('Advisor');
    expect(rows[0]).toMatchObject({ State: 'unknown', Reason: 'stale' });
    expect(rows[0]?.Confidence).toBe(0.8);
    const fresh = await resolvePanel('Advisor', { cluster: 'fresh' });
    expect(fresh.rows[0]).toMatchObject({ State: 'happy', Reason: 'healthy' });
  });

  it('issues carry their gate’s evidence; issues no gate raised have none', async () => {
    const { rows } = await resolvePanel('Issues and evidence');
    expect(rows.map((r) => r.Issue).sort()).toEqual(
      ['Note', 'Persistence latency above its limit', 'Workers fall behind'].sort(),
    );
    const byGate = rows.find((r) => r.Gate === 'stressed.persistence_latency');
    expect(byGate).toMatchObject({ Severity: 'warning', Comparison: 'above' });
    expect(typeof byGate?.Observed).toBe('number');
    expect(typeof byGate?.Threshold).toBe('number');
    const worker = rows.find((r) => r.Gate === 'worker.schedule_to_start');
    expect(worker?.Observed ?? null).toBeNull();
  });

  it('the copilot’s own cost: the rule-based explanation spent no tokens today', async () => {
    // The seeded assessment was written by the rules two days before this run: nothing today.
    const tokens = await resolvePanel('Tokens spent today');
    expect(tokens.rows[0]).toMatchObject({
      'Input tokens': 0,
      'Output tokens': 0,
      'by Bedrock': 0,
    });
    const explainer = await resolvePanel('Explainer');
    expect(explainer.rows[0]).toMatchObject({ Explainer: 'rules', Model: null, Fallback: null });
  });

  it('sparklines: one series per signal asked for, each with a time and a number', async () => {
    for (const title of ['Forward progress', 'Latency (p99)', 'Backlogs', 'Failures']) {
      const { frames, partitions } = await resolvePanel(title);
      const ids = (new URL((frames[0] as Frame).url).searchParams.get('ids') ?? '').split(',');
      expect([...(partitions?.keys() ?? [])].sort(), title).toEqual([...ids].sort());
      for (const [id, rows] of partitions ?? []) {
        expect(
          rows.every((r) => typeof r.time === 'string'),
          `${title} ${id}`,
        ).toBe(true);
        // A signal the seeded run never measured is all gaps; the engine's own have numbers.
        if (id !== 'persistence.occ_conflicts_per_sec')
          expect(
            rows.some((r) => typeof r.value === 'number'),
            `${title} ${id}`,
          ).toBe(true);
      }
    }
  });
});

describe('the status filter filters', () => {
  it('the cluster variable and the Clusters panel keep only clusters in the chosen states', async () => {
    const all = await resolvePanel('Clusters');
    const stateOf = new Map(all.rows.map((r) => [String(r.Cluster), String(r.State)]));
    expect([...stateOf.keys()].sort()).toEqual(['empty', 'fresh', 'local']);
    expect(await clusterOptions([...HEALTH_STATES])).toEqual(['empty', 'fresh', 'local']);
    const states = new Set(stateOf.values());
    // Without two states a filter that kept everything would pass.
    expect(states.size).toBeGreaterThan(1);
    for (const s of states) {
      const expected = [...stateOf]
        .filter(([, v]) => v === s)
        .map(([k]) => k)
        .sort();
      expect(await clusterOptions([s]), `status=${s}`).toEqual(expected);
      const panel = await resolvePanel('Clusters', { status: [s] });
      expect(panel.rows.map((r) => r.Cluster).sort(), `Clusters, status=${s}`).toEqual(expected);
    }
    const none = HEALTH_STATES.filter((s) => !states.has(s));
    if (none.length > 0) expect(await clusterOptions(none)).toEqual([]);
  });

  it('State changes keeps only changes into the chosen states', async () => {
    const all = await resolvePanel('State changes');
    const into = new Set(all.rows.map((r) => String(r.State)));
    // The seeded run goes happy → stressed and back.
    expect(into.has('stressed')).toBe(true);
    const stressed = await resolvePanel('State changes', { status: ['stressed'] });
    expect(stressed.rows.length).toBeGreaterThan(0);
    expect(stressed.rows.length).toBeLessThan(all.rows.length);
    for (const r of stressed.rows) expect(r.State).toBe('stressed');
  });
});
