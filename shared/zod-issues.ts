import type { z } from 'zod';

/**
 * The first problem of a failed zod parse as one line. Alone: `path: message`, or the message
 * when the problem is with the value as a whole. With a subject: `subject at path: message`, or
 * `subject: message`. Callers pick the error class.
 */
export function describeFirstIssue(error: z.ZodError, subject?: string): string {
  const first = error.issues[0];
  const message = first?.message ?? 'unknown problem';
  const path = first?.path.map(String).join('.') ?? '';
  if (subject === undefined) return path === '' ? message : `${path}: ${message}`;
  return path === '' ? `${subject}: ${message}` : `${subject} at ${path}: ${message}`;
}
