import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Determinism guard: a history recorded from a real run of ObserveClusterWorkflow (five cycles,
 * one state change, one child assessment; regenerate with `UPDATE_HISTORIES=1 npx vitest run
 * test/workflow`) must replay against today's workflow code. Changing the workflow's commands
 * without `patched()` fails here, before it breaks running executions.
 */
describe('workflow replay', () => {
  const history = historyFromJSON(
    JSON.parse(readFileSync(join(here, '../fixtures/histories/observe-cluster.json'), 'utf8')),
  );

  it('replays a recorded ObserveClusterWorkflow history against the current code', async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: join(here, '../../worker/workflows/index.ts'),
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle }, history, 'observe-wf-change'),
    ).resolves.toBeUndefined();
  });

  // Histories of the re-wording rules, each behind its patch: the reason-only rule as it shipped
  // (happy healthy, then idle held two cycles and re-worded), and today's verdict rule (stressed by
  // persistence, then by starved workers). Each must replay with the rule that wrote it.
  it.each([
    ['the reason-only re-wording rule', 'observe-cluster-reason-reword.json'],
    ['the verdict re-wording rule', 'observe-cluster-verdict-reword.json'],
  ])('replays a history recorded under %s unchanged', async (_rule, file) => {
    const recorded = historyFromJSON(
      JSON.parse(readFileSync(join(here, '../fixtures/histories', file), 'utf8')),
    );
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: join(here, '../../worker/workflows/index.ts'),
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle }, recorded, `replay-${file}`),
    ).resolves.toBeUndefined();
  });

  it('fails on a workflow whose commands drifted', async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: join(here, '../fixtures/workflows/drifted.ts'),
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle }, history, 'observe-wf-change'),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
