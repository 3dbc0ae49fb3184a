import {
  BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandOutput,
  type Message,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { z } from 'zod';
import { messageOf } from '../../shared/errors.js';
import type { GroundingPassage } from '../../shared/explain/grounding.js';
import {
  type Dispatch,
  DispatchSchema,
  dispatchPrompt,
  type Research,
  ResearchSchema,
  researchPrompt,
  SYSTEM_PROMPT,
  toolSchema,
} from '../../shared/explain/llm.js';
import { invocationId, type ProfilePrefix } from '../../shared/explain/models.js';
import { describeFirstIssue } from '../../shared/zod-issues.js';

/** How the explainer reaches Bedrock. */
export interface BedrockSettings {
  /** The Bedrock region (the inference profile's source region). */
  readonly region: string;
  /** An endpoint override (tests, VPC endpoints); @default the regional endpoint */
  readonly endpoint?: string;
  readonly dispatcherModel: string;
  readonly researcherModel: string;
  readonly profilePrefix: ProfilePrefix;
  /** Per Converse call, ms; a slower answer is a timeout and the rule-based words answer. @default 45_000 */
  readonly timeoutMs?: number;
  /** Credentials for tests; production uses the default chain (the task role). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Token and call accounting across the calls one explanation made. */
export class Usage {
  calls = 0;
  inputTokens = 0;
  outputTokens = 0;
  cacheReadTokens = 0;
  cacheWriteTokens = 0;

  /** The tokens an answer reports (the call itself was counted when it was sent). */
  add(out: ConverseCommandOutput): void {
    this.inputTokens += out.usage?.inputTokens ?? 0;
    this.outputTokens += out.usage?.outputTokens ?? 0;
    this.cacheReadTokens += out.usage?.cacheReadInputTokens ?? 0;
    this.cacheWriteTokens += out.usage?.cacheWriteInputTokens ?? 0;
  }
}

/** A model answered, but not with input the tool's schema accepts (even after one repair). */
export class InvalidModelOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidModelOutputError';
  }
}

/** A model did not answer within the explainer's per-call timeout. */
export class ModelTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelTimeoutError';
  }
}

const DISPATCH_TOOL = 'choose_depth';
const RESEARCH_TOOL = 'report_explanation';

/**
 * The two Converse conversations of an explanation: the dispatcher (how deep) and the researcher
 * (ranked issues, summary, each service's part). Both force a tool whose input schema is the zod
 * schema of the answer, validate what comes back with that schema, and give the model one chance
 * to repair an invalid answer (the error is sent back as the tool's result); a second invalid
 * answer throws, and the caller falls back to the rule-based words. The static system prompt is
 * followed by a cache point, so repeated calls read it from Bedrock's prompt cache.
 */
export class BedrockConversations {
  private readonly client: BedrockRuntimeClient;
  private readonly dispatcherId: string;
  private readonly researcherId: string;

  constructor(readonly settings: BedrockSettings) {
    // Refused here, at start-up, for an unknown model or a profile it is not offered in.
    this.dispatcherId = invocationId(settings.dispatcherModel, settings.profilePrefix);
    this.researcherId = invocationId(settings.researcherModel, settings.profilePrefix);
    this.client = new BedrockRuntimeClient({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
      // One attempt: a throttled or failing Bedrock falls back to the rules at once rather than
      // holding the explanation (and its activity) through the SDK's backoff.
      maxAttempts: 1,
      // HTTP/1.1: the runtime client defaults to HTTP/2 for its streaming operations, which
      // Converse does not need; one handler for production and the local endpoint the tests use.
      requestHandler: new NodeHttpHandler({
        requestTimeout: settings.timeoutMs ?? 45_000,
        connectionTimeout: 5_000,
      }),
    });
  }

  /** The model ids calls go to (inference profiles when a prefix is set). */
  get models(): { readonly dispatcher: string; readonly researcher: string } {
    return { dispatcher: this.dispatcherId, researcher: this.researcherId };
  }

  dispatch(facts: Record<string, unknown>, usage: Usage): Promise<Dispatch> {
    return this.ask(
      this.dispatcherId,
      DISPATCH_TOOL,
      'How deep to explain',
      DispatchSchema,
      dispatchPrompt(facts),
      300,
      usage,
    );
  }

  research(
    facts: Record<string, unknown>,
    passages: readonly GroundingPassage[],
    depth: 'quick' | 'deep',
    usage: Usage,
  ): Promise<Research> {
    return this.ask(
      this.researcherId,
      RESEARCH_TOOL,
      'Report the explanation of the evaluation: ranked issues with their evidence, a summary, and each service’s part',
      ResearchSchema,
      researchPrompt(facts, passages, depth),
      depth === 'quick' ? 1_500 : 3_000,
      usage,
    );
  }

  private async ask<S extends z.ZodType>(
    modelId: string,
    tool: string,
    description: string,
    schema: S,
    prompt: string,
    maxTokens: number,
    usage: Usage,
  ): Promise<z.output<S>> {
    const messages: Message[] = [{ role: 'user', content: [{ text: prompt }] }];
    const timeoutMs = this.settings.timeoutMs ?? 45_000;
    let problem = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      // Counted when sent, whatever comes back: a throttled, failed or timed-out call is a call,
      // so a Bedrock that keeps failing still spends the hourly budget instead of being asked
      // again on every state change.
      usage.calls += 1;
      const out = await this.client
        .send(
          new ConverseCommand({
            modelId,
            system: [{ text: SYSTEM_PROMPT }, { cachePoint: { type: 'default' } }],
            messages,
            toolConfig: {
              tools: [
                {
                  toolSpec: {
                    name: tool,
                    description,
                    inputSchema: { json: toolSchema(schema) as never },
                  },
                },
              ],
              toolChoice: { tool: { name: tool } },
            },
            inferenceConfig: { maxTokens, temperature: 0 },
          }),
          // The whole call, not only socket inactivity: a model that trickles tokens is as late.
          { abortSignal: AbortSignal.timeout(timeoutMs) },
        )
        .catch((error: unknown) => {
          // The abort above is the timeout; say it as one (the SDK calls it AbortError).
          if (error instanceof Error && error.name === 'AbortError') {
            // A call given up on may still be billed for what the model wrote: count the most it
            // could have, so the daily cap errs on the side of stopping.
            usage.outputTokens += maxTokens;
            throw new ModelTimeoutError(`no answer from ${modelId} within ${timeoutMs} ms`);
          }
          throw error;
        });
      usage.add(out);
      const content: ContentBlock[] = out.output?.message?.content ?? [];
      const use = content.find((c) => c.toolUse?.name === tool)?.toolUse;
      if (use === undefined) {
        problem = `no ${tool} call in the answer (stop reason ${out.stopReason ?? 'none'})`;
        messages.push(
          { role: 'assistant', content: content.length > 0 ? content : [{ text: '(no answer)' }] },
          { role: 'user', content: [{ text: `Answer by calling the ${tool} tool only.` }] },
        );
        continue;
      }
      const parsed = schema.safeParse(use.input);
      if (parsed.success) return parsed.data;
      problem = describeFirstIssue(parsed.error, `${tool} input`);
      // The repair: the model sees its own call and why it was refused, and calls again.
      messages.push(
        { role: 'assistant', content: [{ toolUse: use }] },
        {
          role: 'user',
          content: [
            {
              toolResult: {
                toolUseId: use.toolUseId,
                status: 'error',
                content: [{ text: `Refused: ${problem}. Call ${tool} again with valid input.` }],
              },
            },
          ],
        },
      );
    }
    throw new InvalidModelOutputError(`invalid answer after one repair: ${problem}`);
  }

  close(): void {
    this.client.destroy();
  }
}

/** One line for an assessment's `fallback_reason`: the SDK's error name and message. */
export function describeBedrockError(error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = messageOf(error).slice(0, 300);
  return `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
}
