import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CorpusObject } from '../kb/corpus.js';

/*
 * `copilot kb sync`: make the corpus bucket hold exactly the corpus, as the deploy's bucket
 * deployment does (it prunes too). Objects are compared by MD5 (the ETag of a single-part upload),
 * so an unchanged runbook is not uploaded again and Bedrock's next job sees it as unmodified.
 */

export interface SyncPlan {
  readonly upload: readonly CorpusObject[];
  readonly unchanged: readonly string[];
  readonly remove: readonly string[];
}

export interface SyncResult extends SyncPlan {
  readonly bucket: string;
}

const md5 = (body: string) => createHash('md5').update(body, 'utf8').digest('hex');

/** What is in the bucket now: key → ETag without quotes. */
async function listBucket(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const present = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const o of page.Contents ?? [])
      if (o.Key !== undefined) present.set(o.Key, (o.ETag ?? '').replaceAll('"', ''));
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return present;
}

/** Compares the corpus with the bucket. `prune` removes what the corpus no longer has. */
export async function planSync(
  s3: S3Client,
  bucket: string,
  objects: readonly CorpusObject[],
  { prune = true }: { prune?: boolean } = {},
): Promise<SyncPlan> {
  const present = await listBucket(s3, bucket);
  const upload: CorpusObject[] = [];
  const unchanged: string[] = [];
  for (const o of objects) {
    if (present.get(o.key) === md5(o.body)) unchanged.push(o.key);
    else upload.push(o);
  }
  const wanted = new Set(objects.map((o) => o.key));
  const remove = prune ? [...present.keys()].filter((k) => !wanted.has(k)).sort() : [];
  return { upload, unchanged, remove };
}

/** Carries out a plan: uploads, then deletions (in batches of 1,000, S3's limit). */
export async function applySync(s3: S3Client, bucket: string, plan: SyncPlan): Promise<SyncResult> {
  for (const o of plan.upload)
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: o.key,
        Body: o.body,
        ContentType: o.contentType,
      }),
    );
  for (let i = 0; i < plan.remove.length; i += 1000) {
    const batch = plan.remove.slice(i, i + 1000);
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = out.Errors ?? [];
    if (failed.length > 0)
      throw new Error(
        `could not delete ${failed.length} object(s) from ${bucket}: ${failed
          .map((e) => `${e.Key}: ${e.Code}`)
          .join(', ')}`,
      );
  }
  return { bucket, ...plan };
}
