import { buildApp } from '../lib/app.js';

// The CDK app `cdk.json` runs (`npx tsx bin/app.ts`); the stacks live in lib/.
buildApp();
