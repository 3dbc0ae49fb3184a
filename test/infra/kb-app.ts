import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RunbookKnowledgeBase } from '../../lib/knowledge-base.js';

/**
 * A CDK app holding the knowledge base alone, with the feature flags of cdk.json and cdk-nag as a
 * validation plugin: what `cdk synth --app "npx tsx test/infra/kb-app.ts"` runs in the infra test,
 * until the construct is wired into lib/app.ts.
 */
export function knowledgeBaseApp(outdir?: string, corpusDir?: string) {
  const context = (
    JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    }
  ).context;
  const app = new App({ context, ...(outdir === undefined ? {} : { outdir }) });
  const stack = new Stack(app, 'CopilotKnowledgeBaseTest', {
    description: 'Temporal SRE Copilot: runbook knowledge base (test app)',
  });
  const kb = new RunbookKnowledgeBase(stack, 'KnowledgeBase', {
    ...(corpusDir === undefined ? {} : { corpusDir }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, kb };
}

if (process.argv[1]?.endsWith('kb-app.ts')) knowledgeBaseApp().app.synth();
