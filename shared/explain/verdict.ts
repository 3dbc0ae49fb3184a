/**
 * What an explanation puts into words: the engine's reason and the problem gates (critical and
 * stressed) that fired, in a stable order. Two cycles with the same verdict say the same thing; a
 * new verdict within the same state (stressed by persistence, then by starved workers) deserves
 * new words. The observer compares verdicts to decide when to re-word; a resumed observer reads
 * the verdict of the newest stored assessment's evaluation, so a restart remembers what was said.
 */
export function verdictOf(reason: string, firedGates: readonly string[]): string {
  const problems = firedGates.filter((g) => g.startsWith('critical.') || g.startsWith('stressed.'));
  return `${reason}:${[...problems].sort().join(',')}`;
}
