import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors.js';
import { loadWorkerSettings } from '../../../worker/config.js';
import { cachedWorkflowsFor, startOptionsFor, workflowCode } from '../../../worker/runtime.js';

describe('startOptionsFor', () => {
  it('starts each configured cluster with its own engine configuration and log watcher', () => {
    const settings = loadWorkerSettings({
      COPILOT_CLUSTERS: JSON.stringify([
        {
          name: 'eu',
          prometheusUrl: 'http://p:9090',
          engineConfig: { band: { initial: 'mid-scale' } },
          lokiUrl: 'http://loki:3100',
        },
        { name: 'us', prometheusUrl: 'http://q:9090' },
      ]),
      COPILOT_INTERVAL_SECONDS: '20',
      TEMPORAL_TASK_QUEUE: 'q',
      COPILOT_KB_ID: 'KB12345678',
      AWS_REGION: 'us-east-1',
    });
    expect(startOptionsFor({ logsEnabled: new Set(['eu']) }, settings)).toEqual([
      {
        cluster: 'eu',
        taskQueue: 'q',
        intervalMs: 20_000,
        engineConfig: { band: { initial: 'mid-scale' } },
        logsEnabled: true,
        knowledgeBaseId: 'KB12345678',
      },
      {
        cluster: 'us',
        taskQueue: 'q',
        intervalMs: 20_000,
        engineConfig: {},
        logsEnabled: false,
        knowledgeBaseId: 'KB12345678',
      },
    ]);
  });
});

describe('cachedWorkflowsFor', () => {
  it("keeps every cluster's workflows cached, never fewer than 20", () => {
    expect(cachedWorkflowsFor(1)).toBe(20);
    expect(cachedWorkflowsFor(50)).toBe(200);
  });
});

describe('workflowCode', () => {
  it('loads a prebuilt bundle that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copilot-wf-'));
    try {
      const file = join(dir, 'workflow-bundle.js');
      writeFileSync(file, '');
      expect(workflowCode({ workflowBundlePath: file })).toEqual({
        workflowBundle: { codePath: file },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a prebuilt bundle that is missing instead of bundling at start-up', () => {
    const missing = join(tmpdir(), 'no-such-dir', 'workflow-bundle.js');
    expect(() => workflowCode({ workflowBundlePath: missing })).toThrow(ConfigurationError);
    expect(() => workflowCode({ workflowBundlePath: missing })).toThrow(
      `${missing} is missing: run \`npm run build\``,
    );
  });

  it('bundles the sources otherwise, never a bundle an earlier build left in dist/', () => {
    const root = resolve(import.meta.dirname, '../../..');
    expect(workflowCode()).toEqual({ workflowsPath: join(root, 'worker/workflows/index.ts') });
    expect(workflowCode({ root: '/x' })).toEqual({ workflowsPath: '/x/worker/workflows/index.ts' });
  });
});
