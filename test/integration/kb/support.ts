import { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import type { Context } from 'aws-lambda';
import { expect, vi } from 'vitest';
import type { FakeBedrockAgent } from '../../support/bedrock-agent-server.js';
import { expectSigV4Valid } from '../../support/sigv4.js';

export const REGION = 'eu-west-1';
export const CREDENTIALS = { accessKeyId: 'AKIDKBTEST', secretAccessKey: 'kb-test-secret' };
export const TARGET = { knowledgeBaseId: 'KBTEST0001', dataSourceId: 'DSTEST0001' };

/**
 * The environment a deployed ingestion function sees (Lambda's credentials, the region), with the
 * SDK's endpoint variable pointed at the local server; modules reset so the handler reads it.
 */
export function stubLambdaEnv(server: FakeBedrockAgent, extra: Record<string, string> = {}): void {
  vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_AGENT', server.url);
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', undefined);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  for (const [k, v] of Object.entries(extra)) vi.stubEnv(k, v);
  vi.resetModules();
}

/** The real SDK client, pointed at the local server, signing with dummy credentials. */
export function agentClient(server: FakeBedrockAgent, maxAttempts = 3): BedrockAgentClient {
  return new BedrockAgentClient({
    endpoint: server.url,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts,
  });
}

/** Every request the server received was signed for bedrock in REGION over its exact bytes. */
export async function expectAllSigned(server: FakeBedrockAgent): Promise<void> {
  expect(server.requests.length).toBeGreaterThan(0);
  for (const r of server.requests)
    await expectSigV4Valid(r, { service: 'bedrock', region: REGION, credentials: CREDENTIALS });
}

/** A Lambda context with a fixed remaining time. */
export function context(remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'copilot-kb',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:copilot-kb',
    memoryLimitInMB: '256',
    awsRequestId: '3f1c0a5e-0000-4000-8000-000000000001',
    logGroupName: '/aws/lambda/copilot-kb',
    logStreamName: '2026/11/30/[$LATEST]0001',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
