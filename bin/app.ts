import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app.js';
import { readCopilotContext, resolveDeploymentConfig } from '../lib/config.js';

// The CDK app `cdk.json` runs (`npx tsx bin/app.ts`). The one place that reads context: the
// `copilot` object of cdk.json, with `-c copilot:<key>=<value>` laid over it, validated by zod.
const app = new App();
buildApp(app, resolveDeploymentConfig(readCopilotContext((key) => app.node.tryGetContext(key))));
