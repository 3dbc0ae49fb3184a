import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { ConfigurationError, messageOf } from '../errors.js';
import { WorkerFindingSchema } from '../health/evaluation.js';
import { GATE_IDS } from '../health/gates.js';
import { isKnownSignalId } from '../signals/catalog.js';
import { NARRATIVE_PATTERNS } from '../signals/narrative-patterns.js';
import { SERVICES } from '../signals/types.js';

/*
 * The runbook corpus (`docs/rag/`) as the knowledge base sees it: one markdown file per topic with
 * YAML front matter, turned into S3 objects (the file plus a `.metadata.json` sidecar that Bedrock
 * reads as the document's metadata) and a content hash that changes exactly when an object does.
 * The CDK construct, `copilot kb sync` and the corpus tests all read the corpus through this
 * module, so what is deployed, what is synced and what is checked are the same bytes.
 */

/**
 * How the data source chunks the corpus (docs/knowledge-base.md, "Chunking"): hierarchical, a
 * parent chunk large enough to hold a whole runbook and child chunks of a few paragraphs. A
 * query matches the small child chunks; Bedrock returns their parent, so the explainer always
 * gets a runbook's remediations together with its "what not to do".
 */
export const CHUNKING = Object.freeze({
  strategy: 'HIERARCHICAL',
  parentMaxTokens: 1500,
  childMaxTokens: 300,
  overlapTokens: 60,
} as const);

/**
 * A conservative token estimate: one token per 3 UTF-8 bytes. English prose averages about 4
 * bytes per token and identifiers such as `stressed.persistence_latency` cost more, so 3 over-
 * counts; a runbook within {@link CHUNKING}.parentMaxTokens by this estimate fits one parent chunk.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(new TextEncoder().encode(text).length / 3);
}

const GATES = new Set<string>(GATE_IDS);
const PATTERNS = new Set(NARRATIVE_PATTERNS.map((p) => p.id));

const idList = (what: string, known: (id: string) => boolean) =>
  z
    .array(z.string())
    .default([])
    .superRefine((ids, ctx) => {
      for (const id of ids)
        if (!known(id)) ctx.addIssue({ code: 'custom', message: `unknown ${what} id ${id}` });
    });

/** A runbook's front matter: what it is about, and which engine ids show it. */
export const RunbookFrontMatterSchema = z.strictObject({
  title: z.string().min(3).max(120),
  /** One sentence: what the runbook is about and what to do. */
  summary: z.string().min(10).max(300),
  gates: idList('gate', (id) => GATES.has(id)),
  signals: idList('signal', isKnownSignalId),
  services: z.array(z.enum(SERVICES)).min(1),
  log_patterns: idList('log pattern', (id) => PATTERNS.has(id)),
  worker_findings: z.array(WorkerFindingSchema.shape.rule).default([]),
});
export type RunbookFrontMatter = z.infer<typeof RunbookFrontMatterSchema>;

export interface Runbook {
  /** The file name, kebab-case, ending in `.md`: also the object key. */
  readonly file: string;
  readonly front: RunbookFrontMatter;
  /** The markdown after the front matter. */
  readonly body: string;
  /** The whole file, as uploaded. */
  readonly text: string;
}

/** The corpus cannot be used as it is; names the file and the problem. */
export class CorpusError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'CorpusError';
  }
}

const FRONT_MATTER = /^---\n([\s\S]*?)\n---\n/;
const KEBAB_MD = /^[a-z0-9]+(?:-[a-z0-9]+)*\.md$/;

/** Parses one runbook file; every problem it has is in the one error thrown. */
export function parseRunbook(file: string, text: string): Runbook {
  const problems: string[] = [];
  if (!KEBAB_MD.test(file)) problems.push('file name is not kebab-case .md');
  const match = FRONT_MATTER.exec(text);
  if (match === null) throw new CorpusError(`${file}: no YAML front matter (--- … ---) at the top`);
  let raw: unknown;
  try {
    raw = parseYaml(match[1] ?? '');
  } catch (error) {
    throw new CorpusError(`${file}: front matter is not YAML: ${messageOf(error)}`);
  }
  const parsed = RunbookFrontMatterSchema.safeParse(raw);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      problems.push(`${issue.path.join('.') || 'front matter'}: ${issue.message}`);
  const body = text.slice(match[0].length);
  if (!/^# \S/m.test(body)) problems.push('no top-level "# " heading');
  const tokens = estimateTokens(text);
  if (tokens > CHUNKING.parentMaxTokens)
    problems.push(
      `~${tokens} tokens, over the ${CHUNKING.parentMaxTokens}-token parent chunk: split the topic`,
    );
  if (problems.length > 0 || !parsed.success)
    throw new CorpusError(`${file}: ${problems.join('; ')}`);
  return { file, front: parsed.data, body, text };
}

/** One object of the corpus as it is stored in the source bucket. */
export interface CorpusObject {
  readonly key: string;
  readonly body: string;
  readonly contentType: string;
}

const METADATA_SUFFIX = '.metadata.json';
const stringValue = (v: string) => ({ value: { type: 'STRING', stringValue: v } });
const listValue = (v: readonly string[]) => ({
  value: { type: 'STRING_LIST', stringListValue: v },
});

/**
 * The Bedrock metadata sidecar of a runbook (`<key>.metadata.json`). The attributes stay small:
 * S3 Vectors allows 2 KB of filterable metadata per vector, and these are filterable (a
 * retrieval can ask for the runbooks of one gate or service). Signals and log patterns stay in
 * the text, where they help matching without using that budget.
 */
export function metadataOf(runbook: Runbook): string {
  const attributes: Record<string, unknown> = {
    title: stringValue(runbook.front.title),
    topic: stringValue(runbook.file.slice(0, -'.md'.length)),
    services: listValue(runbook.front.services),
  };
  if (runbook.front.gates.length > 0) attributes.gates = listValue(runbook.front.gates);
  return `${JSON.stringify({ metadataAttributes: attributes }, null, 2)}\n`;
}

/** The objects the source bucket holds for these runbooks, sorted by key. */
export function corpusObjects(runbooks: readonly Runbook[]): CorpusObject[] {
  return runbooks
    .flatMap((r) => [
      { key: r.file, body: r.text, contentType: 'text/markdown; charset=utf-8' },
      { key: `${r.file}${METADATA_SUFFIX}`, body: metadataOf(r), contentType: 'application/json' },
    ])
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * SHA-256 over every object's key and bytes, in key order: changes when a runbook is added,
 * removed, renamed or edited, and for nothing else.
 */
export function corpusHash(objects: readonly CorpusObject[]): string {
  const h = createHash('sha256');
  for (const o of [...objects].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    h.update(o.key).update('\0').update(o.body).update('\0');
  }
  return h.digest('hex');
}

/** Whether an object key belongs to the corpus layout (a runbook or its sidecar). */
export function isCorpusKey(key: string): boolean {
  return key.endsWith('.md') || key.endsWith(`.md${METADATA_SUFFIX}`);
}

/**
 * Reads and checks every `*.md` file directly in `dir` (sorted). All problems of all files are
 * reported together, so one run shows everything to fix.
 */
export function readCorpus(dir: string): Runbook[] {
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.md'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    throw new CorpusError(`cannot read the runbook corpus in ${dir}: ${messageOf(error)}`);
  }
  if (files.length === 0) throw new CorpusError(`no runbooks (*.md) in ${dir}`);
  const runbooks: Runbook[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      runbooks.push(parseRunbook(file, readFileSync(join(dir, file), 'utf8')));
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  if (problems.length > 0) throw new CorpusError(`runbook corpus ${dir}: ${problems.join(' | ')}`);
  return runbooks;
}
