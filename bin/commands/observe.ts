import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../shared/health/config.js';
import { type DecisionSummary, replayColumns, summarize } from '../../shared/health/decide.js';
import { evaluate } from '../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import { observeAll } from '../../shared/health/observation.js';
import type { SignalDef } from '../../shared/signals/types.js';
import {
  createPrometheusSource,
  type DialectChoice,
  type PrometheusAuth,
  type PrometheusSource,
} from '../../worker/sources/prometheus.js';
import { redactText, redactUrl } from '../../worker/sources/redact.js';
import { createScrapeSource } from '../../worker/sources/scrape.js';
import type { SignalSource } from '../../worker/sources/types.js';
import { CliError, evaluationFormatOption, loadEngineConfig, table } from '../cli-support.js';
import { printEvaluation, toLine } from '../report.js';

/** Longest replay accepted in one run; beyond it memory, not the source, becomes the limit. */
const MAX_REPLAY_STEPS = 200_000;

/**
 * Runs the engine over `[from, to]` at `stepMs`, carrying state from step to step exactly as the
 * observer workflow does. The source answers the whole range in a few range queries; the steps
 * become columns and the decision kernel runs over them (the same rules `evaluate` runs, without
 * materialising gate and service objects nobody prints).
 */
export async function replayRange(
  source: PrometheusSource,
  opts: {
    readonly from: number;
    readonly to: number;
    readonly stepMs: number;
    readonly config?: EngineConfig;
    readonly carried?: CarriedState | null;
    readonly signals?: readonly SignalDef[];
  },
): Promise<DecisionSummary[]> {
  const config = opts.config ?? DEFAULT_ENGINE_CONFIG;
  const cols =
    opts.signals === undefined
      ? await source.rangeColumns(opts.from, opts.to, opts.stepMs)
      : observeAll(
          await source.range(opts.from, opts.to, opts.stepMs, opts.signals),
          config.maxSampleAgeSec,
        );
  const out: DecisionSummary[] = [];
  replayColumns(config, cols, opts.carried, (d) => {
    out.push(summarize(d));
  });
  return out;
}

/** One observation cycle at `at`, evaluated with no carried state (what `copilot assess` prints). */
export async function assessAt(
  source: SignalSource,
  at: number,
  config?: EngineConfig,
  carried: CarriedState | null = null,
): Promise<Evaluation> {
  return evaluate(carried, await source.snapshot(at), config);
}

/** `30s`, `1m`, `500ms`, `2h`, or a bare number of seconds → ms. */
export function parseStep(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (m === null) throw new CliError(`invalid step "${raw}": use e.g. 30s, 1m, 500ms`, 2);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
  if (!Number.isInteger(ms) || ms < 1000) {
    throw new CliError(`invalid step "${raw}": must be a whole number of ms and at least 1s`, 2);
  }
  return ms;
}

/** An ISO-8601 instant with an explicit date → epoch ms. */
export function parseInstant(raw: string, what: string): number {
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) {
    throw new CliError(
      `invalid ${what} "${raw}": expected an ISO-8601 time like 2026-11-28T12:00:00Z`,
      2,
    );
  }
  return ms;
}

interface SourceOpts {
  prometheusUrl?: string;
  bearerToken?: string;
  basicAuth?: string;
  sigv4?: boolean;
  region?: string;
  dialect: 'auto' | 'tally' | 'otel';
  sdkDialect?: 'core' | 'go';
  sdkPrefix?: string;
  timeout: string;
  concurrency: string;
}

function positiveInt(raw: string, what: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`invalid ${what} "${raw}": a positive integer`, 2);
  return n;
}

/** Builds the Prometheus/AMP source from flags, then `PROMETHEUS_URL` / `AMP_WORKSPACE_URL`. */
export function prometheusFromOptions(
  opts: SourceOpts,
  env: NodeJS.ProcessEnv = process.env,
): PrometheusSource {
  const ampUrl = env.AMP_WORKSPACE_URL;
  const url = opts.prometheusUrl ?? env.PROMETHEUS_URL ?? ampUrl;
  if (url === undefined || url === '') {
    throw new CliError(
      'no source: pass --prometheus-url, or set PROMETHEUS_URL or AMP_WORKSPACE_URL',
      2,
    );
  }
  const chosen = [
    opts.bearerToken !== undefined,
    opts.basicAuth !== undefined,
    opts.sigv4 === true,
  ];
  if (chosen.filter(Boolean).length > 1) {
    throw new CliError('choose one of --bearer-token, --basic-auth and --sigv4', 2);
  }
  let auth: PrometheusAuth | undefined;
  if (opts.bearerToken !== undefined) auth = { kind: 'bearer', token: opts.bearerToken };
  else if (opts.basicAuth !== undefined) {
    const i = opts.basicAuth.indexOf(':');
    if (i < 1) throw new CliError('--basic-auth must be user:password', 2);
    auth = {
      kind: 'basic',
      username: opts.basicAuth.slice(0, i),
      password: opts.basicAuth.slice(i + 1),
    };
  } else if (
    opts.sigv4 === true ||
    (opts.prometheusUrl === undefined && env.PROMETHEUS_URL === undefined && ampUrl !== undefined)
  ) {
    auth = { kind: 'sigv4', ...(opts.region === undefined ? {} : { region: opts.region }) };
  }
  const dialect: DialectChoice = {
    server: opts.dialect,
    sdk: opts.sdkDialect ?? 'auto',
    ...(opts.sdkPrefix === undefined ? {} : { sdkPrefix: opts.sdkPrefix }),
  };
  // Configuration mistakes (PrometheusConfigError, SigV4ConfigError) exit 2 in bin/copilot.ts.
  return createPrometheusSource({
    url,
    dialect,
    timeoutMs: positiveInt(opts.timeout, 'timeout'),
    concurrency: positiveInt(opts.concurrency, 'concurrency'),
    ...(auth === undefined ? {} : { auth }),
    env,
  });
}

/** Fails with one line when the source cannot be reached; warns when it has no Temporal metrics. */
async function checkSource(source: PrometheusSource, from: number, to: number): Promise<void> {
  const p = await source.probe(from, to);
  if (!p.reachable) throw new CliError(p.warning ?? `cannot reach ${source.baseUrl}`);
  if (p.warning !== undefined) process.stderr.write(`copilot: warning: ${p.warning}\n`);
}

function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--prometheus-url <url>', 'Prometheus, Mimir or AMP base URL (env PROMETHEUS_URL)')
    .option('--bearer-token <token>', 'bearer token for the Prometheus API')
    .option('--basic-auth <user:password>', 'basic auth for the Prometheus API')
    .option('--sigv4', 'sign requests with SigV4 for AMP (implied by env AMP_WORKSPACE_URL)')
    .option('--region <region>', 'AWS region for SigV4 (default: from the URL, then AWS_REGION)')
    .addOption(
      new Option('--dialect <dialect>', 'server metric dialect')
        .choices(['auto', 'tally', 'otel'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--sdk-dialect <dialect>',
        'SDK metric dialect (default: detect, else core)',
      ).choices(['core', 'go']),
    )
    .option('--sdk-prefix <prefix>', 'SDK metric prefix (default temporal_)')
    .option('--timeout <ms>', 'per-query timeout in ms', '10000')
    .option('--concurrency <n>', 'queries in flight at once', '8')
    .option('--config <file>', 'engine configuration (thresholds, overrides) as JSON');
}

function lineTable(evals: readonly DecisionSummary[]): string {
  const rows = [['TIMESTAMP', 'STATE', 'REASON', 'BAND', 'BOTTLENECK', 'IDLE', 'BUSY', 'FIRED']];
  for (const e of evals) {
    const l = toLine(e);
    rows.push([
      l.timestamp,
      l.health_state,
      l.reason,
      l.scale_band,
      l.bottleneck,
      String(l.idle),
      String(l.system_busy),
      l.fired_gates.join(',') || '-',
    ]);
  }
  return table(rows);
}

/** The direct scrape of Temporal `/metrics` endpoints (no Prometheus involved). */
function scrapeSource(raw: string, opts: SourceOpts): SignalSource {
  const urls = raw
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) throw new CliError('--scrape-url needs at least one URL', 2);
  for (const u of urls) {
    if (!URL.canParse(u)) throw new CliError(`invalid scrape URL: ${redactUrl(u)}`, 2);
  }
  // ScrapeSourceConfigError is a ConfigurationError: exit 2 in bin/copilot.ts.
  return createScrapeSource({
    urls,
    timeoutMs: positiveInt(opts.timeout, 'timeout'),
    dialect: {
      ...(opts.dialect === 'auto' ? {} : { server: opts.dialect }),
      ...(opts.sdkDialect === undefined ? {} : { sdk: opts.sdkDialect }),
      ...(opts.sdkPrefix === undefined ? {} : { sdkPrefix: opts.sdkPrefix }),
    },
  });
}

/** `copilot replay` and `copilot assess`: the engine over a real metrics source. */
export function registerObserveCommands(program: Command): void {
  addSourceOptions(
    program
      .command('replay')
      .description(
        'run the health engine over a time range of Prometheus history, one line per step',
      ),
  )
    .requiredOption('--from <iso>', 'start of the range (ISO-8601)')
    .requiredOption('--to <iso>', 'end of the range (ISO-8601)')
    .option('--step <duration>', 'evaluation step (30s, 1m, …)', '30s')
    .option(
      '--changes',
      'print only the steps where the state changed (the first step always prints)',
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'table']).default('json'),
    )
    .action(
      async (
        opts: SourceOpts & {
          from: string;
          to: string;
          step: string;
          config?: string;
          format: string;
          changes?: boolean;
        },
      ) => {
        const from = parseInstant(opts.from, '--from');
        const to = parseInstant(opts.to, '--to');
        if (from >= to) throw new CliError('--from must be before --to', 2);
        const stepMs = parseStep(opts.step);
        const steps = Math.floor((to - from) / stepMs) + 1;
        if (steps > MAX_REPLAY_STEPS) {
          throw new CliError(`range has ${steps} steps; at most ${MAX_REPLAY_STEPS} per replay`, 2);
        }
        const config = loadEngineConfig(opts.config);
        const source = prometheusFromOptions(opts);
        try {
          await checkSource(source, from, to);
          const all = await replayRange(source, { from, to, stepMs, config });
          const evals = opts.changes === true ? all.filter((e) => e.changed) : all;
          if (opts.format === 'table') process.stdout.write(`${lineTable(evals)}\n`);
          else process.stdout.write(evals.map((e) => `${JSON.stringify(toLine(e))}\n`).join(''));
        } finally {
          await source.close();
        }
      },
    );

  addSourceOptions(
    program
      .command('assess')
      .description('run the health engine on one observation of a live source'),
  )
    .option('--scrape-url <urls>', 'scrape Temporal /metrics endpoints directly (comma-separated)')
    .option('--at <iso>', 'evaluation instant (default: now)')
    .addOption(evaluationFormatOption())
    .action(
      async (
        opts: SourceOpts & { at?: string; scrapeUrl?: string; config?: string; format: string },
      ) => {
        const at = opts.at === undefined ? Date.now() : parseInstant(opts.at, '--at');
        const config = loadEngineConfig(opts.config);
        let source: SignalSource;
        if (opts.scrapeUrl !== undefined) {
          // A scrape reads the endpoints as they are now; it has no history to evaluate at --at.
          if (opts.at !== undefined) throw new CliError('--at cannot be used with --scrape-url', 2);
          if (opts.prometheusUrl !== undefined) {
            throw new CliError('choose one of --prometheus-url and --scrape-url', 2);
          }
          source = scrapeSource(opts.scrapeUrl, opts);
        } else {
          const prom = prometheusFromOptions(opts);
          try {
            await checkSource(prom, at - 3_600_000, at);
          } catch (error) {
            await prom.close();
            throw error;
          }
          source = prom;
        }
        try {
          const snap = await source.snapshot(at);
          const values = Object.values(snap.values);
          const first = values[0];
          if (
            opts.scrapeUrl !== undefined &&
            first?.status === 'error' &&
            values.every((v) => v.status === 'error')
          ) {
            throw new CliError(`cannot scrape ${redactText(opts.scrapeUrl)}: ${first.message}`);
          }
          const e = evaluate(null, snap, config);
          printEvaluation(e, opts.format);
        } finally {
          await source.close();
        }
      },
    );
}
