import * as z from 'zod';
import { ConfigurationError } from '../errors.js';

/*
 * The Bedrock models the explainer may call through Converse with a forced tool, and the
 * cross-region inference profiles each is offered in. An id outside this table is refused at
 * start-up, not on the first state change at 3 a.m. Prices are list prices in USD per million
 * tokens (docs/cost.md, "Bedrock"); check the AWS page for your region and profile.
 */

export interface ModelSpec {
  readonly id: string;
  readonly name: string;
  /** Inference-profile prefixes Bedrock offers this model under. */
  readonly profiles: readonly string[];
  /** Whether the bare model id can be invoked on demand (Claude 4.x needs a profile). */
  readonly onDemand: boolean;
  /**
   * The shortest prefix (tools and system prompt up to the cache point) the model caches; a
   * shorter one is billed as plain input with no error (Anthropic's published minimums).
   */
  readonly minCacheTokens: number;
  readonly price: {
    readonly input: number;
    readonly output: number;
    readonly cacheWrite: number;
    readonly cacheRead: number;
  };
}

export const MODELS: readonly ModelSpec[] = [
  {
    id: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
    name: 'Claude Sonnet 4.5',
    profiles: ['global', 'us', 'eu', 'jp'],
    onDemand: false,
    minCacheTokens: 1_024,
    price: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 },
  },
  {
    id: 'anthropic.claude-sonnet-4-6',
    name: 'Claude Sonnet 4.6',
    profiles: ['global', 'us', 'eu', 'jp'],
    onDemand: false,
    minCacheTokens: 2_048,
    price: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 },
  },
  {
    id: 'anthropic.claude-opus-4-5-20251101-v1:0',
    name: 'Claude Opus 4.5',
    profiles: ['global', 'us', 'eu'],
    onDemand: false,
    minCacheTokens: 4_096,
    price: { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 },
  },
  {
    id: 'anthropic.claude-opus-4-6-v1',
    name: 'Claude Opus 4.6',
    profiles: ['global', 'us', 'eu', 'jp', 'apac'],
    onDemand: false,
    minCacheTokens: 4_096,
    price: { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 },
  },
  {
    id: 'anthropic.claude-haiku-4-5-20251001-v1:0',
    name: 'Claude Haiku 4.5',
    profiles: ['global', 'us', 'eu', 'jp'],
    onDemand: false,
    minCacheTokens: 4_096,
    price: { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 },
  },
];

export const DEFAULT_DISPATCHER_MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
export const DEFAULT_RESEARCHER_MODEL = 'anthropic.claude-opus-4-6-v1';

export const ProfilePrefixSchema = z.enum(['global', 'us', 'eu', 'jp', 'apac', 'none']);
export type ProfilePrefix = z.infer<typeof ProfilePrefixSchema>;

/** A model the table knows, or a configuration error naming the known ones. */
export function modelSpec(id: string): ModelSpec {
  const spec = MODELS.find((m) => m.id === id);
  if (spec === undefined)
    throw new ConfigurationError(
      `unknown Bedrock model "${id}": use one of ${MODELS.map((m) => m.id).join(', ')}`,
    );
  return spec;
}

/**
 * The id Converse is called with: the inference profile (`us.anthropic…`) when a prefix is set,
 * else the model id itself, refused when the model cannot be invoked on demand or is not offered
 * under that prefix.
 */
export function invocationId(modelId: string, prefix: ProfilePrefix): string {
  const spec = modelSpec(modelId);
  if (prefix === 'none') {
    if (!spec.onDemand)
      throw new ConfigurationError(
        `${spec.name} is served through inference profiles only: set an inference-profile prefix (${spec.profiles.join(', ')})`,
      );
    return spec.id;
  }
  if (!spec.profiles.includes(prefix))
    throw new ConfigurationError(
      `${spec.name} has no "${prefix}" inference profile (it has ${spec.profiles.join(', ')})`,
    );
  return `${prefix}.${spec.id}`;
}

/** What a call cost, in USD, at the model's list prices. */
export function costOf(
  modelId: string,
  usage: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly cacheReadTokens: number;
    readonly cacheWriteTokens: number;
  },
): number {
  const p = modelSpec(modelId).price;
  return (
    (usage.inputTokens * p.input +
      usage.outputTokens * p.output +
      usage.cacheReadTokens * p.cacheRead +
      usage.cacheWriteTokens * p.cacheWrite) /
    1_000_000
  );
}
