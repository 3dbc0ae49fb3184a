import { join } from 'node:path';
import { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { type Command, Option } from 'commander';
import {
  describeJob,
  getIngestionJob,
  IngestionBusyError,
  IngestionCallError,
  IngestionThrottledError,
  IngestionWaitExhaustedError,
  isRunning,
  type JobReport,
  jobFailed,
  type KbTarget,
  listIngestionJobs,
  startIngestionJob,
  waitForJob,
} from '../../shared/aws/kb-ingestion.js';
import { applySync, planSync } from '../../shared/aws/kb-sync.js';
import { messageOf } from '../../shared/errors.js';
import { CorpusError, corpusHash, corpusObjects, readCorpus } from '../../shared/kb/corpus.js';
import { CliError, table } from '../cli-support.js';

/*
 * `copilot kb sync | start-ingestion | status | list-jobs`: the runbook knowledge base from a
 * terminal. Ids come from flags, else from the stack's outputs (`--stack`), else from the
 * environment; a command that needs an id refuses to run without it (the prior art's `kb status`
 * sent an empty data-source id). Exit codes, for scripts:
 *   0  done: synced, started, listed, or the job is COMPLETE
 *   1  the job FAILED or STOPPED (or completed with failed documents), or an AWS call failed
 *   2  usage or configuration: a missing id, a bad flag, a broken runbook, an unknown stack
 *   3  the job is still running (status of a running job, or --wait ran out of polls)
 *   4  another ingestion job is already running (start-ingestion)
 */

export const KB_EXIT = { ok: 0, failed: 1, usage: 2, running: 3, busy: 4 } as const;

/** Output keys of the knowledge-base construct's stack outputs (lib/knowledge-base.ts). */
const OUTPUT = {
  kb: 'CopilotKnowledgeBaseId',
  dataSource: 'CopilotKbDataSourceId',
  bucket: 'CopilotKbSourceBucket',
} as const;

interface KbFlags {
  kbId?: string;
  dataSourceId?: string;
  bucket?: string;
  stack?: string;
  region?: string;
}

const ROOT = join(import.meta.dirname, '../..');
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const note = (line: string): void => {
  process.stderr.write(`copilot kb: ${line}\n`);
};

function clients(flags: KbFlags, env: NodeJS.ProcessEnv) {
  // The SDK warns on every run under Node 20; the CLI prints only what the user asked for.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const common = region === undefined ? {} : { region };
  // An S3-compatible endpoint (AWS_ENDPOINT_URL[_S3]) serves buckets by path, not by host name.
  const pathStyle = (env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) !== undefined;
  return {
    agent: () => new BedrockAgentClient(common),
    s3: () => new S3Client({ ...common, forcePathStyle: pathStyle }),
    cloudformation: () => new CloudFormationClient(common),
  };
}

/** One line for any AWS failure, with the service's own error name. */
function awsFailure(what: string, error: unknown): CliError {
  const name = error instanceof Error ? error.name : 'Error';
  if (name === 'CredentialsProviderError')
    return new CliError(`${what}: no AWS credentials found (${messageOf(error)})`, KB_EXIT.usage);
  if (/region/i.test(messageOf(error)) && name === 'Error')
    return new CliError(`${what}: no AWS region: pass --region or set AWS_REGION`, KB_EXIT.usage);
  return new CliError(`${what}: ${name}: ${messageOf(error)}`, KB_EXIT.failed);
}

/** The stack's outputs, read once per command when `--stack` is given. */
async function stackOutputs(flags: KbFlags, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  if (flags.stack === undefined) return new Map();
  try {
    const out = await clients(flags, env)
      .cloudformation()
      .send(new DescribeStacksCommand({ StackName: flags.stack }));
    const outputs = out.Stacks?.[0]?.Outputs ?? [];
    return new Map(
      outputs.flatMap((o) =>
        o.OutputKey !== undefined && o.OutputValue !== undefined
          ? [[o.OutputKey, o.OutputValue]]
          : [],
      ),
    );
  } catch (error) {
    if (/does not exist/.test(messageOf(error)))
      throw new CliError(
        `stack ${flags.stack} does not exist (check --stack and --region)`,
        KB_EXIT.usage,
      );
    throw awsFailure(`reading the outputs of stack ${flags.stack}`, error);
  }
}

async function resolve(
  flags: KbFlags,
  env: NodeJS.ProcessEnv,
  need: { kb?: boolean; bucket?: boolean },
): Promise<{ target: KbTarget; bucket: string }> {
  const outputs = await stackOutputs(flags, env);
  const pick = (flag: string | undefined, key: string, variable: string) =>
    flag ?? outputs.get(key) ?? (env[variable] === '' ? undefined : env[variable]);
  const kbId = pick(flags.kbId, OUTPUT.kb, 'COPILOT_KB_ID');
  const dataSourceId = pick(flags.dataSourceId, OUTPUT.dataSource, 'COPILOT_KB_DATA_SOURCE_ID');
  const bucket = pick(flags.bucket, OUTPUT.bucket, 'COPILOT_KB_BUCKET');
  const from = flags.stack === undefined ? '' : ` (stack ${flags.stack} has no ${'%s'} output)`;
  const missing = (what: string, flag: string, variable: string, key: string) =>
    new CliError(
      `no ${what}: pass ${flag}, --stack NAME or set ${variable}${from.replace('%s', key)}`,
      KB_EXIT.usage,
    );
  if (need.kb === true) {
    if (kbId === undefined)
      throw missing('knowledge base id', '--kb-id', 'COPILOT_KB_ID', OUTPUT.kb);
    if (dataSourceId === undefined)
      throw missing(
        'data source id',
        '--data-source-id',
        'COPILOT_KB_DATA_SOURCE_ID',
        OUTPUT.dataSource,
      );
  }
  if (need.bucket === true && bucket === undefined)
    throw missing('corpus bucket', '--bucket', 'COPILOT_KB_BUCKET', OUTPUT.bucket);
  return {
    target: { knowledgeBaseId: kbId ?? '', dataSourceId: dataSourceId ?? '' },
    bucket: bucket ?? '',
  };
}

function exitFor(report: JobReport): number {
  if (isRunning(report.status)) return KB_EXIT.running;
  return jobFailed(report) ? KB_EXIT.failed : KB_EXIT.ok;
}

function print(report: JobReport, format: string): void {
  if (format === 'json') {
    say(JSON.stringify(report));
    return;
  }
  say(describeJob(report));
  for (const reason of report.failureReasons) say(`  reason: ${reason}`);
}

/** Maps the ingestion module's errors to one line and an exit code. */
function ingestionFailure(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof IngestionBusyError)
    return new CliError(
      error.runningJob === undefined
        ? error.message
        : `${error.message}; follow it with copilot kb status --job-id ${error.runningJob.jobId}`,
      KB_EXIT.busy,
    );
  if (error instanceof IngestionThrottledError) return new CliError(error.message, KB_EXIT.failed);
  if (error instanceof IngestionCallError)
    return error.errorName === 'MissingId'
      ? new CliError(error.message, KB_EXIT.usage)
      : awsFailure(error.operation, error.cause ?? error);
  return awsFailure('Bedrock', error);
}

interface WaitFlags {
  wait?: boolean;
  interval: number;
  timeout: number;
  maxPolls?: number;
  format: string;
}

/** Polls with progress lines on stderr (one per change); the final report on stdout. */
async function follow(
  agent: BedrockAgentClient,
  target: KbTarget,
  report: JobReport,
  opts: WaitFlags,
) {
  if (opts.wait !== true || !isRunning(report.status)) {
    print(report, opts.format);
    return exitFor(report);
  }
  const intervalMs = opts.interval * 1000;
  const maxPolls =
    opts.maxPolls ?? Math.max(1, Math.ceil(opts.timeout / Math.max(opts.interval, 1)));
  let last = '';
  try {
    const done = await waitForJob(agent, target, report.jobId, {
      maxPolls,
      intervalMs,
      onPoll: (r) => {
        const line = describeJob(r);
        if (line !== last) note(line);
        last = line;
      },
    });
    print(done, opts.format);
    return exitFor(done);
  } catch (error) {
    if (error instanceof IngestionWaitExhaustedError) {
      print(error.report, opts.format);
      note(error.message);
      return KB_EXIT.running;
    }
    throw error;
  }
}

const idOptions = (c: Command): Command =>
  c
    .option('--kb-id <id>', 'knowledge base id (env COPILOT_KB_ID)')
    .option('--data-source-id <id>', 'data source id (env COPILOT_KB_DATA_SOURCE_ID)')
    .option('--stack <name>', 'read the ids from this CloudFormation stack’s outputs')
    .option('--region <region>', 'AWS region (env AWS_REGION)');

const waitOptions = (c: Command): Command =>
  c
    .option('--wait', 'wait until the job ends, printing progress on stderr')
    .addOption(
      new Option('--interval <seconds>', 'seconds between polls while waiting')
        .default(10)
        .argParser(nonNegative('--interval')),
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up waiting after about this long (exit 3)')
        .default(1800)
        .argParser(nonNegative('--timeout')),
    )
    .addOption(
      new Option(
        '--max-polls <n>',
        'give up after this many polls (default: timeout / interval)',
      ).argParser(positiveInt('--max-polls')),
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    );

function nonNegative(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new CliError(`${flag} must be a number ≥ 0, got ${v}`, KB_EXIT.usage);
    return n;
  };
}
function positiveInt(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new CliError(`${flag} must be a whole number ≥ 1, got ${v}`, KB_EXIT.usage);
    return n;
  };
}

/** Registers `copilot kb …`. */
export function registerKbCommands(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const kb = program
    .command('kb')
    .description('runbook knowledge base: sync the corpus, start and follow ingestion jobs');

  kb.command('sync')
    .description(
      'upload docs/rag (runbooks and metadata sidecars) to the corpus bucket, removing what it no longer has',
    )
    .option('--bucket <name>', 'corpus bucket (env COPILOT_KB_BUCKET)')
    .option('--stack <name>', 'read the bucket from this CloudFormation stack’s outputs')
    .option('--region <region>', 'AWS region (env AWS_REGION)')
    .option('--dir <dir>', 'the runbook corpus', join(ROOT, 'docs/rag'))
    .option('--no-prune', 'keep objects the corpus does not have')
    .option('--dry-run', 'print what would change, change nothing')
    .action(async (opts: KbFlags & { dir: string; prune: boolean; dryRun?: boolean }) => {
      let objects: ReturnType<typeof corpusObjects>;
      try {
        objects = corpusObjects(readCorpus(opts.dir));
      } catch (error) {
        if (error instanceof CorpusError) throw new CliError(error.message, KB_EXIT.usage);
        throw error;
      }
      const { bucket } = await resolve(opts, env, { bucket: true });
      const s3 = clients(opts, env).s3();
      try {
        const plan = await planSync(s3, bucket, objects, { prune: opts.prune });
        for (const o of plan.upload)
          note(`${opts.dryRun === true ? 'would upload' : 'upload'} ${o.key}`);
        for (const k of plan.remove)
          note(`${opts.dryRun === true ? 'would delete' : 'delete'} ${k}`);
        if (opts.dryRun !== true) await applySync(s3, bucket, plan);
        say(
          `${opts.dryRun === true ? 'dry run: would upload' : 'uploaded'} ${plan.upload.length}, ` +
            `unchanged ${plan.unchanged.length}, ${opts.dryRun === true ? 'would delete' : 'deleted'} ` +
            `${plan.remove.length} in s3://${bucket} (corpus ${corpusHash(objects).slice(0, 12)})`,
        );
        if (opts.dryRun !== true && plan.upload.length + plan.remove.length > 0)
          note('start an ingestion job to index the changes: copilot kb start-ingestion --wait');
      } catch (error) {
        throw awsFailure(`syncing s3://${bucket}`, error);
      } finally {
        s3.destroy();
      }
    });

  waitOptions(
    idOptions(
      kb.command('start-ingestion').description('start an ingestion job of the data source'),
    ),
  ).action(async (opts: KbFlags & WaitFlags) => {
    const { target } = await resolve(opts, env, { kb: true });
    const agent = clients(opts, env).agent();
    try {
      const job = await startIngestionJob(agent, target, {
        description: 'copilot kb start-ingestion',
      });
      note(`started ingestion job ${job.jobId}`);
      process.exitCode = await follow(agent, target, job, opts);
    } catch (error) {
      throw ingestionFailure(error);
    } finally {
      agent.destroy();
    }
  });

  waitOptions(
    idOptions(
      kb
        .command('status')
        .description(
          'status and statistics of a job (default: the newest); exit 0 complete, 1 failed, 3 running',
        ),
    ).option('--job-id <id>', 'the ingestion job (default: the newest job of the data source)'),
  ).action(async (opts: KbFlags & WaitFlags & { jobId?: string }) => {
    const { target } = await resolve(opts, env, { kb: true });
    const agent = clients(opts, env).agent();
    try {
      let report: JobReport | undefined;
      if (opts.jobId !== undefined) report = await getIngestionJob(agent, target, opts.jobId);
      else {
        const newest = (await listIngestionJobs(agent, target, { maxResults: 1 }))[0];
        if (newest === undefined)
          throw new CliError(
            `data source ${target.dataSourceId} has no ingestion jobs yet`,
            KB_EXIT.failed,
          );
        // Summaries carry no failure reasons: read the job itself.
        report = await getIngestionJob(agent, target, newest.jobId);
      }
      process.exitCode = await follow(agent, target, report, opts);
    } catch (error) {
      throw ingestionFailure(error);
    } finally {
      agent.destroy();
    }
  });

  idOptions(kb.command('list-jobs').description('the newest ingestion jobs of the data source'))
    .addOption(new Option('--max <n>', 'how many jobs').default(10).argParser(positiveInt('--max')))
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (opts: KbFlags & { max: number; format: string }) => {
      const { target } = await resolve(opts, env, { kb: true });
      const agent = clients(opts, env).agent();
      try {
        const jobs = await listIngestionJobs(agent, target, { maxResults: opts.max });
        if (opts.format === 'json') return say(JSON.stringify(jobs));
        if (jobs.length === 0)
          return say(`no ingestion jobs for data source ${target.dataSourceId}`);
        const n = (r: JobReport, k: string) => String(r.statistics[k] ?? 0);
        say(
          table([
            ['job', 'status', 'started', 'scanned', 'indexed', 'deleted', 'failed'],
            ...jobs.map((r) => [
              r.jobId,
              r.status,
              r.startedAt ?? '-',
              n(r, 'numberOfDocumentsScanned'),
              String(
                (r.statistics.numberOfNewDocumentsIndexed ?? 0) +
                  (r.statistics.numberOfModifiedDocumentsIndexed ?? 0),
              ),
              n(r, 'numberOfDocumentsDeleted'),
              n(r, 'numberOfDocumentsFailed'),
            ]),
          ]),
        );
      } catch (error) {
        throw ingestionFailure(error);
      } finally {
        agent.destroy();
      }
    });
}
