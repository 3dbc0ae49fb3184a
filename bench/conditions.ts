import { cpus, loadavg, totalmem } from 'node:os';

/** The conditions a figure was measured under, printed with every benchmark. */
export function conditions(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return [
    `node ${process.version} (${process.platform}/${process.arch})`,
    `${cpus().length} x ${cpu}`,
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `load average ${load}`,
    `at ${new Date().toISOString()}`,
  ].join(', ');
}
