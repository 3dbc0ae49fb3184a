import { describe, expect, it } from 'vitest';
import {
  AssessmentInputSchema,
  ClusterSchema,
  IssueInputSchema,
  LogPatternInputSchema,
  SuggestedActionSchema,
} from '../../shared/models/index.js';

const action = {
  action_type: 'scale',
  target_service: 'history',
  description: 'add a history replica',
  confidence: 0.7,
  risk: 'medium',
};

describe('store models', () => {
  it('accept the snake_case API shapes and fill defaults', () => {
    expect(SuggestedActionSchema.parse(action).parameters).toEqual({});
    const issue = IssueInputSchema.parse({
      key: 'k',
      severity: 'info',
      title: 't',
      description: '',
      likely_cause: '',
    });
    expect(issue).toMatchObject({
      contributing_factors: [],
      suggested_actions: [],
      related_signals: [],
    });
    const assessment = AssessmentInputSchema.parse({
      cluster_id: '886313e1-3b8a-5372-9b90-0c9aee199e5d',
      trigger: 'scheduled',
      health_state: 'unknown',
      summary: 'no metrics',
      confidence: 0,
      explainer: 'rules',
      created_at: '2026-11-28T12:00:00Z',
    });
    expect(assessment).toMatchObject({
      evaluation_id: null,
      model_id: null,
      input_tokens: 0,
      output_tokens: 0,
    });
    expect(
      LogPatternInputSchema.parse({ pattern_id: 'p', service: 'history', count: 0 }),
    ).toMatchObject({
      count_is_lower_bound: false,
      sample: null,
    });
  });

  it('reject values outside their domain', () => {
    expect(SuggestedActionSchema.safeParse({ ...action, confidence: 1.01 }).success).toBe(false);
    expect(SuggestedActionSchema.safeParse({ ...action, action_type: 'delete' }).success).toBe(
      false,
    );
    expect(
      SuggestedActionSchema.safeParse({ ...action, risk: 'low', parameters: { f: () => 1 } })
        .success,
    ).toBe(false);
    expect(
      IssueInputSchema.safeParse({
        key: 'k',
        severity: 'high',
        title: 't',
        description: '',
        likely_cause: '',
      }).success,
    ).toBe(false);
    expect(
      IssueInputSchema.safeParse({
        key: 'k',
        severity: 'info',
        title: 't',
        description: '',
        likely_cause: '',
        contributing_factors: [{ signal: 's', description: '', weight: -0.1 }],
      }).success,
    ).toBe(false);
    expect(ClusterSchema.shape.name.safeParse('a b').success).toBe(false);
    expect(
      LogPatternInputSchema.safeParse({ pattern_id: 'p', service: 's', count: 1.5 }).success,
    ).toBe(false);
  });
});
