import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATE_IDS } from '../../../shared/health/gates.js';
import {
  CHUNKING,
  CorpusError,
  corpusHash,
  corpusObjects,
  estimateTokens,
  metadataOf,
  parseRunbook,
  readCorpus,
} from '../../../shared/kb/corpus.js';
import { isKnownSignalId } from '../../../shared/signals/catalog.js';
import { NARRATIVE_PATTERNS } from '../../../shared/signals/narrative-patterns.js';

const CORPUS_DIR = join(import.meta.dirname, '../../../docs/rag');
const runbooks = readCorpus(CORPUS_DIR);

/** Backticked tokens in a body that have the shape of an engine id (`group.field`). */
function citedIds(body: string): string[] {
  return [...body.matchAll(/`([a-z0-9_]+\.[a-z0-9_.]+)`/g)].map((m) => m[1] ?? '');
}

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

const GOOD_FRONT = [
  '---',
  'title: A test runbook',
  'summary: What this runbook is about, in one sentence.',
  'gates: [stressed.persistence_latency]',
  'signals: [persistence.latency_p99_ms]',
  'services: [persistence]',
  '---',
  '',
  '# A test runbook',
  '',
  'Body.',
  '',
].join('\n');

describe('the runbook corpus (docs/rag)', () => {
  it('has the seed topics and the DSQL, Temporal and copilot topics, one file each', () => {
    const topics = runbooks.map((r) => r.file);
    for (const t of [
      'worker-scaling.md',
      'poller-configuration.md',
      'sticky-cache-tuning.md',
      'dsql-occ-conflicts.md',
      'connection-pool-and-reservoir.md',
      'dsql-connection-limits.md',
      'history-shards-and-backlog.md',
      'matching-backlog-and-sync-match.md',
      'persistence-latency.md',
      'frontend-errors-and-rate-limits.md',
      'retention-storms.md',
      'long-polls-and-idle-clusters.md',
      'deploys-and-shard-movement.md',
      'copilot-stale-or-blind.md',
    ])
      expect(topics).toContain(t);
    expect(new Set(runbooks.map((r) => r.front.title)).size).toBe(runbooks.length);
  });

  it.each(runbooks.map((r) => [r.file, r] as const))(
    '%s cites only gate, signal and log-pattern ids that exist',
    (_, r) => {
      for (const g of r.front.gates) expect(GATE_IDS).toContain(g);
      for (const s of r.front.signals) expect(isKnownSignalId(s), s).toBe(true);
      const patterns = NARRATIVE_PATTERNS.map((p) => p.id);
      for (const p of r.front.log_patterns) expect(patterns).toContain(p);
      // Ids cited in the text must exist too, and be listed in the front matter's metadata.
      for (const id of citedIds(r.body)) {
        const known = (GATE_IDS as readonly string[]).includes(id) || isKnownSignalId(id);
        expect(known, `${r.file} cites unknown id ${id}`).toBe(true);
        expect(
          [...r.front.gates, ...r.front.signals],
          `${r.file}: ${id} not in front matter`,
        ).toContain(id);
      }
    },
  );

  it('covers every gate the engine has with at least one runbook', () => {
    const covered = new Set(runbooks.flatMap((r) => r.front.gates));
    expect(GATE_IDS.filter((g) => !covered.has(g))).toEqual([]);
  });

  it.each(runbooks.map((r) => [r.file, r] as const))(
    '%s has the chunk-friendly sections, no PromQL, and fits one parent chunk',
    (_, r) => {
      const headings = [...r.body.matchAll(/^## (.+)$/gm)].map((m) => m[1] ?? '');
      expect(headings.some((h) => h.startsWith('Symptoms'))).toBe(true);
      expect(headings.some((h) => h.startsWith('Signals and gates'))).toBe(true);
      expect(headings.some((h) => h.startsWith('Causes'))).toBe(true);
      expect(headings.some((h) => h.startsWith('Remediation'))).toBe(true);
      expect(headings.some((h) => h.startsWith('What not to do'))).toBe(true);
      // Query language does not explain anything to an operator and crowds out the prose.
      expect(r.text).not.toMatch(/histogram_quantile\(|rate\(|_bucket\{|\[\d+[smh]\]\)/);
      expect(estimateTokens(r.text)).toBeLessThanOrEqual(CHUNKING.parentMaxTokens);
    },
  );

  it('gives every runbook a small metadata sidecar Bedrock can read', () => {
    for (const r of runbooks) {
      const sidecar = metadataOf(r);
      // Filterable metadata on S3 Vectors is limited to 2 KB per vector, Bedrock's own included.
      expect(new TextEncoder().encode(sidecar).length).toBeLessThan(1024);
      const parsed = JSON.parse(sidecar) as {
        metadataAttributes: Record<string, { value: { type: string } }>;
      };
      expect(parsed.metadataAttributes.title?.value.type).toBe('STRING');
      expect(parsed.metadataAttributes.services?.value.type).toBe('STRING_LIST');
    }
    const keys = corpusObjects(runbooks).map((o) => o.key);
    expect(keys).toContain('worker-scaling.md');
    expect(keys).toContain('worker-scaling.md.metadata.json');
    expect(keys).toHaveLength(runbooks.length * 2);
  });
});

describe('parseRunbook', () => {
  it('accepts a well-formed runbook', () => {
    const r = parseRunbook('a-test.md', GOOD_FRONT);
    expect(r.front.gates).toEqual(['stressed.persistence_latency']);
    expect(r.front.log_patterns).toEqual([]);
  });

  it.each([
    [
      'an unknown gate',
      GOOD_FRONT.replace('stressed.persistence_latency]', 'stressed.nope]'),
      /unknown gate id stressed.nope/,
    ],
    [
      'an unknown signal',
      GOOD_FRONT.replace('persistence.latency_p99_ms]', 'persistence.nope]'),
      /unknown signal id persistence.nope/,
    ],
    [
      'an unknown service',
      GOOD_FRONT.replace('services: [persistence]', 'services: [database]'),
      /services/,
    ],
    [
      'an unknown log pattern',
      GOOD_FRONT.replace('services:', 'log_patterns: [nope]\nservices:'),
      /unknown log pattern id nope/,
    ],
    [
      'an unknown key',
      GOOD_FRONT.replace('services:', 'owner: me\nservices:'),
      /owner|unrecognized/i,
    ],
    ['no front matter', '# Just a heading\n', /no YAML front matter/],
    [
      'front matter that is not YAML',
      GOOD_FRONT.replace('title: A test runbook', 'title: [unclosed'),
      /not YAML/,
    ],
    ['no heading', GOOD_FRONT.replace('# A test runbook', 'A test runbook'), /heading/],
    [
      'a runbook over the parent chunk',
      `${GOOD_FRONT}${'word '.repeat(1200)}`,
      /over the 1500-token parent chunk/,
    ],
  ])('fails on %s', (_, text, message) => {
    expect(() => parseRunbook('a-test.md', text)).toThrow(CorpusError);
    expect(() => parseRunbook('a-test.md', text)).toThrow(message);
  });

  it('fails on a file name that is not kebab-case', () => {
    expect(() => parseRunbook('Worker_Scaling.md', GOOD_FRONT)).toThrow(/kebab-case/);
  });
});

describe('readCorpus and corpusHash', () => {
  const dirWith = (files: Record<string, string>): string => {
    const d = mkdtempSync(join(tmpdir(), 'copilot-corpus-'));
    tmp.push(d);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
    return d;
  };

  it('reports every broken file at once and names each', () => {
    const d = dirWith({
      'good.md': GOOD_FRONT,
      'bad-one.md': '# no front matter\n',
      'bad-two.md': GOOD_FRONT.replace('stressed.persistence_latency]', 'stressed.nope]'),
    });
    expect(() => readCorpus(d)).toThrow(/bad-one\.md.*bad-two\.md/);
  });

  it('fails clearly on a missing or empty directory', () => {
    expect(() => readCorpus(join(tmpdir(), 'copilot-no-such-corpus'))).toThrow(
      /cannot read the runbook corpus/,
    );
    const empty = dirWith({});
    mkdirSync(join(empty, 'sub'));
    expect(() => readCorpus(empty)).toThrow(/no runbooks/);
  });

  it('changes the hash when one byte of one runbook changes, and only then', () => {
    const a = corpusObjects(readCorpus(dirWith({ 'one.md': GOOD_FRONT, 'two.md': GOOD_FRONT })));
    const same = corpusObjects(readCorpus(dirWith({ 'two.md': GOOD_FRONT, 'one.md': GOOD_FRONT })));
    const edited = corpusObjects(
      readCorpus(dirWith({ 'one.md': GOOD_FRONT, 'two.md': GOOD_FRONT.replace('Body.', 'Body!') })),
    );
    const renamed = corpusObjects(
      readCorpus(dirWith({ 'one.md': GOOD_FRONT, 'six.md': GOOD_FRONT })),
    );
    expect(corpusHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(corpusHash(same)).toBe(corpusHash(a));
    expect(corpusHash([...a].reverse())).toBe(corpusHash(a));
    expect(corpusHash(edited)).not.toBe(corpusHash(a));
    expect(corpusHash(renamed)).not.toBe(corpusHash(a));
  });
});
