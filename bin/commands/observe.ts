import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../shared/health/config.js';
import { type DecisionSummary, replayColumns, summarize } from '../../shared/health/decide.js';
import { evaluate } from '../../shared/health/engine.js';
import type { CarriedState, Evaluation } from '../../shared/health/evaluation.js';
import { type ObservationColumns, observeAll } from '../../shared/health/observation.js';
import type { SignalDef } from '../../shared/signals/types.js';
import { parseExplainerEnv } from '../../worker/explain/config.js';
import type { PrometheusSource } from '../../worker/sources/prometheus.js';
import { redactUrl } from '../../worker/sources/redact.js';
import {
  type MetricsFlags,
  MetricsSourceConfigError,
  NO_SOURCE,
  type OpenMetricsOptions,
  openMetricsSource,
  type PrometheusTarget,
  type ScrapeTarget,
  selectMetricsSource,
} from '../../worker/sources/select.js';
import type { SignalSource } from '../../worker/sources/types.js';
import { CliError, evaluationFormatOption, loadEngineConfig, table } from '../cli-support.js';
import { printEvaluation, toLine } from '../report.js';
import { type ExplanationLine, explainSteps } from './replay-explain.js';

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
  return (await replayRangeColumns(source, opts)).steps;
}

/** {@link replayRange}, keeping the observations read, so chosen steps can be evaluated in full. */
export async function replayRangeColumns(
  source: PrometheusSource,
  opts: Parameters<typeof replayRange>[1],
): Promise<{ steps: DecisionSummary[]; columns: ObservationColumns }> {
  const config = opts.config ?? DEFAULT_ENGINE_CONFIG;
  const columns =
    opts.signals === undefined
      ? await source.rangeColumns(opts.from, opts.to, opts.stepMs)
      : observeAll(
          await source.range(opts.from, opts.to, opts.stepMs, opts.signals),
          config.maxSampleAgeSec,
        );
  const steps: DecisionSummary[] = [];
  replayColumns(config, columns, opts.carried, (d) => {
    steps.push(summarize(d));
  });
  return { steps, columns };
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

/** The flags of `addSourceOptions`, as commander hands them over. */
interface SourceOpts extends MetricsFlags {
  timeout: string;
  concurrency: string;
}

function positiveInt(raw: string, what: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`invalid ${what} "${raw}": a positive integer`, 2);
  return n;
}

/**
 * The metrics source the flags name, else the environment (`PROMETHEUS_URL`,
 * `AMP_WORKSPACE_URL`, `COPILOT_SCRAPE_URLS`, `COPILOT_METRICS_DIALECT`, `AWS_REGION`), chosen
 * by the selector the worker uses: the same conflicts are refused with the same message
 * (MetricsSourceConfigError, a ConfigurationError: exit 2 in bin/copilot.ts).
 */
export function selectFromOptions(
  opts: SourceOpts,
  env: NodeJS.ProcessEnv = process.env,
): PrometheusTarget | ScrapeTarget {
  const target = selectMetricsSource(env, opts);
  if (target.kind === 'none') throw new MetricsSourceConfigError(NO_SOURCE);
  return target;
}

function openOptions(opts: SourceOpts, env: NodeJS.ProcessEnv): OpenMetricsOptions {
  return {
    timeoutMs: positiveInt(opts.timeout, 'timeout'),
    concurrency: positiveInt(opts.concurrency, 'concurrency'),
    env,
  };
}

/** Builds the Prometheus/AMP source `replay` needs; a scrape has no history to replay. */
export function prometheusFromOptions(
  opts: SourceOpts,
  env: NodeJS.ProcessEnv = process.env,
): PrometheusSource {
  const target = selectFromOptions(opts, env);
  if (target.kind !== 'prometheus') {
    throw new CliError(
      'replay reads history from Prometheus, and a direct scrape has none: pass --prometheus-url, or set PROMETHEUS_URL or AMP_WORKSPACE_URL instead of COPILOT_SCRAPE_URLS',
      2,
    );
  }
  // Configuration mistakes (PrometheusConfigError, SigV4ConfigError) exit 2 in bin/copilot.ts.
  return openMetricsSource(target, openOptions(opts, env));
}

/** Fails with one line when the source cannot be reached; warns when it has no Temporal metrics. */
async function checkSource(source: PrometheusSource, from: number, to: number): Promise<void> {
  const p = await source.probe(from, to);
  if (!p.reachable) throw new CliError(p.warning ?? `cannot reach ${source.baseUrl}`);
  if (p.warning !== undefined) process.stderr.write(`copilot: warning: ${p.warning}\n`);
}

function addSourceOptions(cmd: Command): Command {
  return cmd
    .option(
      '--prometheus-url <url>',
      'Prometheus, Mimir or AMP base URL (env PROMETHEUS_URL, or AMP_WORKSPACE_URL with SigV4)',
    )
    .option('--bearer-token <token>', 'bearer token for the Prometheus API')
    .option('--basic-auth <user:password>', 'basic auth for the Prometheus API')
    .option('--sigv4', 'sign requests with SigV4 for AMP (implied by env AMP_WORKSPACE_URL)')
    .option('--region <region>', 'AWS region for SigV4 (default: from the URL, then AWS_REGION)')
    .addOption(
      // No commander default: an unset flag leaves COPILOT_METRICS_DIALECT, then auto.
      new Option(
        '--dialect <dialect>',
        'server metric dialect (env COPILOT_METRICS_DIALECT; default: auto, detected)',
      ).choices(['auto', 'tally', 'otel']),
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

function lineTable(
  shown: readonly number[],
  steps: readonly DecisionSummary[],
  explained: ReadonlyMap<number, ExplanationLine>,
): string {
  const rows = [['TIMESTAMP', 'STATE', 'REASON', 'BAND', 'BOTTLENECK', 'IDLE', 'BUSY', 'FIRED']];
  const notes: string[] = [];
  for (const i of shown) {
    const l = toLine(steps[i] as DecisionSummary);
    const x = explained.get(i);
    if (x !== undefined)
      notes.push(
        `${l.timestamp}  [${x.explainer}${x.fallback_reason === null ? '' : `, fallback: ${x.fallback_reason}`}] ${x.summary}`,
      );
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
  return notes.length === 0 ? table(rows) : `${table(rows)}\n\n${notes.join('\n')}`;
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
    .option(
      '--explain',
      'explain each state change as the observer would: the rules grounded in the local runbooks, or Bedrock with COPILOT_EXPLAINER=bedrock (its hourly budget caps the replay)',
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
          explain?: boolean;
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
        // Read before any query: a wrong model or region is a usage error, not a late failure.
        const explainer = opts.explain === true ? parseExplainerEnv(process.env) : undefined;
        const source = prometheusFromOptions(opts);
        try {
          await checkSource(source, from, to);
          const { steps, columns } = await replayRangeColumns(source, { from, to, stepMs, config });
          const shown = steps.flatMap((e, i) => (opts.changes !== true || e.changed ? [i] : []));
          const explained =
            explainer === undefined
              ? new Map<number, ExplanationLine>()
              : await explainSteps(
                  steps,
                  columns,
                  shown.filter((i) => steps[i]?.changed === true),
                  explainer,
                  { config },
                );
          if (opts.format === 'table')
            process.stdout.write(`${lineTable(shown, steps, explained)}\n`);
          else
            process.stdout.write(
              shown
                .map((i) => {
                  const x = explained.get(i);
                  const line = toLine(steps[i] as DecisionSummary);
                  return `${JSON.stringify(x === undefined ? line : { ...line, explanation: x })}\n`;
                })
                .join(''),
            );
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
        const target = selectFromOptions(opts);
        let source: SignalSource;
        if (target.kind === 'scrape') {
          // A scrape reads the endpoints as they are now; it has no history to evaluate at --at.
          if (opts.at !== undefined) {
            throw new CliError('--at cannot be used with a direct scrape (--scrape-url)', 2);
          }
          source = openMetricsSource(target, openOptions(opts, process.env));
        } else {
          const prom = openMetricsSource(target, openOptions(opts, process.env));
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
            target.kind === 'scrape' &&
            first?.status === 'error' &&
            values.every((v) => v.status === 'error')
          ) {
            const urls = target.urls.map((u) => redactUrl(u)).join(',');
            throw new CliError(`cannot scrape ${urls}: ${first.message}`);
          }
          const e = evaluate(null, snap, config);
          printEvaluation(e, opts.format);
        } finally {
          await source.close();
        }
      },
    );
}
