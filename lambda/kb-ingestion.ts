import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import middy from '@middy/core';
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import * as z from 'zod';
import { describeFirstIssue } from '../shared/zod-issues.js';
import {
  createIngestionResource,
  type IngestionData,
  type IngestionResourceHandlers,
} from './common/kb-custom-resource.js';

/*
 * Lambda entries of the deploy-time ingestion custom resource: `onEvent` and `isComplete` of the
 * CDK Provider framework (lib/knowledge-base.ts). The logic is in common/kb-custom-resource.ts.
 */

const logger = new Logger({ serviceName: 'copilot-kb-ingestion' });

/** The function's environment (set by the construct). */
export const IngestionEnvSchema = z.object({
  /** How long the deploy waits for the job, in seconds. */
  KB_INGESTION_MAX_WAIT_SECONDS: z.coerce.number().int().positive().default(1800),
});

let handlers: IngestionResourceHandlers | undefined;

function handlersFromEnv(): IngestionResourceHandlers {
  if (handlers !== undefined) return handlers;
  const env = IngestionEnvSchema.safeParse(process.env);
  if (!env.success)
    throw new Error(`invalid ingestion function environment: ${describeFirstIssue(env.error)}`);
  handlers = createIngestionResource({
    client: new BedrockAgentClient({}),
    maxWaitSeconds: env.data.KB_INGESTION_MAX_WAIT_SECONDS,
    log: logger,
  });
  return handlers;
}

export const onEvent = middy<CdkCustomResourceEvent, CdkCustomResourceResponse<IngestionData>>()
  .use(injectLambdaContext(logger, { logEvent: true }))
  .handler((event) => handlersFromEnv().onEvent(event));

export const isComplete = middy<
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse
>()
  .use(injectLambdaContext(logger))
  .handler((event) => handlersFromEnv().isComplete(event));
