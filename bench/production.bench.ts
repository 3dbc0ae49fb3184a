import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BundleReport, buildCli, buildLambdas } from '../scripts/build.js';
import { openStore } from '../shared/store/connection.js';
import { runMigrations } from '../shared/store/migrations.js';
import { ensureCluster } from '../shared/store/writes.js';
import { startTestPostgres } from '../test/support/postgres.js';

/*
 * The production build's Lambda bundles (`npm run build`, scripts/build.ts): size, and cold
 * initialisation in a fresh `node` process — importing the bundle (Lambda's INIT phase), then
 * the first `/status` (environment parsed, pool opened, first connection, the reads). Local disk
 * and no Lambda runtime start: a lower bound for a real cold start. And the CLI's start through
 * tsx against its bundle.
 */

const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const bytes = (n: number) => `${n.toLocaleString('en-US')} B`;
const API_KEY = 'bench-api-key-0123456789';

function coldStart(file: string, databaseUrl: string, n: number) {
  const script = `
    const t0 = performance.now();
    const { handler } = await import(${JSON.stringify(file)});
    const t1 = performance.now();
    const r = await handler({ version: '2.0', routeKey: '$default', rawPath: '/status', rawQueryString: '',
      headers: { 'x-api-key': ${JSON.stringify(API_KEY)} },
      requestContext: { http: { method: 'GET', path: '/status' }, stage: '$default', timeEpoch: Date.now() } },
      { functionName: 'copilot-api', awsRequestId: 'cold', getRemainingTimeInMillis: () => 29000 });
    const t2 = performance.now();
    process.stdout.write(JSON.stringify({ init: t1 - t0, first: t2 - t1, status: r.statusCode }));
    process.exit(0);`;
  const runs: { init: number; first: number; status: number }[] = [];
  for (let i = 0; i < n; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        COPILOT_DATABASE_URL: databaseUrl,
        COPILOT_API_KEY: API_KEY,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      encoding: 'utf8',
    });
    runs.push(JSON.parse(out) as { init: number; first: number; status: number });
  }
  return {
    init: median(runs.map((r) => r.init)),
    first: median(runs.map((r) => r.first)),
    status: [...new Set(runs.map((r) => r.status))].join('/'),
  };
}

function startTime(args: readonly string[], n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    execFileSync(process.execPath, [...args, '--version'], { encoding: 'utf8' });
    times.push(performance.now() - t);
  }
  return median(times);
}

const sizes = (r: BundleReport) =>
  `${kib(r.bytes)} = ${bytes(r.bytes)} (${kib(gzipSync(readFileSync(r.file)).length)} gzipped)`;

export async function productionBench(): Promise<string[]> {
  const lines: string[] = [];
  const out = resolve(`.cache/bench/production-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const pg = await startTestPostgres();
  const store = await openStore({ dialect: 'postgres', url: pg.url });
  try {
    await runMigrations(store.sql, store.dialect);
    await ensureCluster(store.sql, 'local');
    const deployed = await buildLambdas(resolve(out, 'lambda'));
    for (const [name, r] of Object.entries(deployed))
      lines.push(
        `Lambda ${name}: ${sizes(r)} — as deployed (lib/lambda-bundling.ts: SDK bundled, credentials from the environment)`,
      );
    const api = deployed.api as BundleReport;
    const variants: [string, BundleReport][] = [
      ['as deployed (SDK bundled, credentials from the environment)', api],
      [
        "with the SDK's whole default credential chain",
        (
          await buildLambdas(resolve(out, 'chain'), {
            entries: { api: 'lambda/api.ts' },
            environmentCredentials: false,
          })
        ).api as BundleReport,
      ],
      [
        '@aws-sdk/* left to the runtime (NodejsFunction default)',
        (
          await buildLambdas(resolve(out, 'sdk-external'), {
            entries: { api: 'lambda/api.ts' },
            externalSdk: true,
          })
        ).api as BundleReport,
      ],
    ];
    for (const [what, r] of variants) {
      const cold = coldStart(r.file, pg.url, 7);
      lines.push(
        `API bundle, ${what}: ${sizes(r)}; fresh node process: import ${cold.init.toFixed(0)} ms, ` +
          `first /status ${cold.first.toFixed(0)} ms (HTTP ${cold.status}) — median of 7`,
      );
    }
    const cli = await buildCli(resolve(out, 'cli'));
    lines.push(
      `CLI: dist/cli/copilot.mjs ${kib(cli.bytes)}; \`copilot --version\` ${startTime([cli.file], 5).toFixed(0)} ms bundled, ` +
        `${startTime(['bin/copilot.js'], 5).toFixed(0)} ms through tsx (bin/copilot.js in a checkout) — median of 5`,
    );
  } finally {
    await store.close();
    await pg.stop();
    rmSync(out, { recursive: true, force: true });
  }
  return lines;
}
