import { type App, Tags, Validations } from 'aws-cdk-lib';
import type { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { KnowledgeBaseReference } from './bedrock-access.js';
import type { DeploymentConfig } from './config.js';
import { CopilotStack } from './copilot-stack.js';
import { CopilotStoreStack } from './copilot-store-stack.js';
import { workerImageFromRepository } from './worker-service.js';

/** What the app is built with besides the configuration (tests and later wiring). */
export interface BuildAppOptions {
  /** @default workerImageFromRepository() — the repository's Dockerfile */
  readonly workerImage?: ContainerImage;
  /** @default - the id in `config.bedrock.knowledgeBaseId`, or none */
  readonly knowledgeBase?: KnowledgeBaseReference;
}

/** The copilot's stacks. */
export interface CopilotApp {
  readonly app: App;
  readonly store: CopilotStoreStack;
  readonly copilot: CopilotStack;
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
  const copilot = new CopilotStack(app, 'TemporalSreCopilot', {
    description: `Temporal SRE Copilot (${config.preset}): Temporal server, worker, JSON API, alarms`,
    store: store.store,
    config,
    workerImage: options.workerImage ?? workerImageFromRepository(),
    workerSecretArns: config.workerSecrets,
    ...(options.knowledgeBase === undefined ? {} : { knowledgeBase: options.knowledgeBase }),
  });
  Tags.of(app).add('app', 'temporal-sre-copilot');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, store, copilot };
}
