#!/usr/bin/env node
// The `copilot` bin. In a checkout, where the dev dependencies are installed, it runs the
// TypeScript sources through tsx's loader (Node 20 cannot run TypeScript itself): an edit is live
// and a stale build can never run by mistake. Installed with the runtime dependencies only
// (`npm ci --omit=dev`), there is no tsx, and it runs the bundle `npm run build` wrote.
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
}
if (register !== undefined) {
  register();
  await import('./copilot.ts');
} else {
  const bundle = new URL('../dist/cli/copilot.mjs', import.meta.url);
  try {
    await import(bundle.href);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(bundle.pathname))
      throw error;
    process.stderr.write(
      'copilot: neither tsx (a dev dependency) nor the build (dist/cli/copilot.mjs) is here: ' +
        'run `npm run build`, or `npm install` to run from the sources\n',
    );
    process.exitCode = 2;
  }
}
