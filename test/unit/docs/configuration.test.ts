import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerEnvSchema } from '../../../worker/config.js';
import { ExplainerEnvSchema } from '../../../worker/explain/config.js';

const ROOT = join(import.meta.dirname, '../../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXPLAINER_DOC = readFileSync(join(ROOT, 'docs/explainer.md'), 'utf8');

/** The README's "Configuration" section: every variable the worker reads is named there. */
const CONFIGURATION = README.slice(
  README.indexOf('## Configuration'),
  README.indexOf('\n## ', README.indexOf('## Configuration') + 1),
);

// A variable the code reads but no page names is configuration only the source knows (and the
// reverse, a documented variable nothing reads, is the prior art's deployed worker that started
// nothing). The schemas are the one list of names; the docs must keep up with them.
describe('the configuration a platform engineer reads', () => {
  const worker = Object.keys(WorkerEnvSchema.shape);
  const explainer = Object.keys(ExplainerEnvSchema.shape);

  it.each([...worker, ...explainer])('README names %s in its configuration table', (name) => {
    expect(CONFIGURATION).toContain(`\`${name}\``);
  });

  it.each(explainer)('docs/explainer.md names %s', (name) => {
    expect(EXPLAINER_DOC).toContain(`\`${name}\``);
  });

  it('documents no COPILOT_ variable that no schema reads', () => {
    const read = new Set([...worker, ...explainer]);
    // Variables other entry points read (the API Lambda, `copilot kb`, the dev stack): named here
    // so a new one is a decision, not an accident.
    const elsewhere = new Set([
      'COPILOT_API_AUTH',
      'COPILOT_API_KEY',
      'COPILOT_API_KEY_SECRET_ARN',
      'COPILOT_KB_DATA_SOURCE_ID',
      'COPILOT_KB_BUCKET',
    ]);
    const named = [...CONFIGURATION.matchAll(/`(COPILOT_[A-Z_]+)`/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !read.has(n) && !elsewhere.has(n))).toEqual([]);
  });
});
