import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The API's one logger. Only what a function imports gets bundled, so this file holds nothing
 * else. Level from `POWERTOOLS_LOG_LEVEL` (default INFO).
 */
export const logger = new Logger({ serviceName: 'copilot-api' });
