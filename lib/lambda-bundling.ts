/**
 * esbuild settings every Lambda bundle shares, in `lib/bundled-function.ts` (what `cdk deploy`
 * ships) and `scripts/build.ts` (what the tests and benches run), so the two cannot drift. Plain
 * data: `scripts/build.ts` imports it without loading the CDK.
 */

/**
 * Packages replaced by a module of ours, resolved from the repository root (esbuild resolves
 * alias targets in its working directory, which both builds set to the root).
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  // The default credential chain, for the environment's credentials only: see the module.
  '@aws-sdk/credential-provider-node': './lambda/common/env-credentials.ts',
};

/** {@link LAMBDA_ALIASES} as NodejsFunction's `bundling.esbuildArgs` (`--alias:from=to` each). */
export const LAMBDA_ESBUILD_ARGS: Readonly<Record<string, string[]>> = {
  '--alias': Object.entries(LAMBDA_ALIASES).map(([from, to]) => `${from}=${to}`),
};
