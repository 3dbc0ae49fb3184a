export * from './assessment.js';
export * from './cluster.js';
export * from './freshness.js';
export * from './issue.js';
export * from './log-pattern.js';
export * from './stored-evaluation.js';
