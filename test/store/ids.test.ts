import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COPILOT_NAMESPACE,
  clusterIdFor,
  deterministicId,
  evaluationIdFor,
  issueIdFor,
  NAMESPACE_URL,
  uuidV5,
} from '../../shared/store/ids.js';

const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV5', () => {
  it('matches published RFC 4122 version-5 vectors', () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'), and the same for a URL name.
    expect(uuidV5('python.org', NAMESPACE_DNS)).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(uuidV5('http://python.org/', NAMESPACE_URL)).toBe(
      '4c565f0d-3f5a-5890-b41b-20cf47701c5e',
    );
  });

  it('fails on a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(/namespace is not a UUID/);
  });

  it('is deterministic, version 5 / RFC variant, and separates distinct names', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const ia = uuidV5(a, COPILOT_NAMESPACE);
        expect(ia).toMatch(V5);
        expect(uuidV5(a, COPILOT_NAMESPACE)).toBe(ia);
        if (a !== b) expect(uuidV5(b, COPILOT_NAMESPACE)).not.toBe(ia);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('deterministic store ids', () => {
  it('name a cycle by what it is: the cluster and the instant it judges', () => {
    // Pinned: stored rows carry these ids, so a change to the derivation would orphan them.
    // (Checked against Python's uuid.uuid5 over the same JSON-encoded names.)
    const cluster = clusterIdFor('prod');
    expect(cluster).toBe('1a17e056-19ca-5545-9e20-49c144f26b9e');
    expect(deterministicId('cluster', 'prod')).toBe(cluster);
    const at = 1_795_867_200_000;
    expect(evaluationIdFor(cluster, at)).toBe('3af12b4a-7154-5223-8194-856e3ace0e29');
    expect(evaluationIdFor(cluster, at)).not.toBe(evaluationIdFor(cluster, at + 1));
    expect(evaluationIdFor(cluster, at)).not.toBe(evaluationIdFor(clusterIdFor('dev'), at));
    expect(() => evaluationIdFor(cluster, 1.5)).toThrow(RangeError);
    expect(() => evaluationIdFor(cluster, -1)).toThrow(RangeError);
  });

  it('cannot collide by moving a separator between parts', () => {
    expect(deterministicId('x', 'a:b', 'c')).not.toBe(deterministicId('x', 'a', 'b:c'));
    expect(issueIdFor('a', 'b')).not.toBe(deterministicId('issue', 'a:b'));
  });
});
