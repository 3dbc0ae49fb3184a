import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors.js';
import {
  describeExplainer,
  openExplainer,
  parseExplainerEnv,
} from '../../../worker/explain/config.js';

const BEDROCK = { COPILOT_EXPLAINER: 'bedrock', AWS_REGION: 'eu-west-1' };

describe('explainer configuration', () => {
  it('defaults to the rules over the local runbooks, no AWS needed', () => {
    const c = parseExplainerEnv({}, '/srv/app');
    expect(c).toEqual({
      kind: 'rules',
      budget: { callsPerHour: 24, tokensPerHour: 120_000, usdPerDay: 5 },
      runbooksDir: '/srv/app/docs/rag',
    });
    expect(describeExplainer(c)).toBe('rules, grounded in local runbooks');
    expect(openExplainer(c).bedrock).toBe(undefined);
    expect(openExplainer(c).knowledge.kind).toBe('local');
  });

  it('reads Bedrock settings, profile ids and the budget', () => {
    const c = parseExplainerEnv(
      {
        ...BEDROCK,
        COPILOT_BEDROCK_PROFILE: 'eu',
        COPILOT_BEDROCK_ENDPOINT: 'http://127.0.0.1:9999',
        COPILOT_EXPLAIN_CALLS_PER_HOUR: '6',
        COPILOT_EXPLAIN_TOKENS_PER_HOUR: '50000',
        COPILOT_EXPLAIN_USD_PER_DAY: '2.5',
        COPILOT_KB_ID: 'ABCDE12345',
        COPILOT_RUNBOOKS_DIR: '/opt/runbooks',
      },
      '/srv/app',
    );
    expect(c).toMatchObject({
      kind: 'bedrock',
      bedrock: {
        region: 'eu-west-1',
        profilePrefix: 'eu',
        endpoint: 'http://127.0.0.1:9999',
        dispatcherModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        researcherModel: 'anthropic.claude-opus-4-6-v1',
        timeoutMs: 45_000,
      },
      budget: { callsPerHour: 6, tokensPerHour: 50_000, usdPerDay: 2.5 },
      knowledgeBase: { id: 'ABCDE12345', region: 'eu-west-1' },
      runbooksDir: '/opt/runbooks',
    });
    expect(describeExplainer(c)).toBe(
      'bedrock in eu-west-1 (dispatcher eu.anthropic.claude-sonnet-4-5-20250929-v1:0, researcher eu.anthropic.claude-opus-4-6-v1; 6 calls and 50000 tokens per cluster per hour, $2.5 a day), grounded in knowledge base ABCDE12345, rules as fallback',
    );
    const deps = openExplainer(c);
    expect(deps.bedrock?.models.researcher).toBe('eu.anthropic.claude-opus-4-6-v1');
    expect(deps.knowledge.kind).toBe('knowledge-base');
  });

  it.each([
    [
      { ...BEDROCK, COPILOT_BEDROCK_RESEARCHER_MODEL: 'anthropic.claude-v2' },
      /unknown Bedrock model "anthropic\.claude-v2"/,
    ],
    [
      { ...BEDROCK, COPILOT_BEDROCK_PROFILE: 'apac' },
      /Claude Sonnet 4\.5 has no "apac" inference profile/,
    ],
    [{ ...BEDROCK, COPILOT_BEDROCK_PROFILE: 'none' }, /served through inference profiles only/],
    [{ COPILOT_EXPLAINER: 'bedrock' }, /COPILOT_EXPLAINER=bedrock needs a region/],
    [{ COPILOT_KB_ID: 'ABCDE12345' }, /COPILOT_KB_ID needs a region/],
    [{ COPILOT_KB_ID: 'kb-1', AWS_REGION: 'us-east-1' }, /COPILOT_KB_ID.*10 letters and digits/],
    [{ COPILOT_EXPLAINER: 'claude' }, /COPILOT_EXPLAINER/],
    [{ ...BEDROCK, COPILOT_EXPLAIN_CALLS_PER_HOUR: '-1' }, /COPILOT_EXPLAIN_CALLS_PER_HOUR/],
    [{ ...BEDROCK, COPILOT_BEDROCK_ENDPOINT: 'not a url' }, /COPILOT_BEDROCK_ENDPOINT/],
    [{ ...BEDROCK, COPILOT_EXPLAIN_USD_PER_DAY: 'five' }, /COPILOT_EXPLAIN_USD_PER_DAY/],
    // Four calls of more than 45 s would outlast the explain activity's timeout.
    [{ ...BEDROCK, COPILOT_BEDROCK_TIMEOUT_MS: '60000' }, /COPILOT_BEDROCK_TIMEOUT_MS/],
  ])('refuses %j at start-up', (env, message) => {
    expect(() => parseExplainerEnv(env)).toThrow(ConfigurationError);
    expect(() => parseExplainerEnv(env)).toThrow(message);
  });
});
