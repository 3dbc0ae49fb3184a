import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { BedrockAgentRuntimeClient, RetrieveCommand } from '@aws-sdk/client-bedrock-agent-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  chunkRunbook,
  type GroundingPassage,
  groundingQuery,
  LocalRunbookIndex,
  PASSAGE_MAX_CHARS,
  type RunbookChunk,
} from '../../shared/explain/grounding.js';
import type { Evaluation } from '../../shared/health/evaluation.js';
import { readCorpus } from '../../shared/kb/corpus.js';

/** Where an explanation's runbook passages come from. */
export interface Knowledge {
  /** `knowledge-base` (Bedrock Retrieve) or `local` (the index over docs/rag/). */
  readonly kind: 'knowledge-base' | 'local';
  /**
   * The passages for an evaluation, best first. Never throws: a failed retrieval is an empty
   * list and a note (an explanation without runbooks is still an explanation).
   */
  passagesFor(e: Evaluation): Promise<{ passages: GroundingPassage[]; note?: string }>;
}

/**
 * The runbook corpus's sections, from `dir` (`docs/rag/` of the checkout or the image), read and
 * checked as the knowledge base's ingestion reads them; none when the directory is missing.
 */
export function readRunbooks(dir: string): RunbookChunk[] {
  if (!existsSync(dir)) return [];
  return readCorpus(dir).flatMap((r) => chunkRunbook(r));
}

/** The local full-text index over the corpus: what `npm start` grounds its explanations in. */
export function localKnowledge(dir: string, root = process.cwd()): Knowledge {
  const index = new LocalRunbookIndex(readRunbooks(dir));
  return {
    kind: 'local',
    async passagesFor(e) {
      if (index.size === 0)
        return { passages: [], note: `no runbooks in ${relative(root, dir) || dir}` };
      return { passages: index.passagesFor(e) };
    },
  };
}

/**
 * Bedrock Knowledge Base retrieval (`Retrieve`, semantic search over S3 Vectors), queried with the
 * fired and blind gates and what they mean. A failure falls back to `fallback` (the local index)
 * when there is one, with a note saying why.
 */
export function knowledgeBase(options: {
  readonly knowledgeBaseId: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  readonly fallback?: Knowledge;
  /** @default 4 */
  readonly results?: number;
}): Knowledge {
  const client = new BedrockAgentRuntimeClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: 2,
    // HTTP/1.1, as for Converse (worker/explain/bedrock.ts): Retrieve needs no HTTP/2.
    requestHandler: new NodeHttpHandler({ requestTimeout: 10_000, connectionTimeout: 5_000 }),
  });
  return {
    kind: 'knowledge-base',
    async passagesFor(e) {
      try {
        const out = await client.send(
          new RetrieveCommand({
            knowledgeBaseId: options.knowledgeBaseId,
            retrievalQuery: { text: groundingQuery(e) },
            retrievalConfiguration: {
              vectorSearchConfiguration: { numberOfResults: options.results ?? 4 },
            },
          }),
        );
        return {
          passages: (out.retrievalResults ?? []).map((r) => {
            const uri = r.location?.s3Location?.uri ?? r.location?.type ?? 'knowledge base';
            const text = r.content?.text ?? '';
            const title = String(r.metadata?.title ?? uri.split('/').at(-1) ?? uri);
            // The runbook's gates come back as the sidecar's list attribute (shared/kb/corpus.ts).
            const gates = r.metadata?.gates;
            return {
              source: uri,
              title,
              heading: '',
              text: text.length > PASSAGE_MAX_CHARS ? `${text.slice(0, PASSAGE_MAX_CHARS)}…` : text,
              score: r.score ?? 0,
              gates: Array.isArray(gates) ? gates.map(String) : [],
            };
          }),
        };
      } catch (error) {
        const why = `knowledge base retrieval failed: ${(error as Error).name ?? 'Error'}: ${(error as Error).message ?? error}`;
        if (options.fallback === undefined) return { passages: [], note: why };
        const local = await options.fallback.passagesFor(e);
        return { passages: local.passages, note: `${why}; the local runbook index answered` };
      }
    },
  };
}
