import { fileURLToPath } from 'node:url';
import { ConfigurationError, messageOf } from '../shared/errors.js';
import { runWorker } from './main.js';

/*
 * The worker image's entry point, bundled by `npm run build` to `dist/worker/main.mjs` beside the
 * prebuilt `workflow-bundle.js` (the image's CMD runs it). It differs from `copilot worker` only
 * in what it carries: server stores only (no PGlite), the workflow bundle built ahead (no webpack
 * at start-up), no command-line parser. Exit codes are the CLI's: 2 for a configuration mistake,
 * 1 for anything else, one line on stderr naming it.
 */
const workflowBundlePath = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

try {
  await runWorker(process.env, { workflowBundlePath });
} catch (error) {
  const configuration = error instanceof ConfigurationError;
  process.stderr.write(
    `copilot worker: ${configuration ? '' : 'unexpected error: '}${messageOf(error)}\n`,
  );
  process.exitCode = configuration ? 2 : 1;
}
