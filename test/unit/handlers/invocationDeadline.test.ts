/**
 * The invocation's deadline reaches the AWS clients built once per cold start: every wrapped
 * handler records it before the handler runs, so their retries stop short of it.
 */
import { describe, expect, it } from 'vitest';
import { InvocationDeadline, wrap } from '../../../functions/handlers/edge.js';
import { context, testDeps } from './handlerFixtures.js';

describe('Class: InvocationDeadline', () => {
  it.each([
    ['30 s left', () => 30_000, 1_030_000],
    ['no time left', () => 0, undefined],
    ['not a number', () => Number.NaN, undefined],
  ])('is now plus the time Lambda has left (%s)', (_name, remaining, at) => {
    const deadline = new InvocationDeadline();
    deadline.begin({ ...context, getRemainingTimeInMillis: remaining }, 1_000_000);
    expect(deadline.at).toBe(at);
  });

  it('is undefined outside Lambda (no context)', () => {
    const deadline = new InvocationDeadline();
    deadline.begin(undefined, 1_000_000);
    expect(deadline.at).toBeUndefined();
  });
});

describe('Function: wrap', () => {
  it("records the invocation's deadline before the handler runs", async () => {
    const invocation = new InvocationDeadline();
    const { deps } = testDeps(async () => {
      throw new Error('not used');
    });
    const before = Date.now();
    const seen = await wrap({ ...deps, invocation }, async () => invocation.at)({}, context);
    expect(seen).toBeGreaterThanOrEqual(before + 30_000);
    expect(seen).toBeLessThanOrEqual(Date.now() + 30_000);
  });
});
