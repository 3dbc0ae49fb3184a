import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySync, planSync } from '../../../shared/aws/kb-sync.js';
import type { CorpusObject } from '../../../shared/kb/corpus.js';
import { type Moto, startMoto } from '../../support/moto.js';

const REGION = 'eu-west-1';
let moto: Moto;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({
    endpoint: moto.url,
    forcePathStyle: true,
    region: REGION,
    credentials: { accessKeyId: 'AKIDKBSYNC', secretAccessKey: 'kb-sync-secret' },
  });
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

const obj = (key: string, body: string): CorpusObject => ({
  key,
  body,
  contentType: 'text/markdown',
});
const keys = async (bucket: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [])
    .map((o) => o.Key)
    .sort();

describe('planSync / applySync (real S3 client against moto)', () => {
  it('uploads new and changed objects by MD5, leaves unchanged ones, prunes the rest', async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'plan',
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const first = await planSync(s3, 'plan', [obj('a.md', 'A'), obj('b.md', 'B')]);
    expect(first.upload.map((o) => o.key)).toEqual(['a.md', 'b.md']);
    await applySync(s3, 'plan', first);
    await s3.send(new PutObjectCommand({ Bucket: 'plan', Key: 'stray.txt', Body: 'x' }));

    const next = await planSync(s3, 'plan', [
      obj('a.md', 'A'),
      obj('b.md', 'B2'),
      obj('c.md', 'C'),
    ]);
    expect(next.upload.map((o) => o.key)).toEqual(['b.md', 'c.md']);
    expect(next.unchanged).toEqual(['a.md']);
    expect(next.remove).toEqual(['stray.txt']);
    expect(await planSync(s3, 'plan', [obj('a.md', 'A')], { prune: false })).toMatchObject({
      remove: [],
    });

    const done = await applySync(s3, 'plan', next);
    expect(done.bucket).toBe('plan');
    expect(await keys('plan')).toEqual(['a.md', 'b.md', 'c.md']);
  });

  it('pages through more than one listing page and deletes in batches', async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'many',
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const many = Array.from({ length: 1005 }, (_, i) =>
      obj(`k${String(i).padStart(4, '0')}.md`, `v${i}`),
    );
    await Promise.all(
      many.map((o) => s3.send(new PutObjectCommand({ Bucket: 'many', Key: o.key, Body: o.body }))),
    );
    const plan = await planSync(s3, 'many', [many[0] as CorpusObject]);
    expect(plan.unchanged).toEqual(['k0000.md']);
    expect(plan.remove).toHaveLength(1004);
    await applySync(s3, 'many', plan);
    expect(await keys('many')).toEqual(['k0000.md']);
  });

  it('fails with the service error for a bucket that does not exist', async () => {
    await expect(planSync(s3, 'no-such-bucket', [obj('a.md', 'A')])).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
  });
});
