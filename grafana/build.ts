/**
 * Generates grafana/dashboards/*.generated.json and the README's panel tables from the
 * TypeScript dashboards.
 *
 *   npm run grafana:build            write them
 *   npm run grafana:build -- --check exit 1 naming each file that is out of date (writes nothing)
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS, renderDashboard } from './src/index.js';
import { panelTables, withPanelTables } from './src/panel-docs.js';

const ROOT = import.meta.dirname;
export const DASHBOARD_DIR = join(ROOT, 'dashboards');
export const README = join(ROOT, 'README.md');

/** Every generated file, by absolute path, with the content it must have. */
export function expectedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  const built = DASHBOARDS.map((d) => ({ file: d.file, builder: d.build() }));
  for (const { file, builder } of built)
    out.set(join(DASHBOARD_DIR, file), renderDashboard(builder));
  const tables = panelTables(built.map((b) => b.builder.build()));
  out.set(README, withPanelTables(readFileSync(README, 'utf8'), tables));
  return out;
}

/** Generated files that differ from what the code builds, and leftovers no code builds. */
export function staleFiles(): string[] {
  const expected = expectedFiles();
  const stale: string[] = [];
  for (const [path, content] of expected) {
    let current: string | null = null;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== content) stale.push(path);
  }
  for (const f of readdirSync(DASHBOARD_DIR))
    if (f.endsWith('.generated.json') && !expected.has(join(DASHBOARD_DIR, f)))
      stale.push(join(DASHBOARD_DIR, f));
  return stale;
}

function main(): void {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    for (const f of stale) console.error(`out of date: ${f} (run npm run grafana:build)`);
    process.exitCode = stale.length === 0 ? 0 : 1;
    return;
  }
  const expected = expectedFiles();
  for (const [path, content] of expected) writeFileSync(path, content);
  // A dashboard removed from the code leaves no file behind.
  for (const f of readdirSync(DASHBOARD_DIR))
    if (f.endsWith('.generated.json') && !expected.has(join(DASHBOARD_DIR, f)))
      rmSync(join(DASHBOARD_DIR, f));
  console.log(`wrote ${DASHBOARDS.length} dashboards to ${DASHBOARD_DIR} and the README's tables`);
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) main();
