import { Command, CommanderError } from 'commander';
import { ConfigurationError, messageOf } from '../shared/errors.js';
import { CliError } from './cli-support.js';
import { registerApiCommands } from './commands/api.js';
import { registerDbCommands } from './commands/db.js';
import { registerDevCommands } from './commands/dev.js';
import { registerEngineCommands } from './commands/engine.js';
import { registerKbCommands } from './commands/kb.js';
import { registerObserveCommands } from './commands/observe.js';

const program = new Command()
  .name('copilot')
  .description(
    'Temporal SRE Copilot: is the cluster making forward progress, and if not, why?\n' +
      'Rules decide (a deterministic health engine), AI explains, Grafana displays.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerEngineCommands(program);
registerDbCommands(program);
registerDevCommands(program);
registerObserveCommands(program);
registerApiCommands(program);
registerKbCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its own message (or the help/version text) already.
    process.exitCode = error.exitCode;
  } else if (error instanceof CliError || error instanceof ConfigurationError) {
    process.stderr.write(`copilot: ${error.message}\n`);
    // A configuration mistake is a usage error (2), whichever layer found it.
    process.exitCode = error instanceof CliError ? error.exitCode : 2;
  } else {
    const message = messageOf(error);
    process.stderr.write(`copilot: unexpected error: ${message}\n`);
    process.exitCode = 1;
  }
}
