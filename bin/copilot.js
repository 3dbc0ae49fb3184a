#!/usr/bin/env node
// Launcher for the `copilot` bin: Node 20 cannot run TypeScript itself, so register tsx's ESM
// loader and hand over to the TypeScript entry point.
import { register } from 'tsx/esm/api';

register();
await import('./copilot.ts');
