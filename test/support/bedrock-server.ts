import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODELS } from '../../shared/explain/models.js';
import type { ReceivedRequest } from './sigv4.js';

/*
 * A local HTTP server that speaks the two Bedrock wire formats the explainer uses, so the real SDK
 * v3 clients (endpoint override, dummy credentials, SigV4 signing for real) can be tested without
 * AWS: `POST /model/{modelId}/converse` (bedrock-runtime, JSON) and
 * `POST /knowledgebases/{knowledgeBaseId}/retrieve` (bedrock-agent-runtime, JSON). Errors are
 * answered as AWS REST-JSON services answer them: the status, an `x-amzn-errortype` header and a
 * `{"message": …}` body, which the SDK turns into its named exceptions.
 *
 * Token usage is counted from what arrived (about four characters a token: Claude's tokenizer is
 * not available offline), and a request whose system prompt carries a cache point reports the
 * prefix (tools and system text) as cache reads when the same model saw it before, as cache
 * writes when not, and as plain input when it is shorter than the model's minimum — as Bedrock's
 * prompt caching does — so the explanations bench measures tokens from real requests.
 */

/** One Converse request as received, decoded. */
export interface ConverseCall extends ReceivedRequest {
  readonly modelId: string;
  readonly json: {
    readonly system?: readonly Record<string, unknown>[];
    readonly messages: readonly { role: string; content: Record<string, unknown>[] }[];
    readonly toolConfig?: { tools: { toolSpec?: { name: string } }[]; toolChoice?: unknown };
    readonly inferenceConfig?: Record<string, unknown>;
  };
  /** Which Converse call of the server this is, from 0. */
  readonly index: number;
}

/** What the server answers a Converse call with. */
export type ConverseReply =
  /** The model calls the forced tool with this input. */
  | { readonly tool: Record<string, unknown>; readonly outputTokens?: number }
  /** The model answers in text instead (no tool use): unusable. */
  | { readonly text: string }
  /** An AWS error, e.g. 429 ThrottlingException, 500 InternalServerException. */
  | {
      readonly error: { readonly status: number; readonly type: string; readonly message?: string };
    }
  /** No answer for this long (a timeout on the client's side), then the reply. */
  | { readonly delayMs: number; readonly reply: ConverseReply };

export interface RetrieveCall extends ReceivedRequest {
  readonly knowledgeBaseId: string;
  readonly json: { retrievalQuery: { text: string }; retrievalConfiguration?: unknown };
}

export interface RetrievePassage {
  readonly text: string;
  readonly uri: string;
  readonly score: number;
  /** The document's metadata attributes, as the `.metadata.json` sidecar declared them. */
  readonly metadata?: Record<string, string | readonly string[]>;
}

export interface FakeBedrock {
  readonly url: string;
  readonly converse: readonly ConverseCall[];
  readonly retrieve: readonly RetrieveCall[];
  /** Usage the server reported, per model id. */
  readonly usage: ReadonlyMap<string, Usage>;
  close(): Promise<void>;
}

export interface Usage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

const tokens = (text: string) => Math.ceil(text.length / 4);

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString()));
    req.on('error', reject);
  });
}

/**
 * What a cache point in the system blocks caches: the tool definitions and the system text before
 * it (Claude's prompt order is tools, system, messages), or undefined without a cache point.
 */
function cachedPrefix(call: ConverseCall['json']): string | undefined {
  if (call.system === undefined) return undefined;
  let text = JSON.stringify(call.toolConfig?.tools ?? []);
  for (const block of call.system) {
    if ('cachePoint' in block) return text;
    if (typeof block.text === 'string') text += block.text;
  }
  return undefined;
}

/** The model's minimum cacheable prefix; a shorter one is plain input, as on Bedrock. */
function minCacheTokens(modelId: string): number {
  const bare = modelId.replace(/^(global|us|eu|jp|apac)\./, '');
  return MODELS.find((m) => m.id === bare)?.minCacheTokens ?? 1_024;
}

export async function startFakeBedrock(handlers: {
  readonly converse?: (call: ConverseCall) => ConverseReply;
  readonly retrieve?: (call: RetrieveCall) => readonly RetrievePassage[];
}): Promise<FakeBedrock> {
  const converse: ConverseCall[] = [];
  const retrieve: RetrieveCall[] = [];
  const usage = new Map<string, Usage>();
  const cached = new Set<string>();
  const pending = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    void read(req).then((body) => {
      const path = req.url ?? '/';
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path,
        headers: req.headers,
        body,
      };
      const send = (status: number, payload: unknown, type?: string) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(type === undefined ? {} : { 'x-amzn-errortype': type }),
        });
        res.end(JSON.stringify(payload));
      };
      const conv = /^\/model\/([^/]+)\/converse$/.exec(path);
      const kb = /^\/knowledgebases\/([^/]+)\/retrieve$/.exec(path);
      if (req.method === 'POST' && conv !== null) {
        const call: ConverseCall = {
          ...received,
          modelId: decodeURIComponent(conv[1] as string),
          json: JSON.parse(body) as ConverseCall['json'],
          index: converse.length,
        };
        converse.push(call);
        const answer = (reply: ConverseReply): void => {
          if ('delayMs' in reply) {
            const t = setTimeout(() => {
              pending.delete(t);
              if (!res.destroyed) answer(reply.reply);
            }, reply.delayMs);
            pending.add(t);
            return;
          }
          if ('error' in reply) {
            send(
              reply.error.status,
              { message: reply.error.message ?? reply.error.type },
              reply.error.type,
            );
            return;
          }
          // Each model has its own cache; a prefix under the model's minimum is not cached at all.
          const found = cachedPrefix(call.json);
          const prefix =
            found !== undefined && tokens(found) >= minCacheTokens(call.modelId)
              ? found
              : undefined;
          const key = `${call.modelId}\n${prefix}`;
          const all = JSON.stringify([call.json.system, call.json.messages, call.json.toolConfig]);
          const cacheRead = prefix !== undefined && cached.has(key) ? tokens(prefix) : 0;
          const cacheWrite = prefix !== undefined && !cached.has(key) ? tokens(prefix) : 0;
          if (prefix !== undefined) cached.add(key);
          const content =
            'tool' in reply
              ? [
                  {
                    toolUse: {
                      toolUseId: `tooluse_${call.index}`,
                      name: call.json.toolConfig?.tools[0]?.toolSpec?.name ?? 'answer',
                      input: reply.tool,
                    },
                  },
                ]
              : [{ text: reply.text }];
          const outputTokens =
            'tool' in reply
              ? (reply.outputTokens ?? tokens(JSON.stringify(reply.tool)))
              : tokens(reply.text);
          const inputTokens = tokens(all) - cacheRead - cacheWrite;
          const u = usage.get(call.modelId) ?? {
            calls: 0,
            inputTokens: 0,
            outputTokens: 0,
            cacheReadInputTokens: 0,
            cacheWriteInputTokens: 0,
          };
          u.calls += 1;
          u.inputTokens += inputTokens;
          u.outputTokens += outputTokens;
          u.cacheReadInputTokens += cacheRead;
          u.cacheWriteInputTokens += cacheWrite;
          usage.set(call.modelId, u);
          send(200, {
            output: { message: { role: 'assistant', content } },
            stopReason: 'tool' in reply ? 'tool_use' : 'end_turn',
            usage: {
              inputTokens,
              outputTokens,
              totalTokens: inputTokens + outputTokens + cacheRead + cacheWrite,
              cacheReadInputTokens: cacheRead,
              cacheWriteInputTokens: cacheWrite,
            },
            metrics: { latencyMs: 1 },
          });
        };
        answer(handlers.converse?.(call) ?? { text: 'no handler' });
        return;
      }
      if (req.method === 'POST' && kb !== null) {
        const call: RetrieveCall = {
          ...received,
          knowledgeBaseId: decodeURIComponent(kb[1] as string),
          json: JSON.parse(body) as RetrieveCall['json'],
        };
        retrieve.push(call);
        const passages = handlers.retrieve?.(call) ?? [];
        send(200, {
          retrievalResults: passages.map((p) => ({
            content: { text: p.text, type: 'TEXT' },
            location: { type: 'S3', s3Location: { uri: p.uri } },
            score: p.score,
            ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
          })),
        });
        return;
      }
      send(404, { message: `no route ${req.method} ${path}` }, 'ResourceNotFoundException');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    converse,
    retrieve,
    usage,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of pending) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The dummy credentials every Bedrock test signs with (AWS's documented example pair). */
export const DUMMY_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
} as const;

/** The environment that points the copilot's explainer at a fake Bedrock (CLI and worker). */
export function bedrockEnv(url: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    COPILOT_EXPLAINER: 'bedrock',
    COPILOT_BEDROCK_ENDPOINT: url,
    COPILOT_BEDROCK_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    ...extra,
  };
}

/**
 * A model that always answers: the dispatcher with `depth`, the researcher with `summary`, no
 * issues and the given narratives — enough for any state the engine has no problem gate in, and
 * for tests that only follow where the words went.
 */
export function answering(
  summary: string,
  options: {
    readonly depth?: 'quick' | 'deep';
    readonly services?: readonly { service: string; narrative: string }[];
  } = {},
): (call: ConverseCall) => ConverseReply {
  return (call) =>
    call.json.toolConfig?.tools[0]?.toolSpec?.name === 'choose_depth'
      ? { tool: { depth: options.depth ?? 'quick', why: 'one clear picture' } }
      : { tool: { summary, issues: [], services: options.services ?? [], confidence: 0.7 } };
}
