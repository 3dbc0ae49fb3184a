import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { corpusObjects, readCorpus } from '../../shared/kb/corpus.js';
import { type FakeBedrockAgent, startFakeBedrockAgent } from '../support/bedrock-agent-server.js';
import { runCopilot } from '../support/copilot-cli.js';
import { type Moto, startMoto } from '../support/moto.js';

const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'AKIDKBCLI', secretAccessKey: 'kb-cli-secret' };
const TARGET = { knowledgeBaseId: 'KBCLI00001', dataSourceId: 'DSCLI00001' };
const CORPUS = join(import.meta.dirname, '../../docs/rag');
const CORPUS_OBJECTS = corpusObjects(readCorpus(CORPUS));

let moto: Moto;
let bedrock: FakeBedrockAgent;
let s3: S3Client;
const tmp: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({
    endpoint: moto.url,
    forcePathStyle: true,
    region: REGION,
    credentials: CREDENTIALS,
  });
  // The stack a deploy leaves: the corpus bucket and the outputs `copilot kb --stack` reads.
  await new CloudFormationClient({
    endpoint: moto.url,
    region: REGION,
    credentials: CREDENTIALS,
  }).send(
    new CreateStackCommand({
      StackName: 'CopilotKb',
      TemplateBody: JSON.stringify({
        Resources: {
          Corpus: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'stack-corpus' } },
        },
        Outputs: {
          CopilotKnowledgeBaseId: { Value: TARGET.knowledgeBaseId },
          CopilotKbDataSourceId: { Value: TARGET.dataSourceId },
          CopilotKbSourceBucket: { Value: { Ref: 'Corpus' } },
        },
      }),
    }),
  );
});
afterAll(async () => {
  await moto?.stop();
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});
beforeEach(async () => {
  await bedrock?.close();
  bedrock = await startFakeBedrockAgent([TARGET]);
});

/** Runs `copilot kb …` as a user does, against moto (S3, CloudFormation) and the local Bedrock. */
function kb(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCopilot(['kb', ...args], {
    env: {
      AWS_ENDPOINT_URL_S3: moto.url,
      AWS_ENDPOINT_URL_CLOUDFORMATION: moto.url,
      AWS_ENDPOINT_URL_BEDROCK_AGENT: bedrock.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      COPILOT_KB_ID: '',
      COPILOT_KB_DATA_SOURCE_ID: '',
      COPILOT_KB_BUCKET: '',
      ...extraEnv,
    },
  });
}
const ids = ['--kb-id', TARGET.knowledgeBaseId, '--data-source-id', TARGET.dataSourceId];
const oneLine = (stderr: string) => stderr.trim().split('\n');

async function bucketKeys(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

describe('copilot kb sync (real S3 client against moto)', () => {
  it('uploads every runbook and its metadata sidecar, then nothing when nothing changed', async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'sync-corpus',
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const first = await kb(['sync', '--bucket', 'sync-corpus']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(
        `^uploaded ${CORPUS_OBJECTS.length}, unchanged 0, deleted 0 in s3://sync-corpus \\(corpus [0-9a-f]{12}\\)\\n$`,
      ),
    );
    expect(await bucketKeys('sync-corpus')).toEqual(CORPUS_OBJECTS.map((o) => o.key));
    const sidecar = await s3.send(
      new GetObjectCommand({ Bucket: 'sync-corpus', Key: 'worker-scaling.md.metadata.json' }),
    );
    expect(JSON.parse(await (sidecar.Body?.transformToString() ?? ''))).toMatchObject({
      metadataAttributes: { topic: { value: { type: 'STRING', stringValue: 'worker-scaling' } } },
    });
    const runbook = await s3.send(
      new GetObjectCommand({ Bucket: 'sync-corpus', Key: 'worker-scaling.md' }),
    );
    expect(await runbook.Body?.transformToString()).toBe(
      readFileSync(join(CORPUS, 'worker-scaling.md'), 'utf8'),
    );
    expect(runbook.ContentType).toBe('text/markdown; charset=utf-8');

    const again = await kb(['sync', '--bucket', 'sync-corpus']);
    expect(again.stdout).toMatch(
      new RegExp(`^uploaded 0, unchanged ${CORPUS_OBJECTS.length}, deleted 0 `),
    );
  });

  it('uploads a changed runbook, prunes a removed one and strays; --dry-run changes nothing', async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'prune-corpus',
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    expect((await kb(['sync', '--bucket', 'prune-corpus'])).code).toBe(0);
    await s3.send(
      new PutObjectCommand({ Bucket: 'prune-corpus', Key: 'notes/old.txt', Body: 'stray' }),
    );
    const dir = mkdtempSync(join(tmpdir(), 'copilot-kb-cli-corpus-'));
    tmp.push(dir);
    cpSync(CORPUS, dir, { recursive: true });
    unlinkSync(join(dir, 'retention-storms.md'));
    const edited = join(dir, 'persistence-latency.md');
    writeFileSync(
      edited,
      readFileSync(edited, 'utf8').replace('## Causes', '## Causes\n\n0. A new first cause.'),
    );

    const dry = await kb(['sync', '--bucket', 'prune-corpus', '--dir', dir, '--dry-run']);
    expect(dry.stdout).toMatch(
      /^dry run: would upload 1, unchanged \d+, would delete 3 in s3:\/\/prune-corpus/,
    );
    expect(dry.stderr).toContain('would delete retention-storms.md.metadata.json');
    expect(await bucketKeys('prune-corpus')).toContain('retention-storms.md');

    const real = await kb(['sync', '--bucket', 'prune-corpus', '--dir', dir]);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^uploaded 1, unchanged \d+, deleted 3 /);
    expect(real.stderr).toContain('copilot kb: upload persistence-latency.md');
    const keys = await bucketKeys('prune-corpus');
    expect(keys).not.toContain('retention-storms.md');
    expect(keys).not.toContain('notes/old.txt');
    const body = await s3.send(
      new GetObjectCommand({ Bucket: 'prune-corpus', Key: 'persistence-latency.md' }),
    );
    expect(await body.Body?.transformToString()).toContain('0. A new first cause.');
  });

  it('takes the bucket from the stack outputs', async () => {
    const r = await kb(['sync', '--stack', 'CopilotKb']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('in s3://stack-corpus');
    expect(await bucketKeys('stack-corpus')).toHaveLength(CORPUS_OBJECTS.length);
  });

  it.each([
    [
      'no bucket at all',
      ['sync'],
      2,
      'copilot: no corpus bucket: pass --bucket, --stack NAME or set COPILOT_KB_BUCKET',
    ],
    [
      'a stack that does not exist',
      ['sync', '--stack', 'NoSuchStack'],
      2,
      'copilot: stack NoSuchStack does not exist (check --stack and --region)',
    ],
    [
      'a bucket that does not exist',
      ['sync', '--bucket', 'no-such-bucket'],
      1,
      'copilot: syncing s3://no-such-bucket: NoSuchBucket: The specified bucket does not exist',
    ],
  ])('fails in one line on %s', async (_, args, code, line) => {
    const r = await kb(args as string[]);
    expect(r.code).toBe(code);
    expect(oneLine(r.stderr)).toEqual([line]);
  });

  it('refuses a broken corpus before touching S3, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-kb-cli-bad-'));
    tmp.push(dir);
    writeFileSync(join(dir, 'bad.md'), '# no front matter\n');
    const r = await kb(['sync', '--bucket', 'sync-corpus', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      `copilot: runbook corpus ${dir}: bad.md: no YAML front matter (--- … ---) at the top`,
    ]);
  });
});

describe('copilot kb start-ingestion | status | list-jobs (real Bedrock Agent client, local server)', () => {
  it('starts a job with the ids from the stack outputs and follows it to COMPLETE (exit 0)', async () => {
    const r = await kb(['start-ingestion', '--stack', 'CopilotKb', '--wait', '--interval', '0']);
    expect(r.code, r.stderr).toBe(0);
    const job = bedrock.jobs[0]?.ingestionJobId;
    expect(r.stderr.split('\n')).toEqual([
      `copilot kb: started ingestion job ${job}`,
      `copilot kb: job ${job} STARTING: 15 scanned, 0 new, 0 modified, 0 deleted, 0 failed`,
      `copilot kb: job ${job} IN_PROGRESS: 15 scanned, 0 new, 0 modified, 0 deleted, 0 failed`,
      `copilot kb: job ${job} COMPLETE: 15 scanned, 15 new, 0 modified, 0 deleted, 0 failed`,
      '',
    ]);
    expect(r.stdout).toBe(
      `job ${job} COMPLETE: 15 scanned, 15 new, 0 modified, 0 deleted, 0 failed\n`,
    );
    expect(bedrock.jobs[0]?.knowledgeBaseId).toBe(TARGET.knowledgeBaseId);
  });

  it('exits 4 naming the running job when another ingestion runs', async () => {
    const running = bedrock.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, {
      statuses: ['IN_PROGRESS'],
    });
    const r = await kb(['start-ingestion', ...ids]);
    expect(r.code).toBe(4);
    expect(oneLine(r.stderr)).toEqual([
      `copilot: ingestion job ${running.ingestionJobId} is already IN_PROGRESS for data source ${TARGET.dataSourceId}; follow it with copilot kb status --job-id ${running.ingestionJobId}`,
    ]);
  });

  it('status: exit 1 with the reasons for a failed job, 3 for a running one, 0 for the newest complete one', async () => {
    const failed = bedrock.addJob(
      TARGET.knowledgeBaseId,
      TARGET.dataSourceId,
      {
        statuses: ['FAILED'],
        failureReasons: ['The knowledge base role cannot call s3vectors:PutVectors'],
      },
      new Date(Date.now() - 120_000),
    );
    const f = await kb(['status', ...ids, '--job-id', failed.ingestionJobId]);
    expect(f.code).toBe(1);
    expect(f.stdout).toBe(
      `job ${failed.ingestionJobId} FAILED: 15 scanned, 15 new, 0 modified, 0 deleted, 0 failed\n  reason: The knowledge base role cannot call s3vectors:PutVectors\n`,
    );
    const running = bedrock.addJob(
      TARGET.knowledgeBaseId,
      TARGET.dataSourceId,
      { statuses: ['IN_PROGRESS'] },
      new Date(Date.now() - 60_000),
    );
    const r = await kb(['status', ...ids, '--job-id', running.ingestionJobId, '--format', 'json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      jobId: running.ingestionJobId,
      status: 'IN_PROGRESS',
    });
    const done = bedrock.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, {
      statuses: ['COMPLETE'],
    });
    const newest = await kb(['status', ...ids]);
    expect(newest.code).toBe(0);
    expect(newest.stdout).toContain(`job ${done.ingestionJobId} COMPLETE`);
  });

  it('status --wait gives up after --max-polls with exit 3, the job id and how to follow it', async () => {
    const slow = bedrock.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, {
      statuses: ['IN_PROGRESS'],
    });
    const r = await kb([
      'status',
      ...ids,
      '--job-id',
      slow.ingestionJobId,
      '--wait',
      '--interval',
      '0',
      '--max-polls',
      '2',
    ]);
    expect(r.code).toBe(3);
    expect(bedrock.calls('GetIngestionJob')).toBe(3); // the first read, then two polls
    expect(r.stderr).toContain(
      `copilot kb: ingestion job ${slow.ingestionJobId} is still IN_PROGRESS after 2 polls; it goes on running: check it with copilot kb status --job-id ${slow.ingestionJobId}`,
    );
  });

  it('list-jobs prints the newest jobs as a table or JSON', async () => {
    const a = bedrock.addJob(
      TARGET.knowledgeBaseId,
      TARGET.dataSourceId,
      { statuses: ['COMPLETE'] },
      new Date('2026-11-30T10:00:00Z'),
    );
    const b = bedrock.addJob(
      TARGET.knowledgeBaseId,
      TARGET.dataSourceId,
      { statuses: ['COMPLETE'] },
      new Date('2026-11-30T11:00:00Z'),
    );
    const t = await kb(['list-jobs', ...ids]);
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^job\s+status\s+started\s+scanned\s+indexed\s+deleted\s+failed$/);
    expect(lines[1]).toContain(b.ingestionJobId);
    expect(lines[2]).toContain(a.ingestionJobId);
    const j = await kb(['list-jobs', ...ids, '--format', 'json', '--max', '1']);
    expect((JSON.parse(j.stdout) as { jobId: string }[]).map((x) => x.jobId)).toEqual([
      b.ingestionJobId,
    ]);
  });

  it.each([
    [
      'status',
      ['status', '--kb-id', 'KBCLI00001'],
      'copilot: no data source id: pass --data-source-id, --stack NAME or set COPILOT_KB_DATA_SOURCE_ID',
    ],
    [
      'start-ingestion',
      ['start-ingestion'],
      'copilot: no knowledge base id: pass --kb-id, --stack NAME or set COPILOT_KB_ID',
    ],
    [
      'list-jobs',
      ['list-jobs', '--data-source-id', 'DSCLI00001'],
      'copilot: no knowledge base id: pass --kb-id, --stack NAME or set COPILOT_KB_ID',
    ],
  ])('%s without an id exits 2 before any call to Bedrock', async (_, args, line) => {
    const r = await kb(args);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([line]);
    expect(bedrock.requests).toEqual([]);
  });

  it('takes the ids from the environment when no flag or stack gives them', async () => {
    const r = await kb(['list-jobs', '--format', 'json'], {
      COPILOT_KB_ID: TARGET.knowledgeBaseId,
      COPILOT_KB_DATA_SOURCE_ID: TARGET.dataSourceId,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('reports throttling that outlasts the SDK retries, and an unknown job, in one line (exit 1)', async () => {
    bedrock.throttle('GetIngestionJob', 10);
    const t = await kb(['status', ...ids, '--job-id', 'ANYJOB']);
    expect(t.code).toBe(1);
    expect(oneLine(t.stderr)).toEqual([
      "copilot: Bedrock throttled GetIngestionJob (after the SDK's retries); try again shortly",
    ]);
    bedrock.throttle('GetIngestionJob', 0);
    const u = await kb(['status', ...ids, '--job-id', 'NOSUCHJOB']);
    expect(u.code).toBe(1);
    expect(oneLine(u.stderr)).toEqual([
      'copilot: GetIngestionJob: ResourceNotFoundException: ingestion job NOSUCHJOB not found',
    ]);
  });

  it('refuses a bad flag value in one line (exit 2)', async () => {
    const r = await kb(['status', ...ids, '--max-polls', '0']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(['copilot: --max-polls must be a whole number ≥ 1, got 0']);
  });
});
