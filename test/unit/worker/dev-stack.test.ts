import { describe, expect, it } from 'vitest';
import { type DevStackPart, Teardown } from '../../../worker/dev-stack.js';

describe('Teardown (how startDevStack stops what it started)', () => {
  it('stops parts newest first, each once however often it is run', async () => {
    const stopped: string[] = [];
    const teardown = new Teardown(() => {});
    for (const part of ['temporal', 'store', 'worker', 'api'] as const)
      teardown.add(part, async () => {
        stopped.push(part);
      });
    const first = teardown.run();
    const second = teardown.run();
    expect(second).toBe(first);
    await Promise.all([first, second, teardown.run()]);
    expect(stopped).toEqual(['api', 'worker', 'store', 'temporal']);
  });

  it('reports a part that fails to stop and still stops the ones before it', async () => {
    const stopped: string[] = [];
    const failures: [DevStackPart, string][] = [];
    const teardown = new Teardown((part, error) => failures.push([part, (error as Error).message]));
    teardown.add('temporal', async () => {
      stopped.push('temporal');
    });
    teardown.add('worker', async () => {
      throw new Error('connection still referenced');
    });
    teardown.add('api', async () => {
      stopped.push('api');
    });
    await teardown.run();
    expect(stopped).toEqual(['api', 'temporal']);
    expect(failures).toEqual([['worker', 'connection still referenced']]);
  });

  it('refuses a part started after stopping began, which nothing would stop', async () => {
    const teardown = new Teardown(() => {});
    await teardown.run();
    expect(() => teardown.add('demo', async () => {})).toThrow('cannot add demo: already stopping');
  });
});
