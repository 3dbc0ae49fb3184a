import MiniSearch from 'minisearch';
import * as z from 'zod';
import type { Evaluation } from '../health/evaluation.js';
import type { Runbook } from '../kb/corpus.js';
import { gateTitle } from './rule-based.js';

/*
 * Grounding: the runbook passages an explanation rests on. With a Bedrock Knowledge Base they come
 * from `Retrieve`; without one, from a local full-text index over the same corpus (`docs/rag/`),
 * so the rule-based explainer on `npm start` cites the runbooks too. Pure: the caller reads the
 * files (worker/explain/knowledge.ts).
 */

/** One retrieved passage: where it comes from and what it says. */
export const GroundingPassageSchema = z.object({
  /** The runbook it comes from: `docs/rag/<file>.md` locally, the S3 URI from a knowledge base. */
  source: z.string().min(1).max(1_000),
  title: z.string().max(300),
  /** The section within the runbook (its heading), or '' for the whole document. */
  heading: z.string().max(300),
  /** The passage, trimmed to a few hundred words. */
  text: z.string().max(4_000),
  /** Relevance as the retriever scored it (not comparable across retrievers). */
  score: z.number(),
  /** The gate ids its runbook's front matter says it covers (the knowledge base's metadata). */
  gates: z.array(z.string().max(100)).max(50).optional(),
});
export type GroundingPassage = z.infer<typeof GroundingPassageSchema>;

/** A runbook section as indexed: its heading and text, with the runbook's front matter. */
export interface RunbookChunk {
  readonly id: string;
  readonly source: string;
  readonly title: string;
  readonly heading: string;
  readonly text: string;
  /** Gate ids the runbook's front matter says it covers. */
  readonly gates: readonly string[];
  /** Signal ids it names. */
  readonly signals: readonly string[];
  readonly services: readonly string[];
}

/** A passage's text is cut here: enough for a model to read, small enough for a prompt. */
export const PASSAGE_MAX_CHARS = 1_600;

/**
 * Splits one runbook (as `shared/kb/corpus.ts` parses and checks it) into its `##` sections, each
 * carrying the runbook's title, gates, signals and services — the same sections the knowledge
 * base's hierarchical chunking makes its child chunks from.
 */
export function chunkRunbook(
  runbook: Runbook,
  source = `docs/rag/${runbook.file}`,
): RunbookChunk[] {
  const chunks: RunbookChunk[] = [];
  runbook.body.split(/^(?=## )/m).forEach((section, i) => {
    const isSection = section.startsWith('## ');
    const newline = section.indexOf('\n');
    const heading = isSection
      ? section.slice(3, newline < 0 ? undefined : newline).trim()
      : runbook.front.title;
    const text = (isSection ? section.slice(newline + 1) : section).replace(/^# .*$/m, '').trim();
    if (text === '') return;
    chunks.push({
      id: `${source}#${i}`,
      source,
      title: runbook.front.title,
      heading,
      text,
      gates: runbook.front.gates,
      signals: runbook.front.signals,
      services: runbook.front.services,
    });
  });
  return chunks;
}

/** The words an evaluation is searched by: its fired and blind gates, their meanings, the reason. */
export function groundingQuery(e: Evaluation): string {
  if (e.state === 'unknown') {
    // Unknown is the copilot's own blindness first: its runbook before the runbooks of the gates it
    // could not evaluate (a query of every blind gate's words found the history runbook instead).
    const blind = e.gates.filter((g) => g.level === 'critical' && e.blindGates.includes(g.id));
    return ['copilot itself stale blind cannot see', e.reason.replaceAll('_', ' ')]
      .concat(blind.map((g) => g.id))
      .join(' ');
  }
  const ids = [...e.firedGates, ...e.blindGates];
  const words = [
    ...ids,
    ...ids.map(gateTitle),
    e.reason.replaceAll('_', ' '),
    e.bottleneck === 'healthy' || e.bottleneck === 'unknown' ? '' : e.bottleneck.replace('_', ' '),
    e.systemBusy ? 'retention cleanup deletion' : '',
    e.idle ? 'idle long poll' : '',
    ...e.services.flatMap((s) => s.elevatedSignals),
  ];
  return words.filter((w) => w !== '').join(' ');
}

/**
 * A full-text index over runbook sections (MiniSearch: BM25 with prefix and fuzzy matching — a
 * maintained library, not scoring of our own). A section whose runbook declares one of the queried
 * gates in its front matter is boosted, so the runbook written for a gate comes first.
 */
export class LocalRunbookIndex {
  private readonly search: MiniSearch<RunbookChunk>;
  private readonly byId: ReadonlyMap<string, RunbookChunk>;

  constructor(chunks: readonly RunbookChunk[]) {
    this.search = new MiniSearch<RunbookChunk>({
      fields: ['title', 'heading', 'text', 'tags'],
      storeFields: ['id'],
      extractField: (doc, field) =>
        field === 'tags'
          ? [...doc.gates, ...doc.signals, ...doc.services].join(' ')
          : String((doc as unknown as Record<string, unknown>)[field] ?? ''),
      // Ids like `stressed.persistence_latency` stay one token, so gate ids match exactly.
      tokenize: (text) =>
        text
          .toLowerCase()
          .split(/[^a-z0-9._-]+/)
          .filter((t) => t.length > 1),
      searchOptions: { boost: { tags: 3, title: 2, heading: 1.5 }, prefix: true, fuzzy: 0.15 },
    });
    this.search.addAll([...chunks]);
    this.byId = new Map(chunks.map((c) => [c.id, c]));
  }

  get size(): number {
    return this.byId.size;
  }

  /** The `limit` best sections for an evaluation, as passages. */
  passagesFor(e: Evaluation, limit = 4): GroundingPassage[] {
    const gates = new Set([...e.firedGates, ...e.blindGates]);
    const results = this.search.search(groundingQuery(e), {
      combineWith: 'OR',
      boostDocument: (id) => {
        const chunk = this.byId.get(String(id));
        return chunk?.gates.some((g) => gates.has(g)) ? 3 : 1;
      },
    });
    return results.slice(0, limit).map((r) => {
      const c = this.byId.get(String(r.id)) as RunbookChunk;
      return {
        source: c.source,
        title: c.title,
        heading: c.heading,
        text: c.text.length > PASSAGE_MAX_CHARS ? `${c.text.slice(0, PASSAGE_MAX_CHARS)}…` : c.text,
        score: Math.round(r.score * 1000) / 1000,
        gates: [...c.gates],
      };
    });
  }
}
