import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CopilotStoreStack } from './copilot-store-stack.js';

/**
 * Adds the copilot's stacks to `app`. Stacks are environment-agnostic, so `cdk synth` runs offline
 * with no credentials and no context lookups. cdk-nag's AwsSolutions pack runs as a validation
 * plugin: an unacknowledged finding fails synth.
 */
export function buildApp(app: App = new App()): { app: App; store: CopilotStoreStack } {
  const store = new CopilotStoreStack(app, 'TemporalSreCopilotStore', {
    description: 'Temporal SRE Copilot: state store (Aurora DSQL)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, store };
}
