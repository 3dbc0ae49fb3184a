import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
} from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import { type Dialect, seriesName } from '../../shared/signals/dialect.js';
import { parseExposition } from '../../shared/signals/exposition.js';
import { compileMatcher, indexScrape, type Scrape } from '../../shared/signals/measure-eval.js';
import type { Measure, SeriesSelector } from '../../shared/signals/types.js';
import type { Snapshot } from '../../shared/signals/value.js';
import { createScrapeSource, type ScrapeSource } from '../../worker/sources/scrape.js';
import { findTemporalCli, TemporalCliNotFoundError } from '../../worker/temporal-cli.js';
import * as activities from '../fixtures/temporal/activities.js';
import {
  DevServerError,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../support/temporal-dev-server.js';

/**
 * A real Temporal dev server under a real TypeScript SDK workload, observed through the direct
 * scrape source: every catalog signal whose series the server actually exposes must resolve to a
 * number. The list is computed from the server's own `/metrics`, never from memory.
 */

/** The signals every Temporal server emits under load; the list below must contain them all. */
const CORE = [
  'state_transitions.throughput_per_sec',
  'workflow_completion.success_per_sec',
  'history.task_processing_rate_per_sec',
  'history.backlog_age_sec',
  'history.request_latency_p99_ms',
  'persistence.latency_p95_ms',
  'persistence.latency_p99_ms',
  'frontend.latency_p99_ms',
  'frontend.request_rate_per_sec',
  'poller.poll_success_rate',
  'poller.poll_timeout_rate',
  'matching.backlog_count',
  'matching.workflow_backlog_age_sec',
  'runtime.goroutines',
];

const TASK_QUEUE = 'copilot-it';
const WARM_UP = 10;
const WORKFLOWS = 30;

async function fetchScrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  return indexScrape(Date.now(), parseExposition(await res.text()));
}

function selectorExposed(
  sel: SeriesSelector,
  part: 'value' | 'count' | 'bucket',
  scrape: Scrape,
  d: Dialect,
) {
  const samples = scrape.byName.get(seriesName(sel.metric, part, d)) ?? [];
  const preds = sel.matchers.map(compileMatcher);
  return samples.some((s) => preds.every((p) => p(s.labels)));
}

/**
 * Observations a histogram's matching series gained between two raw scrapes, from their `_count`
 * alone: an independent check that a quantile has data to work on (a GC pause histogram, say,
 * only moves when the Go runtime collects).
 */
function observationsBetween(
  sel: SeriesSelector,
  before: Scrape,
  after: Scrape,
  d: Dialect,
): number {
  const preds = sel.matchers.map(compileMatcher);
  const name = seriesName(sel.metric, 'count', d);
  const key = (labels: Readonly<Record<string, string>>) =>
    JSON.stringify(Object.entries(labels).sort());
  const old = new Map((before.byName.get(name) ?? []).map((s) => [key(s.labels), s.value]));
  let total = 0;
  for (const s of after.byName.get(name) ?? []) {
    if (!preds.every((p) => p(s.labels))) continue;
    const was = old.get(key(s.labels));
    if (was !== undefined) total += s.value - was;
  }
  return total;
}

/** Whether the exposition holds series that the measure reads (label matchers applied). */
function exposes(m: Measure, scrape: Scrape, d: Dialect): boolean {
  switch (m.kind) {
    case 'rate':
      return m.series.some((s) =>
        selectorExposed(
          s,
          s.metric.type === 'timer' || s.metric.type === 'histogram' ? 'count' : 'value',
          scrape,
          d,
        ),
      );
    case 'gauge':
      return m.series.some((s) => selectorExposed(s, 'value', scrape, d));
    case 'quantile':
      return selectorExposed(m.series, 'bucket', scrape, d);
    case 'ratio':
      return exposes(m.numerator, scrape, d) && exposes(m.denominator, scrape, d);
  }
}

describe('direct scrape of a real Temporal dev server', () => {
  let server: TemporalDevServer;
  let source: ScrapeSource;

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Another test in this process installed the runtime first; its logger is fine.
    }
    server = await startTemporalDevServer({
      // Long polls normally wait ~60 s before timing out empty; 3 s lets poll timeouts (and the
      // poll timeout rate) appear within this test instead of a minute later.
      extraArgs: ['--dynamic-config-value', 'matching.longPollExpirationInterval="3s"'],
    });
    source = createScrapeSource({ urls: [server.metricsUrl], minIntervalMs: 1000 });
  });

  afterAll(async () => {
    await source?.close();
    await server?.stop();
  });

  it('resolves every catalog signal the server exposes to an ok value', async () => {
    // Prepare: a real workload — a workflow that runs an activity. A warm-up batch first, so the
    // lazily created series exist before the window opens: a series' first sample carries no
    // increase, in Prometheus and here alike.
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../fixtures/temporal/workflows.ts', import.meta.url)),
      logger: new DefaultLogger('WARN'),
    });
    const native = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    let baselineRaw: Scrape | undefined;
    try {
      const worker = await Worker.create({
        connection: native,
        namespace: server.namespace,
        taskQueue: TASK_QUEUE,
        workflowBundle,
        activities,
      });
      const client = new Client({ connection, namespace: server.namespace });
      const batch = async (from: number, count: number) => {
        const handles = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            client.workflow.start('greetingWorkflow', {
              taskQueue: TASK_QUEUE,
              workflowId: `copilot-it-${from + i}`,
              args: [{ name: `n${from + i}` }],
            }),
          ),
        );
        return Promise.all(handles.map((h) => h.result()));
      };
      const results = await worker.runUntil(async () => {
        await batch(0, WARM_UP);
        // The baseline observation (two scrapes on this first call) and a raw scrape beside it.
        const baseline = await source.snapshot(Date.now());
        expect(baseline.values['runtime.goroutines']?.status).toBe('ok');
        baselineRaw = await fetchScrape(server.metricsUrl);
        // Act: the measured batch.
        return batch(WARM_UP, WORKFLOWS);
      });
      expect(results).toHaveLength(WORKFLOWS);
      expect(results[0]).toBe(`hello, n${WARM_UP}`);
    } finally {
      await connection.close();
      await native.close();
    }

    // Observe until every exposed signal has a value. Bounded by attempts, not timed: lazily
    // created series (poll timeouts, GC pauses) need a few seconds to show up.
    let snap: Snapshot | undefined;
    let expected: string[] = [];
    let idleHistograms: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      snap = await source.snapshot(Date.now());
      const newest = await fetchScrape(server.metricsUrl);
      const d = source.dialect();
      const exposed = SIGNAL_CATALOG.filter((s) => exposes(s.measure, newest, d));
      // A quantile needs observations in its window; a histogram that did not move (no GC ran)
      // is exposed but has nothing to report, and must then read absent.
      const moved = (m: Measure) =>
        m.kind !== 'quantile' ||
        (baselineRaw !== undefined && observationsBetween(m.series, baselineRaw, newest, d) > 0);
      expected = exposed.filter((s) => moved(s.measure)).map((s) => s.id);
      idleHistograms = exposed.filter((s) => !moved(s.measure)).map((s) => s.id);
      if (expected.every((id) => snap?.values[id]?.status === 'ok')) break;
    }
    if (snap === undefined) throw new Error('no snapshot taken');

    // Assess: record what this server emits, then hold every exposed signal to a value.
    const notExposed = SIGNAL_CATALOG.map((s) => s.id).filter(
      (id) => !expected.includes(id) && !idleHistograms.includes(id),
    );
    console.info(
      `dev server (dialect ${JSON.stringify(source.dialect())}) emits ${expected.length} of ` +
        `${SIGNAL_CATALOG.length} catalog signals:\n  ${expected.join('\n  ')}\n` +
        `exposed, no observations in the window: ${idleHistograms.join(', ') || 'none'}\n` +
        `not exposed:\n  ${notExposed.join('\n  ')}`,
    );
    expect(source.dialect().server).toBe('tally');
    const values = snap.values;
    const notOk = expected.filter((id) => values[id]?.status !== 'ok');
    expect(notOk, JSON.stringify(Object.fromEntries(notOk.map((id) => [id, values[id]])))).toEqual(
      [],
    );
    expect(expected).toEqual(expect.arrayContaining(CORE));
    // Nothing the server does not expose may pretend to have a value, and nothing failed.
    for (const id of [...notExposed, ...idleHistograms]) {
      expect(values[id], id).toEqual({ status: 'absent' });
    }
    // The workload is visible: real forward progress, not just zeros.
    const num = (id: string) => {
      const v = values[id];
      return v?.status === 'ok' ? v.value : Number.NaN;
    };
    expect(num('state_transitions.throughput_per_sec')).toBeGreaterThan(0);
    expect(num('workflow_completion.success_per_sec')).toBeGreaterThan(0);
    expect(num('history.task_processing_rate_per_sec')).toBeGreaterThan(0);
    expect(num('persistence.latency_p99_ms')).toBeGreaterThan(0);
    expect(num('poller.poll_success_rate')).toBeGreaterThan(0);
  });

  it('turns a dead server into error values, never zeros', async () => {
    await server.stop();
    const snap = await source.snapshot(Date.now());
    const statuses = new Set(Object.values(snap.values).map((v) => v.status));
    expect([...statuses]).toEqual(['error']);
    expect(snap.values['state_transitions.throughput_per_sec']).toMatchObject({
      status: 'error',
      message: expect.stringContaining(server.metricsUrl),
    });
  });
});

describe('findTemporalCli', () => {
  it('prefers TEMPORAL_CLI_PATH, then PATH, and rejects a non-executable explicit path', () => {
    // Prepare: a directory holding an executable named `temporal` and a non-executable file.
    const dir = mkdtempSync(join(tmpdir(), 'copilot-cli-'));
    try {
      const bin = join(dir, 'temporal');
      writeFileSync(bin, '#!/bin/sh\n');
      chmodSync(bin, 0o755);
      const plain = join(dir, 'plain');
      writeFileSync(plain, '');
      // Act / Assess
      expect(findTemporalCli({ TEMPORAL_CLI_PATH: bin, PATH: '' })).toBe(bin);
      expect(findTemporalCli({ PATH: `/nonexistent:${dir}` })).toBe(bin);
      expect(() => findTemporalCli({ TEMPORAL_CLI_PATH: plain, PATH: dir })).toThrow(
        TemporalCliNotFoundError,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Past PATH the lookup asks `go env GOPATH`, which reads the process environment (GOPATH, else
  // $HOME/go), not the `env` argument: these cases point it at temp dirs for the call's duration.
  const hasGo = (() => {
    try {
      execFileSync('go', ['version'], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  })();

  function withGoEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const apply = (values: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    apply(vars);
    try {
      return fn();
    } finally {
      apply(saved);
    }
  }

  function fakeCli(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
  }

  it('says how to install when PATH and GOPATH both miss', () => {
    const empty = mkdtempSync(join(tmpdir(), 'copilot-nogo-'));
    try {
      const error = withGoEnv(
        { HOME: empty, GOPATH: empty, GOBIN: join(empty, 'bin'), GOENV: 'off' },
        () => {
          try {
            findTemporalCli({ PATH: '' });
            return undefined;
          } catch (e) {
            return e;
          }
        },
      );
      expect(error).toBeInstanceOf(TemporalCliNotFoundError);
      const message = String(error);
      expect(message).toMatch(/go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/);
      expect(message).toContain(hasGo ? join(empty, 'bin', 'temporal') : '(go not found)');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasGo)('finds the go-installed binary under $HOME/go and under GOPATH', () => {
    const home = mkdtempSync(join(tmpdir(), 'copilot-gohome-'));
    try {
      const underHome = join(home, 'go', 'bin', 'temporal');
      fakeCli(underHome);
      expect(
        withGoEnv({ HOME: home, GOPATH: undefined, GOENV: 'off' }, () =>
          findTemporalCli({ PATH: '' }),
        ),
      ).toBe(underHome);
      // GOPATH wins over $HOME/go; of a list, `go install` writes to the first entry's bin.
      const gopath = join(home, 'gopath');
      const underGopath = join(gopath, 'bin', 'temporal');
      fakeCli(underGopath);
      expect(
        withGoEnv(
          { HOME: home, GOPATH: `${gopath}${delimiter}${join(home, 'go')}`, GOENV: 'off' },
          () => findTemporalCli({ PATH: '' }),
        ),
      ).toBe(underGopath);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('startTemporalDevServer', () => {
  it('gives up after three early exits and says why', async () => {
    const error = await startTemporalDevServer({ extraArgs: ['--log-level', 'nonsense'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DevServerError);
    expect((error as DevServerError).exitedEarly).toBe(true);
    expect((error as Error).message).toMatch(/exited with [1-9]\d*: .*nonsense is not one of/s);
  });
});
