import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { LAMBDA_ALIASES } from '../lib/lambda-bundling.js';

/*
 * The production build (`npm run build`): nothing in production runs through tsx.
 *
 *   dist/worker/               the worker image's root, and all of it (the Dockerfile copies this
 *     main.mjs                 directory and nothing else): worker/production.ts bundled,
 *     workflow-bundle.js       the workflows prebuilt (no webpack when the worker starts),
 *     package.json             the packages main.mjs imports, pinned to the versions installed,
 *     node_modules/            and those packages with what they need at run time, copied.
 *   dist/lambda/<name>/index.mjs   each Lambda handler, bundled as lib/bundled-function.ts does.
 *   dist/cli/copilot.mjs       the `copilot` CLI: our code bundled, its packages external (it runs
 *                              where the package's runtime dependencies are installed).
 *   dist/meta/<name>.json      esbuild's metafile of each bundle (what went in, and its size).
 *
 * The worker leaves `@temporalio/*` external, as the Temporal samples do (production/src/worker.ts
 * compiles, it does not bundle): the SDK loads a native module (`@temporalio/core-bridge`, a
 * prebuilt `.node` per platform) and starts its workflow threads from files resolved next to its
 * own code, neither of which survives bundling. Everything else (our code, zod, postgres, the
 * AWS signer) is in main.mjs. Instead of `npm ci --omit=dev` in the image — which would install
 * every runtime dependency of the CLI, PGlite and the Temporal test server included — the build
 * copies exactly the external packages and their dependency closure, as Next.js's standalone
 * output does, so the test that runs `node dist/worker/main.mjs` runs what the image holds.
 */

/** The project root: the nearest directory up from this file with the project's package.json. */
function projectRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    // This file also runs bundled into .cache/bench/run.mjs (`npm run bench`), two levels down.
    if (existsSync(manifest) && readPackage(dir).name === 'temporal-sre-copilot') return dir;
    if (dirname(dir) === dir) throw new Error('scripts/build.ts: project root not found');
  }
}
const root = projectRoot();

/**
 * The Lambda handlers, by the directory name their bundle gets: every `lambda/*.ts` that exports
 * a `handler`, or a custom resource provider's `onEvent` / `isComplete` (the API, the schema and
 * knowledge-base resources, ad hoc ingestion), so a new handler is built without a list to keep.
 */
export function lambdaEntries(dir: string = join(root, 'lambda')): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.ts')) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    if (/^export (const|async function|function) (handler|onEvent|isComplete)\b/m.test(text))
      out[name.slice(0, -3)] = relative(root, join(dir, name));
  }
  return out;
}

/**
 * Packages the worker's external imports depend on that it never loads at run time, left out of
 * the image: `bundleWorkflowCode`'s loaders (the workflows are prebuilt), and type declarations.
 * The end-to-end test of the bundled worker runs from the copied `node_modules`, so a package
 * wrongly listed here fails it.
 */
const NOT_AT_RUN_TIME = [/^@swc\//, /^swc-loader$/, /^source-map-loader$/, /^@types\//];

/** Files no package needs at run time: type declarations and their maps, docs. */
const DROPPED_FILES = /(\.d\.[cm]?ts|\.d\.[cm]?ts\.map|\.md|\.markdown)$/i;

/**
 * The native core's prebuilt binaries are ~27 MB per platform, for six platforms, beside its
 * Rust sources: only `releases/<this platform>/` is copied (the image is built on the platform
 * it runs on), with the JavaScript that loads it.
 */
function coreBridgeKeeps(pkgDir: string, file: string): boolean {
  const rel = relative(pkgDir, file).split(sep);
  const top = rel[0] ?? '';
  if (rel.length === 1 && top === '') return true;
  if (top === 'releases') return rel.length === 1 || rel[1] === prebuiltTarget();
  return ['index.js', 'common.js', 'lib', 'package.json', 'LICENSE', 'LICENSE.md'].includes(top);
}

/** The core-bridge release directory of this machine (`x86_64-unknown-linux-gnu`, …). */
export function prebuiltTarget(): string {
  const arches: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };
  const platforms: Record<string, string> = {
    linux: 'unknown-linux-gnu',
    darwin: 'apple-darwin',
    win32: 'pc-windows-msvc',
  };
  return `${arches[arch()] ?? arch()}-${platforms[platform()] ?? platform()}`;
}

const NODE_BANNER =
  // Bundled CommonJS dependencies call require() for Node's built-ins; ESM has no require.
  "import { createRequire as __copilotCreateRequire } from 'node:module';" +
  'const require = __copilotCreateRequire(import.meta.url);';

const ZOD_NAMED = "import { z } from 'zod';";
const ZOD_NAMESPACE = "import * as z from 'zod';";

/**
 * Bundles our sources with `import * as z from 'zod'` where they say `import { z } from 'zod'`.
 * The two are the same object at run time (zod's root module re-exports its namespace as `z`),
 * but esbuild cannot tree-shake a namespace re-exported under a name: with `{ z }` every zod
 * module is kept, its 40-odd error-message locales included: the API bundle is 879 KiB with
 * `{ z }` and 536 KiB with the namespace (zod itself 444 → 103 KiB; a one-schema file bundles
 * to 454 KB against 85 KB). Sources read by tsx and vitest are untouched. Writing the
 * namespace import in the sources (zod 4's documented form) makes this a no-op.
 */
export const zodNamespaceImports: Plugin = {
  name: 'zod-namespace-imports',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes(ZOD_NAMED)) return undefined;
      return { contents: text.replaceAll(ZOD_NAMED, ZOD_NAMESPACE), loader: 'ts' };
    });
  },
};

const nodeBundle = (entry: string, outfile: string): BuildOptions => ({
  entryPoints: [join(root, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ESM builds first, as NodejsFunction resolves them: smaller and tree-shakeable.
  mainFields: ['module', 'main'],
  banner: { js: NODE_BANNER },
  metafile: true,
  plugins: [zodNamespaceImports],
  logLevel: 'error',
});

/** What a bundle holds: its size, and the packages it imports at run time. */
export interface BundleReport {
  readonly file: string;
  readonly bytes: number;
  /** External packages the bundle imports (`node:` built-ins left out). */
  readonly externals: readonly string[];
  /** Every input file bundled, relative to the project root. */
  readonly inputs: readonly string[];
}

function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || specifier.startsWith('/'))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function report(
  file: string,
  metafile: Metafile | undefined,
  metaName: string,
  outDir: string,
): BundleReport {
  if (metafile === undefined) throw new Error(`esbuild wrote no metafile for ${file}`);
  const meta = join(outDir, '..', 'meta');
  mkdirSync(meta, { recursive: true });
  writeFileSync(join(meta, `${metaName}.json`), JSON.stringify(metafile));
  const output =
    metafile.outputs[relative(process.cwd(), file)] ?? Object.values(metafile.outputs)[0];
  const externals = new Set<string>();
  for (const i of output?.imports ?? []) {
    const pkg = i.external === true ? packageOf(i.path) : undefined;
    // Built-ins imported without `node:` (the banner's, bundled code's) are not packages.
    if (pkg !== undefined && !isBuiltin(pkg)) externals.add(pkg);
  }
  return {
    file,
    bytes: statSync(file).size,
    externals: [...externals].sort(),
    inputs: Object.keys(metafile.inputs),
  };
}

const BUILTINS = new Set(
  (await import('node:module')).builtinModules.flatMap((m) => [m, m.split('/')[0] ?? m]),
);
const isBuiltin = (name: string) => BUILTINS.has(name);

/** Finds `name` from `fromDir` as Node does: the nearest `node_modules/<name>` up the tree. */
function resolvePackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; ) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * The installed directories of `names` and everything they depend on (dependencies, installed
 * optional and peer dependencies), resolved as Node resolves them from each dependent, minus
 * {@link NOT_AT_RUN_TIME}.
 */
export function dependencyClosure(names: readonly string[], from: string = root): string[] {
  const seen = new Set<string>();
  const visit = (name: string, fromDir: string) => {
    if (NOT_AT_RUN_TIME.some((re) => re.test(name))) return;
    const dir = resolvePackageDir(name, fromDir);
    // An optional dependency for another platform is not installed: nothing to copy.
    if (dir === undefined || seen.has(dir)) return;
    seen.add(dir);
    const pkg = readPackage(dir);
    for (const dep of Object.keys({
      ...pkg.dependencies,
      ...pkg.optionalDependencies,
      ...pkg.peerDependencies,
    }))
      visit(dep, dir);
  };
  for (const name of names) visit(name, from);
  return [...seen].sort();
}

/** Copies the closure into `outDir/node_modules`, keeping the nesting npm installed. */
function copyPackages(dirs: readonly string[], outDir: string): void {
  for (const dir of dirs) {
    const rel = relative(root, dir);
    const isCoreBridge = rel.split(sep).join('/').endsWith('node_modules/@temporalio/core-bridge');
    cpSync(dir, join(outDir, rel), {
      recursive: true,
      filter: (src) => {
        const inner = relative(dir, src).split(sep);
        // Nested node_modules are packages of their own, copied when in the closure.
        if (inner[0] === 'node_modules') return false;
        if (isCoreBridge && !coreBridgeKeeps(dir, src)) return false;
        return !DROPPED_FILES.test(src);
      },
    });
  }
}

/** What {@link buildWorker} produced. */
export interface WorkerBuild extends BundleReport {
  readonly workflowBundle: string;
  readonly workflowBundleBytes: number;
  /** The packages copied into `node_modules`, by name@version. */
  readonly packages: readonly string[];
}

/**
 * The worker image's root in `outDir`: the bundled entry, the prebuilt workflows, and the
 * packages the entry leaves external with their dependency closure. Replaces `outDir`.
 */
export async function buildWorker(
  outDir: string = join(root, 'dist/worker'),
): Promise<WorkerBuild> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'main.mjs');
  const result = await build({
    ...nodeBundle('worker/production.ts', file),
    external: ['@temporalio/*'],
  });
  const bundle = report(file, result.metafile, 'worker', outDir);

  const { code } = await bundleWorkflowCode({
    workflowsPath: join(root, 'worker/workflows/index.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const workflowBundle = join(outDir, 'workflow-bundle.js');
  writeFileSync(workflowBundle, code);

  const dirs = dependencyClosure(bundle.externals);
  copyPackages(dirs, outDir);
  // The runbook corpus the explainer's local index reads (COPILOT_RUNBOOKS_DIR's default,
  // `docs/rag` under the image's working directory): grounding without a knowledge base, and
  // the fallback when Retrieve fails.
  cpSync(join(root, 'docs/rag'), join(outDir, 'docs/rag'), {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() || src.endsWith('.md'),
  });
  const direct: Record<string, string> = {};
  for (const name of bundle.externals) {
    const dir = resolvePackageDir(name, root);
    if (dir !== undefined) direct[name] = readPackage(dir).version ?? '*';
  }
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'temporal-sre-copilot-worker',
        private: true,
        type: 'module',
        description: 'Built by `npm run build` (scripts/build.ts): the worker image root.',
        main: 'main.mjs',
        dependencies: direct,
      },
      null,
      2,
    )}\n`,
  );
  return {
    ...bundle,
    workflowBundle,
    workflowBundleBytes: statSync(workflowBundle).size,
    packages: dirs.map((d) => {
      const p = readPackage(d);
      return `${p.name}@${p.version}`;
    }),
  };
}

/** Options of {@link buildLambdas}. */
export interface LambdaBuildOptions {
  /** @default every handler ({@link lambdaEntries}) */
  readonly entries?: Readonly<Record<string, string>>;
  /**
   * Leave `@aws-sdk/*` to the runtime's own SDK v3 (NodejsFunction's default). @default false:
   * bundled, as lib/bundled-function.ts deploys them — AWS advises bundling the SDK, and the
   * runtime's copy has no `@aws-sdk/dsql-signer`.
   */
  readonly externalSdk?: boolean;
  /** {@link zodNamespaceImports}; false only to measure what it saves. @default true */
  readonly zodNamespace?: boolean;
  /**
   * The default credential chain aliased to the environment's credentials, as deployed
   * (`lib/lambda-bundling.ts`); false only to measure what it saves. @default true
   */
  readonly environmentCredentials?: boolean;
}

/**
 * Each Lambda handler bundled as lib/bundled-function.ts's NodejsFunction bundles it (ESM,
 * Node 22, minified, the AWS SDK included), plus {@link zodNamespaceImports}.
 * `dist/lambda/<name>/index.mjs`, handler `index.handler`.
 */
export async function buildLambdas(
  outDir: string = join(root, 'dist/lambda'),
  options: LambdaBuildOptions = {},
): Promise<Record<string, BundleReport>> {
  const out: Record<string, BundleReport> = {};
  for (const [name, entry] of Object.entries(options.entries ?? lambdaEntries())) {
    const dir = join(outDir, name);
    rmSync(dir, { recursive: true, force: true });
    const file = join(dir, 'index.mjs');
    const result = await build({
      ...nodeBundle(entry, file),
      target: 'node22',
      minify: true,
      external: options.externalSdk === true ? ['@aws-sdk/*'] : [],
      ...(options.environmentCredentials === false
        ? {}
        : { alias: { ...LAMBDA_ALIASES }, absWorkingDir: root }),
      ...(options.zodNamespace === false ? { plugins: [] } : {}),
    });
    out[name] = report(file, result.metafile, `lambda-${name}`, outDir);
  }
  return out;
}

/**
 * The `copilot` CLI: our TypeScript bundled into one file, every package external (the CLI runs
 * where the runtime dependencies are installed; `copilot dev` needs PGlite's WebAssembly and the
 * Temporal test server from their packages anyway).
 */
export async function buildCli(outDir: string = join(root, 'dist/cli')): Promise<BundleReport> {
  rmSync(outDir, { recursive: true, force: true });
  const file = join(outDir, 'copilot.mjs');
  const result = await build({
    ...nodeBundle('bin/copilot.ts', file),
    packages: 'external',
    banner: { js: `#!/usr/bin/env node\n${NODE_BANNER}` },
  });
  return report(file, result.metafile, 'cli', outDir);
}

/**
 * The packages the shipped code imports at run time, by name: the CLI, the worker image's entry,
 * the workflows (`copilot dev` bundles them from the sources when it starts) and every Lambda
 * handler. What package.json's `dependencies` must hold, and all it should.
 */
export async function importedPackages(): Promise<string[]> {
  const entries = [
    'bin/copilot.ts',
    'worker/production.ts',
    'worker/workflows/index.ts',
    ...Object.values(lambdaEntries()),
    // What the Lambda bundles alias packages to: imported by no source, bundled all the same.
    ...Object.values(LAMBDA_ALIASES).map((target) => target.replace(/^\.\//, '')),
  ];
  const names = new Set<string>();
  for (const entry of entries) {
    const result = await build({
      ...nodeBundle(entry, join(root, '.cache/imports', `${entry}.mjs`)),
      packages: 'external',
      write: false,
      plugins: [],
    });
    for (const output of Object.values(result.metafile?.outputs ?? {}))
      for (const i of output.imports) {
        const pkg = i.external === true ? packageOf(i.path) : undefined;
        if (pkg !== undefined && !isBuiltin(pkg)) names.add(pkg);
      }
  }
  return [...names].sort();
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

async function main(targets: readonly string[]): Promise<void> {
  const all = targets.length === 0;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (all || targets.includes('worker')) {
    const w = await buildWorker();
    say(
      `dist/worker/main.mjs ${kib(w.bytes)}, workflow-bundle.js ${kib(w.workflowBundleBytes)}, ` +
        `node_modules: ${w.packages.length} packages for ${w.externals.join(', ')}`,
    );
  }
  if (all || targets.includes('lambda'))
    for (const [name, r] of Object.entries(await buildLambdas()))
      say(`dist/lambda/${name}/index.mjs ${kib(r.bytes)}`);
  if (all || targets.includes('cli')) say(`dist/cli/copilot.mjs ${kib((await buildCli()).bytes)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await main(process.argv.slice(2));
