import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ConfigurationError } from '../../shared/errors.js';
import {
  DEFAULT_DISPATCHER_MODEL,
  DEFAULT_RESEARCHER_MODEL,
  invocationId,
  ProfilePrefixSchema,
} from '../../shared/explain/models.js';
import { describeFirstIssue } from '../../shared/zod-issues.js';
import { BedrockConversations, type BedrockSettings } from './bedrock.js';
import { DEFAULT_BUDGET, type ExplainBudget, type ExplainerDeps } from './explainer.js';
import { type Knowledge, knowledgeBase, localKnowledge } from './knowledge.js';

/**
 * The explainer's environment, read by the worker, `copilot dev` and `copilot replay --explain`
 * alike. Without `COPILOT_EXPLAINER=bedrock` the rule-based explainer answers, grounded in the
 * local runbook index: `npm start` needs no AWS account. With it, every model and profile is
 * checked here, at start-up, not on the first state change.
 */
export const ExplainerEnvSchema = z.object({
  /** `rules` (default: no model, the local runbooks) or `bedrock` (Claude through Converse). */
  COPILOT_EXPLAINER: z.enum(['rules', 'bedrock']).default('rules'),
  /** Bedrock's region; @default AWS_REGION */
  COPILOT_BEDROCK_REGION: z.string().min(1).optional(),
  /** Endpoint override for Bedrock Runtime (a VPC endpoint, or a local server in tests). */
  COPILOT_BEDROCK_ENDPOINT: z.url().optional(),
  COPILOT_BEDROCK_DISPATCHER_MODEL: z.string().min(1).default(DEFAULT_DISPATCHER_MODEL),
  COPILOT_BEDROCK_RESEARCHER_MODEL: z.string().min(1).default(DEFAULT_RESEARCHER_MODEL),
  /** The cross-region inference profile prefix (`global`, `us`, `eu`, `jp`, `apac`, `none`). */
  COPILOT_BEDROCK_PROFILE: ProfilePrefixSchema.default('us'),
  /**
   * Per Converse call; slower is a timeout and the rules answer. A deep answer from Opus is up to
   * 3,000 tokens (~40 s at its output speed); the explain activity allows four such calls.
   */
  COPILOT_BEDROCK_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(45_000).default(45_000),
  /** Model calls per cluster per hour before the rules answer alone. */
  COPILOT_EXPLAIN_CALLS_PER_HOUR: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(DEFAULT_BUDGET.callsPerHour),
  /** Tokens (input, output, cache) per cluster per hour before the rules answer alone. */
  COPILOT_EXPLAIN_TOKENS_PER_HOUR: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000_000)
    .default(DEFAULT_BUDGET.tokensPerHour),
  /** Dollars per cluster per day (an upper bound at the researcher's prices) before the rules answer alone. */
  COPILOT_EXPLAIN_USD_PER_DAY: z.coerce
    .number()
    .min(0)
    .max(100_000)
    .default(DEFAULT_BUDGET.usdPerDay),
  /** Bedrock Knowledge Base id for runbook retrieval; unset, the local index answers. */
  COPILOT_KB_ID: z
    .string()
    .regex(/^[0-9a-zA-Z]{10}$/, 'a knowledge base id is 10 letters and digits')
    .optional(),
  /** Endpoint override for Bedrock Agent Runtime (Retrieve). */
  COPILOT_KB_ENDPOINT: z.url().optional(),
  /** The runbook corpus the local index reads (and falls back to); @default docs/rag */
  COPILOT_RUNBOOKS_DIR: z.string().min(1).default('docs/rag'),
  AWS_REGION: z.string().min(1).optional(),
});
export type ExplainerEnv = z.infer<typeof ExplainerEnvSchema>;

/** What the explainer runs with: the parsed settings, checked against the model table. */
export interface ExplainerConfig {
  readonly kind: 'rules' | 'bedrock';
  readonly bedrock?: BedrockSettings;
  readonly budget: ExplainBudget;
  readonly knowledgeBase?: {
    readonly id: string;
    readonly region: string;
    readonly endpoint?: string;
  };
  /** Absolute path of the runbook corpus. */
  readonly runbooksDir: string;
}

/** Reads and checks the explainer's variables; a ConfigurationError names what is wrong. */
export function parseExplainerEnv(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ExplainerConfig {
  const parsed = ExplainerEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new ConfigurationError(`explainer configuration: ${describeFirstIssue(parsed.error)}`);
  const v = parsed.data;
  const region = v.COPILOT_BEDROCK_REGION ?? v.AWS_REGION;
  const runbooksDir = isAbsolute(v.COPILOT_RUNBOOKS_DIR)
    ? v.COPILOT_RUNBOOKS_DIR
    : resolve(cwd, v.COPILOT_RUNBOOKS_DIR);
  const budget = {
    callsPerHour: v.COPILOT_EXPLAIN_CALLS_PER_HOUR,
    tokensPerHour: v.COPILOT_EXPLAIN_TOKENS_PER_HOUR,
    usdPerDay: v.COPILOT_EXPLAIN_USD_PER_DAY,
  };
  const kb =
    v.COPILOT_KB_ID === undefined
      ? undefined
      : {
          id: v.COPILOT_KB_ID,
          region: requireRegion(region, 'COPILOT_KB_ID'),
          ...(v.COPILOT_KB_ENDPOINT === undefined ? {} : { endpoint: v.COPILOT_KB_ENDPOINT }),
        };
  if (v.COPILOT_EXPLAINER === 'rules')
    return {
      kind: 'rules',
      budget,
      runbooksDir,
      ...(kb === undefined ? {} : { knowledgeBase: kb }),
    };
  const bedrock: BedrockSettings = {
    region: requireRegion(region, 'COPILOT_EXPLAINER=bedrock'),
    dispatcherModel: v.COPILOT_BEDROCK_DISPATCHER_MODEL,
    researcherModel: v.COPILOT_BEDROCK_RESEARCHER_MODEL,
    profilePrefix: v.COPILOT_BEDROCK_PROFILE,
    timeoutMs: v.COPILOT_BEDROCK_TIMEOUT_MS,
    ...(v.COPILOT_BEDROCK_ENDPOINT === undefined ? {} : { endpoint: v.COPILOT_BEDROCK_ENDPOINT }),
  };
  // Refused now, with the known models and profiles named, rather than at the first explanation.
  invocationId(bedrock.dispatcherModel, bedrock.profilePrefix);
  invocationId(bedrock.researcherModel, bedrock.profilePrefix);
  return {
    kind: 'bedrock',
    bedrock,
    budget,
    runbooksDir,
    ...(kb === undefined ? {} : { knowledgeBase: kb }),
  };
}

function requireRegion(region: string | undefined, what: string): string {
  if (region === undefined)
    throw new ConfigurationError(
      `${what} needs a region: set COPILOT_BEDROCK_REGION or AWS_REGION`,
    );
  return region;
}

/** The explainer's collaborators but the usage ledger, which belongs to whoever stores usage. */
export type ExplainerTools = Omit<ExplainerDeps, 'usageSince'>;

/**
 * The explainer's collaborators for a configuration: Bedrock when configured, the knowledge base
 * with the local index as its fallback (or the local index alone). Built once per process; the
 * caller adds the usage reader (the worker reads each cluster's assessments, a replay counts its
 * own calls).
 */
export function openExplainer(config: ExplainerConfig): ExplainerTools {
  const local = localKnowledge(config.runbooksDir);
  const knowledge: Knowledge =
    config.knowledgeBase === undefined
      ? local
      : knowledgeBase({
          knowledgeBaseId: config.knowledgeBase.id,
          region: config.knowledgeBase.region,
          ...(config.knowledgeBase.endpoint === undefined
            ? {}
            : { endpoint: config.knowledgeBase.endpoint }),
          fallback: local,
        });
  return {
    knowledge,
    budget: config.budget,
    ...(config.bedrock === undefined ? {} : { bedrock: new BedrockConversations(config.bedrock) }),
  };
}

/** One line for start-up logs: what explains, with what, never a credential. */
export function describeExplainer(config: ExplainerConfig): string {
  const kb =
    config.knowledgeBase === undefined
      ? 'local runbooks'
      : `knowledge base ${config.knowledgeBase.id}`;
  if (config.bedrock === undefined) return `rules, grounded in ${kb}`;
  const b = config.bedrock;
  return `bedrock in ${b.region} (dispatcher ${invocationId(b.dispatcherModel, b.profilePrefix)}, researcher ${invocationId(b.researcherModel, b.profilePrefix)}; ${config.budget.callsPerHour} calls and ${config.budget.tokensPerHour} tokens per cluster per hour, $${config.budget.usdPerDay} a day), grounded in ${kb}, rules as fallback`;
}
