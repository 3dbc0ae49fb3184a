import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { messageOf } from '../shared/errors.js';
import { type EngineConfig, resolveEngineConfig } from '../shared/health/config.js';

/** An error the CLI reports as one line on stderr, with a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Reads a JSON document from a file path, or from stdin when the path is `-`. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = messageOf(error);
    throw new CliError(`cannot read ${what} from ${path}: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = messageOf(error);
    throw new CliError(`${what} in ${path} is not valid JSON: ${reason}`);
  }
}

/** Formats rows as an aligned plain-text table (for `--format table`). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

/** The engine configuration from `--config <file>` (defaults without one); exit 2 when invalid. */
export function loadEngineConfig(path: string | undefined): EngineConfig {
  // An invalid configuration throws EngineConfigError, a ConfigurationError: exit code 2.
  return resolveEngineConfig(path === undefined ? {} : readJsonFile(path, 'engine configuration'));
}

/** `--format json|line|table` of the commands that print one evaluation. */
export const evaluationFormatOption = (): Option =>
  new Option('--format <format>', 'output format')
    .choices(['json', 'line', 'table'])
    .default('json');
