// Run by deadline.test.ts as `node --expose-gc --import tsx deadline-gc.ts`: twenty requests'
// signals, held as fetch would hold them, then garbage collections before their deadline. Prints
// how many aborted, and with what.
import { deadline } from '../../../worker/sources/deadline.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const parent = new AbortController();
const reasons: string[] = [];
const held: AbortSignal[] = [];
for (let i = 0; i < 20; i++) {
  const { signal } = deadline(100, parent.signal);
  signal.addEventListener('abort', () => reasons.push((signal.reason as Error).name));
  held.push(signal);
}
for (let i = 0; i < 5; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 10));
}
await new Promise((r) => setTimeout(r, 400));
process.stdout.write(
  `${JSON.stringify({ aborted: reasons.length, reasons: [...new Set(reasons)], held: held.length })}\n`,
);
