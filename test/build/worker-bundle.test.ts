import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker, prebuiltTarget, type WorkerBuild } from '../../scripts/build.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { clusterIdFor } from '../../shared/store/ids.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { startTemporalDevServer, type TemporalDevServer } from '../support/temporal-dev-server.js';
import { runNode, startNode } from './node-process.js';

/*
 * The production worker as the image runs it: `npm run build`'s dist/worker (bundled entry,
 * prebuilt workflows, the copied node_modules and nothing else) started as `node main.mjs` in a
 * process of its own, with only its environment, against a real Temporal dev server and a real
 * PostgreSQL — the directory the Dockerfile copies, run outside Docker.
 */

let out: string;
let build: WorkerBuild;
let pg: TestPostgres;
let temporal: TemporalDevServer;
let store: Store;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'copilot-build-worker-'));
  [build, pg, temporal] = await Promise.all([
    buildWorker(join(out, 'worker')),
    startTestPostgres(),
    startTemporalDevServer(),
  ]);
  store = await openStore({ dialect: 'postgres', url: pg.url });
});

afterAll(async () => {
  await store?.close();
  await temporal?.stop();
  await pg?.stop();
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
});

/** The EMF datapoints a worker printed, by cluster. */
function evaluationsStored(stdout: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"_aws"')) continue;
    const doc = JSON.parse(line) as { Cluster: string };
    counts.set(doc.Cluster, (counts.get(doc.Cluster) ?? 0) + 1);
  }
  return counts;
}

describe('the worker build (dist/worker)', () => {
  it('holds the bundle, the prebuilt workflows and only the packages they load', () => {
    const dir = build.file.replace(/main\.mjs$/, '');
    expect(readdirSync(dir).sort()).toEqual([
      'docs',
      'main.mjs',
      'node_modules',
      'package.json',
      'workflow-bundle.js',
    ]);
    // The runbooks the explainer grounds in without a knowledge base, and nothing else of docs/.
    expect(readdirSync(join(dir, 'docs'))).toEqual(['rag']);
    expect(readdirSync(join(dir, 'docs/rag')).sort()).toEqual(
      readdirSync('docs/rag')
        .filter((f) => f.endsWith('.md'))
        .sort(),
    );
    // The SDK stays external (a native module, workflow threads started from its own files).
    expect(build.externals).toEqual([
      '@temporalio/activity',
      '@temporalio/client',
      '@temporalio/worker',
      '@temporalio/workflow',
    ]);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).toEqual(build.externals);
    const names = build.packages.map((p) => p.slice(0, p.lastIndexOf('@')));
    // No embedded store, no Temporal dev server or test kit, no TypeScript loader, no bundlers
    // of our own, no workflow-bundling loaders (the workflows are prebuilt).
    for (const absent of [
      '@electric-sql/pglite',
      '@electric-sql/pglite-socket',
      '@temporalio/testing',
      'tsx',
      'esbuild',
      '@swc/core',
      'swc-loader',
    ])
      expect(names, absent).not.toContain(absent);
    expect(
      build.inputs.filter((i) => /pglite|dev-stack|temporal-cli|@temporalio\/testing/.test(i)),
    ).toEqual([]);
    // The image's build context holds worker/ and shared/ only (.dockerignore): the entry must
    // not reach beyond them, or `docker build` fails where this test passed.
    const dirs = new Set(
      build.inputs.filter((i) => !i.startsWith('node_modules/')).map((i) => i.split('/')[0]),
    );
    expect([...dirs].sort()).toEqual(['shared', 'worker']);
    // Only this platform's native core: the others are ~27 MB each.
    const releases = readdirSync(join(dir, 'node_modules/@temporalio/core-bridge/releases'));
    expect(releases).toEqual([prebuiltTarget()]);
  });

  it('observes every configured cluster against Temporal and PostgreSQL, then stops on SIGTERM', async () => {
    const clusters = ['build-a', 'build-b'];
    const worker = startNode(
      [build.file],
      {
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: 'copilot-build-test',
        COPILOT_DATABASE_URL: pg.url,
        COPILOT_CLUSTERS: JSON.stringify(
          clusters.map((name) => ({ name, scrapeUrls: [temporal.metricsUrl] })),
        ),
        COPILOT_INTERVAL_SECONDS: '1',
      },
      build.file.replace(/main\.mjs$/, ''),
    );
    try {
      // Two cycles of each cluster stored: observation cycles completed, end to end.
      const counts = await worker.waitFor((stdout) => {
        const c = evaluationsStored(stdout);
        return clusters.every((n) => (c.get(n) ?? 0) >= 2) ? c : undefined;
      });
      expect([...counts.keys()].sort()).toEqual(clusters);
      // Each cluster's first state is explained by an assessment child: wait for both rows
      // before stopping the worker (bounded; no timing is asserted).
      for (let i = 0; i < 120; i++) {
        const [row] = await store.sql<{ n: number }[]>`
          SELECT count(DISTINCT cluster_id)::int AS n FROM assessments
          WHERE cluster_id IN ${store.sql(clusters.map(clusterIdFor))}`;
        if ((row?.n ?? 0) === clusters.length) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect(await worker.exited).toBe(0);
    for (const name of clusters) {
      const rows = await store.sql<{ n: number; states: string[] }[]>`
        SELECT count(*)::int AS n, array_agg(DISTINCT state) AS states
        FROM evaluations WHERE cluster_id = ${clusterIdFor(name)}`;
      // Every EMF line stands for a row it wrote (a datapoint per new row, none for the rest).
      expect(rows[0]?.n).toBeGreaterThanOrEqual(evaluationsStored(worker.stdout()).get(name) ?? 0);
      // The dev server's own metrics are real ones: the engine judged them, not blind.
      expect(rows[0]?.states).not.toContain('unknown');
    }
    // The first state of each cluster was explained by the rules, grounded in the runbooks the
    // build carries (the process ran in the build directory, as in the image's WORKDIR).
    for (const name of clusters) {
      const assessed = await store.sql<
        { explainer: string; reason: string | null; sources: string[] }[]
      >`
        SELECT explainer, reason, array(
          SELECT s->>'source' FROM jsonb_array_elements(details::jsonb->'sources') s) AS sources
        FROM assessments WHERE cluster_id = ${clusterIdFor(name)} ORDER BY created_at LIMIT 1`;
      expect(assessed[0]?.explainer).toBe('rules');
      expect(assessed[0]?.reason).not.toBeNull();
      expect(assessed[0]?.sources.length).toBeGreaterThan(0);
      for (const source of assessed[0]?.sources ?? []) expect(source).toMatch(/^docs\/rag\//);
    }
  });

  it('refuses the embedded store with exit 2 and one line naming the server stores', async () => {
    const run = await runNode([build.file], {
      TEMPORAL_ADDRESS: temporal.address,
      COPILOT_SCRAPE_URLS: temporal.metricsUrl,
      COPILOT_DATA_DIR: join(out, 'store'),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^copilot worker: the embedded store .* is not part of this build: set COPILOT_DATABASE_URL or COPILOT_DSQL_ENDPOINT/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'store'))).toBe(false);
  });

  it('refuses bad configuration before connecting anywhere: exit 2, the variable named', async () => {
    const missing = await runNode([build.file], { COPILOT_DATABASE_URL: pg.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('TEMPORAL_ADDRESS is not set');
    const both = await runNode([build.file], {
      TEMPORAL_ADDRESS: temporal.address,
      COPILOT_DATABASE_URL: pg.url,
      PROMETHEUS_URL: 'http://127.0.0.1:9/',
      COPILOT_CLUSTERS: '[{"name":"a","prometheusUrl":"http://127.0.0.1:9/"}]',
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('COPILOT_CLUSTERS lists every cluster');
  });

  it('fails with exit 2 naming `npm run build` when the prebuilt workflows are missing', async () => {
    // The entry alone in a directory of the build, so it still finds the copied packages.
    const alone = join(build.file, '..', 'alone');
    cpSync(build.file, join(alone, 'main.mjs'));
    const run = await runNode([join(alone, 'main.mjs')], {
      TEMPORAL_ADDRESS: temporal.address,
      COPILOT_DATABASE_URL: pg.url,
      COPILOT_SCRAPE_URLS: temporal.metricsUrl,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${join(alone, 'workflow-bundle.js')} is missing: run \`npm run build\``,
    );
  });
});
