import type { Command } from 'commander';
import { Option } from 'commander';
import type { z } from 'zod';
import { SCALE_BANDS } from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import { CarriedStateSchema } from '../../shared/health/evaluation.js';
import { SIGNAL_CATALOG } from '../../shared/signals/catalog.js';
import { SIGNAL_CATEGORIES } from '../../shared/signals/types.js';
import { SnapshotSchema } from '../../shared/signals/value.js';
import {
  CliError,
  evaluationFormatOption,
  loadEngineConfig,
  readJsonFile,
  table,
} from '../cli-support.js';
import { printEvaluation } from '../report.js';

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    throw new CliError(`invalid ${what}${where}: ${first?.message ?? 'unknown problem'}`, 2);
  }
  return parsed.data;
}

/** Engine commands that need no running cluster: evaluate a snapshot, show the catalog and limits. */
export function registerEngineCommands(program: Command): void {
  program
    .command('evaluate')
    .description('run the health engine on one snapshot (JSON file, or - for stdin)')
    .requiredOption('--snapshot <file>', 'snapshot JSON ({ observedAt, values })')
    .option('--carried <file>', 'carried state from a previous evaluation (JSON)')
    .option('--config <file>', 'engine configuration (thresholds, overrides) as JSON')
    .addOption(evaluationFormatOption())
    .action((opts: { snapshot: string; carried?: string; config?: string; format: string }) => {
      const config = loadEngineConfig(opts.config);
      const snapshot = parseWith(
        SnapshotSchema,
        readJsonFile(opts.snapshot, 'snapshot'),
        'snapshot',
      );
      const carried =
        opts.carried === undefined
          ? null
          : parseWith(
              CarriedStateSchema,
              readJsonFile(opts.carried, 'carried state'),
              'carried state',
            );
      const e = evaluate(carried, snapshot, config);
      printEvaluation(e, opts.format);
    });

  program
    .command('catalog')
    .description('list the signals the copilot reads, with their meaning and metric families')
    .addOption(
      new Option('--category <category>', 'only this category').choices([...SIGNAL_CATEGORIES]),
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'table']).default('table'),
    )
    .action((opts: { category?: string; format: string }) => {
      const signals = SIGNAL_CATALOG.filter(
        (s) => opts.category === undefined || s.category === opts.category,
      );
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(signals, null, 2)}\n`);
        return;
      }
      const rows = [['ID', 'CATEGORY', 'FAMILY', 'UNIT', 'MEANING']];
      for (const s of signals) rows.push([s.id, s.category, s.family, s.unit, s.meaning]);
      process.stdout.write(`${table(rows)}\n`);
    });

  program
    .command('thresholds')
    .description('print the resolved thresholds of each scale band (profiles plus overrides)')
    .option('--config <file>', 'engine configuration (thresholds, overrides) as JSON')
    .addOption(new Option('--band <band>', 'only this band').choices([...SCALE_BANDS]))
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'table']).default('table'),
    )
    .action((opts: { config?: string; band?: string; format: string }) => {
      const config = loadEngineConfig(opts.config);
      const bands = SCALE_BANDS.filter((b) => opts.band === undefined || b === opts.band);
      if (opts.format === 'json') {
        const out = Object.fromEntries(bands.map((b) => [b, config.thresholds[b]]));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const names = Object.keys(config.thresholds.starter);
      const rows = [['THRESHOLD', ...bands.map((b) => b.toUpperCase())]];
      for (const n of names) {
        rows.push([
          n,
          ...bands.map((b) =>
            String(config.thresholds[b][n as keyof typeof config.thresholds.starter]),
          ),
        ]);
      }
      process.stdout.write(`${table(rows)}\n`);
    });
}
