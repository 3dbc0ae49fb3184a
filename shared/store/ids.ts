import { createHash } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 4122 §4.3 / Appendix C: the name space for URLs. */
export const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/**
 * Name-based (version 5, SHA-1) UUID, RFC 4122 §4.3: the same namespace and name always give the
 * same id. This is what makes writes idempotent: a retried activity computes the id it computed
 * the first time, and `ON CONFLICT (id) DO NOTHING` drops the duplicate.
 *
 * @example uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8') // '886313e1-3b8a-5372-9b90-0c9aee199e5d'
 */
export function uuidV5(name: string, namespace: string): string {
  if (!UUID_RE.test(namespace)) throw new TypeError(`namespace is not a UUID: ${namespace}`);
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  // Version 5 in the high nibble of byte 6, RFC 4122 variant (10xx) in byte 8.
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The copilot's own name space; every store id lives under it. Never change it: ids would move. */
export const COPILOT_NAMESPACE = uuidV5('urn:temporal-sre-copilot:state-store', NAMESPACE_URL);

/**
 * A deterministic id from a kind and its identifying parts. The parts are JSON-encoded as an
 * array, so `('a:b', 'c')` and `('a', 'b:c')` cannot collide.
 */
export function deterministicId(kind: string, ...parts: readonly (string | number)[]): string {
  return uuidV5(JSON.stringify([kind, ...parts]), COPILOT_NAMESPACE);
}

/** A cluster's id, from its name. */
export function clusterIdFor(name: string): string {
  return deterministicId('cluster', name);
}

/**
 * One cycle's evaluation, by what it is: the cluster and the instant it judges (epoch ms, the
 * observer's workflow time for that cycle). A retried write lands on the same id; a new observer
 * run, a reset or a continue-as-new judges new instants and so writes new rows. (Ids of rows
 * written before this scheme, from workflow id and cycle number, stay as they are: they are only
 * names, and the new ones cannot collide with them.) See docs/store.md, "Identity".
 */
export function evaluationIdFor(clusterId: string, observedAtMs: number): string {
  if (!Number.isSafeInteger(observedAtMs) || observedAtMs < 0)
    throw new RangeError(`observed instant must be epoch milliseconds, got ${observedAtMs}`);
  return deterministicId('evaluation@', clusterId, observedAtMs);
}

/**
 * An assessment: `key` is whatever the caller uses to name one explanation run, e.g. the
 * assessing workflow's id plus the cycle it explains.
 */
export function assessmentIdFor(clusterId: string, key: string): string {
  return deterministicId('assessment', clusterId, key);
}

/** An issue within an assessment, named by its condition key. */
export function issueIdFor(assessmentId: string, issueKey: string): string {
  return deterministicId('issue', assessmentId, issueKey);
}

/** One pattern's count in one observation window. */
export function logPatternIdFor(
  clusterId: string,
  observedAtMs: number,
  patternId: string,
  service: string,
): string {
  return deterministicId('log_pattern', clusterId, observedAtMs, patternId, service);
}
