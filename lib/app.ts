import { type App, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import type { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { KnowledgeBaseReference } from './bedrock-access.js';
import type { DeploymentConfig } from './config.js';
import { CopilotStack } from './copilot-stack.js';
import { CopilotStoreStack } from './copilot-store-stack.js';
import { RunbookKnowledgeBase } from './knowledge-base.js';
import { workerImageFromRepository } from './worker-service.js';

/** What the app is built with besides the configuration (tests and later wiring). */
export interface BuildAppOptions {
  /** @default workerImageFromRepository() — the repository's Dockerfile */
  readonly workerImage?: ContainerImage;
  /** @default - the id in `config.bedrock.knowledgeBaseId`, else one the app creates (see knowledgeBaseFor) */
  readonly knowledgeBase?: KnowledgeBaseReference;
}

/** The copilot's stacks. */
export interface CopilotApp {
  readonly app: App;
  readonly store: CopilotStoreStack;
  readonly copilot: CopilotStack;
  /** The runbook knowledge base's stack, when the app creates one. */
  readonly knowledgeBase?: Stack;
}

/**
 * The knowledge base the worker retrieves from: the one given, else the configured id (resolved
 * by CopilotStack), else — when Bedrock explains and `knowledgeBase` is `create` — a new
 * RunbookKnowledgeBase over docs/rag in a stack of its own, so the vectors and their ingestion
 * live and die apart from the compute.
 */
function knowledgeBaseFor(
  app: App,
  config: DeploymentConfig,
  given: KnowledgeBaseReference | undefined,
): { reference?: KnowledgeBaseReference; stack?: Stack } {
  if (given !== undefined) return { reference: given };
  const b = config.bedrock;
  if (b.knowledgeBaseId !== undefined || b.explainer !== 'bedrock' || b.knowledgeBase === 'none')
    return {};
  const stack = new Stack(app, 'TemporalSreCopilotKnowledgeBase', {
    description: 'Temporal SRE Copilot: runbook knowledge base (docs/rag), ingested on deploy',
  });
  // The preset decides, as for the compute: dev deletes the knowledge base and its vectors with
  // the stack (the corpus bucket and its access logs are always kept) and keeps logs a week.
  const s = config.settings;
  const kb = new RunbookKnowledgeBase(stack, 'KnowledgeBase', {
    removalPolicy: s.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: s.logRetentionDays as RetentionDays,
  });
  return { reference: kb, stack };
}

/**
 * Adds the copilot's stacks to `app`: the state store in a stack of its own (kept when the
 * compute is replaced or deleted) and everything else in `TemporalSreCopilot`. Stacks are
 * environment-agnostic, so `cdk synth` runs offline with no credentials and no context lookups.
 * cdk-nag's AwsSolutions pack runs as a validation plugin: an unacknowledged finding fails synth.
 */
export function buildApp(
  app: App,
  config: DeploymentConfig,
  options: BuildAppOptions = {},
): CopilotApp {
  const store = new CopilotStoreStack(app, 'TemporalSreCopilotStore', {
    description: 'Temporal SRE Copilot: state store (Aurora DSQL)',
  });
  const kb = knowledgeBaseFor(app, config, options.knowledgeBase);
  const copilot = new CopilotStack(app, 'TemporalSreCopilot', {
    description: `Temporal SRE Copilot (${config.preset}): Temporal server, worker, JSON API, alarms`,
    store: store.store,
    config,
    workerImage: options.workerImage ?? workerImageFromRepository(),
    workerSecretArns: config.workerSecrets,
    ...(kb.reference === undefined ? {} : { knowledgeBase: kb.reference }),
  });
  Tags.of(app).add('app', 'temporal-sre-copilot');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, store, copilot, ...(kb.stack === undefined ? {} : { knowledgeBase: kb.stack }) };
}
