import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const LESSONS = readFileSync(join(ROOT, 'docs/lessons.md'), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

const ANCHORS = new Set(
  LESSONS.split('\n')
    .filter((l) => /^#{2,4} /.test(l))
    .map((l) => slug(l.replace(/^#+ /, ''))),
);

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (
      name === 'node_modules' ||
      name.startsWith('.') ||
      name === 'cdk.out' ||
      name === 'coverage'
    )
      continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|md)$/.test(name)) yield path;
  }
}

/**
 * Comments and docs cite the prior art's lessons by their anchor in docs/lessons.md (the prior art's own
 * document is outside the repository). A citation that does not resolve is a dead end for a
 * reader, and a lesson that names a test file that does not exist guards nothing.
 */
describe('docs/lessons.md', () => {
  it('resolves every anchor of lessons.md cited in the repository', () => {
    const broken: string[] = [];
    let cited = 0;
    for (const file of files(ROOT)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/lessons\.md#([a-z0-9-]+)/g)) {
        cited++;
        if (!ANCHORS.has(m[1] as string)) broken.push(`${relative(ROOT, file)}: #${m[1]}`);
      }
    }
    expect(cited).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });

  it('names only test files that exist as the guards of its lessons', () => {
    const named = [...LESSONS.matchAll(/`(test\/[^`\s]+\.ts)`/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('no longer cites the prior art by section in code', () => {
    const cites: string[] = [];
    for (const file of files(ROOT)) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(file, 'utf8');
      if (/prior[- ]art §/.test(text)) cites.push(relative(ROOT, file));
    }
    expect(cites).toEqual([]);
  });
});
