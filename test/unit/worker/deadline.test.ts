import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deadline } from '../../../worker/sources/deadline.js';

const exec = promisify(execFile);

const abortOf = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));

describe('deadline: a request signal with its own timeout and its source closing', () => {
  it('aborts with a TimeoutError once its time is up', async () => {
    const parent = new AbortController();
    const { signal } = deadline(20, parent.signal);
    const reason = (await abortOf(signal)) as DOMException;
    expect([reason.name, reason.message]).toEqual(['TimeoutError', 'timed out after 20 ms']);
  });

  it("aborts with the parent's reason when the source closes first, or was closed already", async () => {
    const parent = new AbortController();
    const { signal, release } = deadline(60_000, parent.signal);
    const aborted = abortOf(signal);
    parent.abort(new Error('source closed'));
    expect(((await aborted) as Error).message).toBe('source closed');
    release();
    const late = deadline(60_000, parent.signal);
    expect(late.signal.aborted).toBe(true);
    expect((late.signal.reason as Error).message).toBe('source closed');
  });

  it('once released, neither the timer nor the parent aborts it', async () => {
    const parent = new AbortController();
    const { signal, release } = deadline(10, parent.signal);
    release();
    parent.abort();
    await new Promise((r) => setTimeout(r, 40));
    expect(signal.aborted).toBe(false);
  });

  // nodejs/node#57736: AbortSignal.any([parent, AbortSignal.timeout(ms)]) never aborts once a
  // collection took the timeout signal — the cause of a timeout test reading a value 3 s late
  // under the whole suite. Garbage collections forced before the deadline must not matter.
  it('still fires after garbage collections before its deadline', async () => {
    const { stdout } = await exec(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'deadline-gc.ts')],
      { cwd: join(import.meta.dirname, '../../..') },
    );
    expect(JSON.parse(stdout)).toEqual({ aborted: 20, reasons: ['TimeoutError'], held: 20 });
  });
});
