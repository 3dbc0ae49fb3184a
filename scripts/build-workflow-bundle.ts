import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Builds the workflow bundle once for production images (`npm run build:workflows`): the worker
 * loads `dist/workflow-bundle.js` instead of running webpack at every start.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { code } = await bundleWorkflowCode({
  workflowsPath: join(root, 'worker/workflows/index.ts'),
});
const out = join(root, 'dist/workflow-bundle.js');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
process.stdout.write(`wrote ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
