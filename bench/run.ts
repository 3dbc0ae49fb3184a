import { apiBench } from './api.bench.js';
import { conditions } from './conditions.js';
import { engineBench } from './engine.bench.js';
import { explainBench } from './explain.bench.js';
import { historyBench } from './history.bench.js';
import { productionBench } from './production.bench.js';
import { scrapeBench } from './scrape.bench.js';
import { sourcesBench } from './sources.bench.js';
import { storeBench } from './store.bench.js';
import { workerBench } from './worker.bench.js';

/**
 * `npm run bench`: every benchmark, each printing its figures and the conditions they were
 * measured under. Compare ratios within one run; absolute figures vary with the machine's load.
 */
const suites: ReadonlyArray<readonly [string, () => Promise<string[]>]> = [
  ['health engine', engineBench],
  ['direct scrape', scrapeBench],
  ['state store', storeBench],
  ['signal acquisition (Prometheus)', sourcesBench],
  ['observer history', historyBench],
  ['worker steady state', workerBench],
  ['JSON API', apiBench],
  ['production build', productionBench],
  ['explanations (Bedrock, fake server)', explainBench],
];

const only = process.argv[2];
for (const [name, run] of suites) {
  if (only !== undefined && !name.includes(only)) continue;
  process.stdout.write(`\n## ${name}\nconditions: ${conditions()}\n`);
  for (const line of await run()) process.stdout.write(`- ${line}\n`);
}
