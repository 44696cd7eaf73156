import { describe, expect, it } from 'vitest';
import { InMemoryStateStore, ManualClock } from '../../../functions/adapters/memory/index.js';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { setOverride, type OverrideAction } from '../../../functions/app/overrides.js';
import { StateVersionConflictError } from '../../../functions/ports/errors.js';
import { evaluateService } from '../../../functions/app/evaluateService.js';
import { judgedStart, memoryWorld, MINUTE, T0, testConfig } from './runtimeFixtures.js';

const service = testConfig().services[0]!;
const OPS = 'arn:aws:sts::123456789012:assumed-role/oncall/alice';

function ports(store = new InMemoryStateStore()) {
  let n = 0;
  return { store, clock: new ManualClock(T0), newId: () => `id-${++n}` };
}

const set = (p: ReturnType<typeof ports>, action: OverrideAction, reason = 'launch at noon') => setOverride(p, service, { action, by: OPS, reason });

describe('Function: setOverride', () => {
  it('keeps the engine’s own weights beside those written (Route 53 holds them at another scale)', async () => {
    const p = ports();
    const state = initialServiceState(service, T0, { 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 100 });
    const engineWeights = { 'us-east-1': 150, 'eu-west-1': 0, 'ap-northeast-1': 150 };
    await p.store.save('chat', 0, { state, pending: null, driftSignature: null, blockedSignature: null, updatedAt: T0, engineWeights });
    await set(p, { kind: 'freeze', until: T0 + 60 * MINUTE });
    expect((await p.store.load('chat')).engineWeights).toEqual(engineWeights);
  });

  it('freezes a service never evaluated: writes its first state with the freeze, and an audit entry', async () => {
    const p = ports();
    const outcome = await set(p, { kind: 'freeze', until: T0 + 60 * MINUTE });
    expect(outcome).toMatchObject({ changed: true, version: 1, summary: `frozen by ${OPS} until ${new Date(T0 + 60 * MINUTE).toISOString()}: launch at noon` });
    const stored = await p.store.load('chat');
    expect(stored.state!.overrides).toEqual({ freeze: { by: OPS, reason: 'launch at noon', setAt: T0, until: T0 + 60 * MINUTE } });
    expect(stored.state!.endpoints).toEqual(initialServiceState(service, T0).endpoints);
    const audit = await p.store.listAudit('chat');
    expect(audit).toEqual([
      expect.objectContaining({
        kind: 'override',
        status: 'recorded',
        actor: OPS,
        at: T0,
        summary: `chat.example.com: ${outcome.summary}`,
        detail: { action: { kind: 'freeze', until: T0 + 60 * MINUTE }, reason: 'launch at noon' },
      }),
    ]);
  });

  it('keeps everything else in the stored item: the engine state, a pending change, the fingerprints', async () => {
    const p = ports();
    const state = { ...initialServiceState(service, T0 - MINUTE), appliedWeights: { 'us-east-1': 120, 'eu-west-1': 60, 'ap-northeast-1': 120 } };
    const { decision } = decide(service, { now: T0 - MINUTE, observations: { periodStart: T0 - 2 * MINUTE, endpoints: {} }, state });
    const pending = {
      decisionId: 'd-1',
      recordedAt: T0 - MINUTE,
      record: { hostedZoneId: service.hostedZoneId, dnsName: service.dnsName, recordType: service.recordType },
      from: {},
      to: {},
      decision,
      trigger: 'schedule',
    };
    await p.store.save('chat', 0, { state, pending, driftSignature: 'd', blockedSignature: 'b', updatedAt: T0 - MINUTE });
    await set(p, { kind: 'drain', endpoint: 'eu-west-1', until: T0 + 120 * MINUTE });
    const stored = await p.store.load('chat');
    expect(stored).toMatchObject({ version: 2, pending, driftSignature: 'd', blockedSignature: 'b', updatedAt: T0 });
    expect(stored.state).toEqual({
      ...state,
      overrides: { drains: { 'eu-west-1': { by: OPS, reason: 'launch at noon', setAt: T0, until: T0 + 120 * MINUTE } } },
    });
  });

  it('sets and removes each kind, leaving the others in force', async () => {
    const p = ports();
    await set(p, { kind: 'freeze', until: null });
    await set(p, { kind: 'pin', weights: { 'us-east-1': 200, 'eu-west-1': 55 }, until: T0 + 30 * MINUTE });
    await set(p, { kind: 'drain', endpoint: 'ap-northeast-1', until: T0 + 30 * MINUTE });
    await set(p, { kind: 'drain', endpoint: 'eu-west-1', until: T0 + 30 * MINUTE });
    expect(Object.keys((await p.store.load('chat')).state!.overrides)).toEqual(['freeze', 'pin', 'drains']);
    await set(p, { kind: 'undrain', endpoint: 'ap-northeast-1' });
    expect(Object.keys((await p.store.load('chat')).state!.overrides.drains!)).toEqual(['eu-west-1']);
    await set(p, { kind: 'undrain', endpoint: 'eu-west-1' });
    await set(p, { kind: 'unpin' });
    await set(p, { kind: 'unfreeze' });
    // None in force; the four lifted ones wait to be told by the next evaluation.
    expect((await p.store.load('chat')).state!.overrides).toEqual({
      lifted: [
        { what: 'drain', endpoint: 'ap-northeast-1', by: OPS, reason: 'launch at noon', at: T0 },
        { what: 'drain', endpoint: 'eu-west-1', by: OPS, reason: 'launch at noon', at: T0 },
        { what: 'pin', by: OPS, reason: 'launch at noon', at: T0 },
        { what: 'freeze', by: OPS, reason: 'launch at noon', at: T0 },
      ],
    });
    expect(await p.store.listAudit('chat', { limit: 100 })).toHaveLength(8);
  });

  it('changes nothing, and says so, when there is nothing to undo', async () => {
    const p = ports();
    expect(await set(p, { kind: 'unfreeze' })).toEqual({ changed: false, summary: 'chat is not frozen', overrides: {}, version: 0 });
    expect(await set(p, { kind: 'unpin' })).toMatchObject({ changed: false, summary: 'chat has no pin' });
    expect(await set(p, { kind: 'undrain', endpoint: 'eu-west-1' })).toMatchObject({ changed: false, summary: 'eu-west-1 is not drained for maintenance' });
    expect(p.store.saves).toBe(0);
    expect(await p.store.listAudit('chat')).toEqual([]);
  });

  it('re-reads and re-applies when an evaluation wrote the state in between', async () => {
    const p = ports();
    p.store.failNextSaves(new StateVersionConflictError('chat', 0));
    expect(await set(p, { kind: 'freeze', until: null })).toMatchObject({ changed: true, version: 1 });
  });

  it.each<[string, OverrideAction, string, string]>([
    [
      'an unknown endpoint to drain',
      { kind: 'drain', endpoint: 'mars-1', until: T0 + MINUTE },
      'endpoint',
      '"mars-1" is not an endpoint of chat (endpoints: us-east-1, eu-west-1, ap-northeast-1)',
    ],
    ['an end in the past', { kind: 'freeze', until: T0 }, 'until', 'must be in the future'],
    ['a weight out of range', { kind: 'pin', weights: { 'us-east-1': 256 }, until: T0 + MINUTE }, 'weights.us-east-1', 'must be an integer 0–255'],
    [
      'a pin of an unknown endpoint',
      { kind: 'pin', weights: { 'mars-1': 10 }, until: T0 + MINUTE },
      'weights.mars-1',
      'is not an endpoint of chat (endpoints: us-east-1, eu-west-1, ap-northeast-1)',
    ],
    [
      'a pin of every weight to 0',
      { kind: 'pin', weights: { 'us-east-1': 0, 'eu-west-1': 0, 'ap-northeast-1': 0 }, until: T0 + MINUTE },
      'weights',
      'would set every weight to 0, and Route 53 answers an all-zero set evenly',
    ],
  ])('refuses %s, writing nothing', async (_name, action, path, message) => {
    const p = ports();
    const error = await set(p, action).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toContainEqual({ path, message });
    expect(p.store.saves).toBe(0);
  });

  it('is what the engine then carries out, and ends on its own', async () => {
    const p = ports();
    await set(p, { kind: 'drain', endpoint: 'eu-west-1', until: T0 + 10 * MINUTE });
    const healthy = { signals: { 'p99-latency': { value: 0.9, sampleCount: 5000 }, 'error-alarm': { alarmState: 'OK' as const } } };
    const observations = (at: number) => ({ periodStart: at, endpoints: { 'us-east-1': healthy, 'eu-west-1': healthy, 'ap-northeast-1': healthy } });
    const state = (await p.store.load('chat')).state;
    const during = decide(service, { now: T0 + MINUTE, observations: observations(T0), state });
    expect(during.decision.targetWeights['eu-west-1']).toBe(0);
    const after = decide(service, {
      now: T0 + 10 * MINUTE,
      observations: observations(T0 + 9 * MINUTE),
      state: during.nextState,
      currentWeights: during.decision.targetWeights,
    });
    expect(after.decision.reasons.map((r) => r.code)).toContain('OVERRIDE_EXPIRED');
    expect(after.decision.targetWeights['eu-west-1']).toBeGreaterThan(0);
  });

  it('freezes without an end for 7 days, the longest any override lasts', async () => {
    const p = ports();
    await set(p, { kind: 'freeze', until: null });
    expect((await p.store.load('chat')).state!.overrides.freeze).toMatchObject({ until: T0 + 7 * 24 * 60 * MINUTE });
  });

  it('refuses an end more than 7 days away, writing nothing', async () => {
    const p = ports();
    const error = await set(p, { kind: 'pin', weights: { 'us-east-1': 255 }, until: T0 + 8 * 24 * 60 * MINUTE }).catch((e: unknown) => e);
    expect((error as ValidationError).problems).toContainEqual({
      path: 'until',
      message: 'must be at most 7 days from now: every override ends, and the engine ends a longer one at 7 days',
    });
    expect(p.store.saves).toBe(0);
    expect(await p.store.listAudit('chat')).toEqual([]);
  });

  it('writes the audit entry before the state: a state write that fails leaves the entry failed and no override', async () => {
    const p = ports();
    p.store.failNextSaves(new Error('DynamoDB is down'));
    await expect(set(p, { kind: 'freeze', until: T0 + MINUTE })).rejects.toThrow('DynamoDB is down');
    expect((await p.store.load('chat')).version).toBe(0);
    expect(await p.store.listAudit('chat')).toEqual([
      expect.objectContaining({ kind: 'override', status: 'failed', detail: expect.objectContaining({ error: 'DynamoDB is down' }) }),
    ]);
  });
});

describe('Overrides told by the engine', () => {
  it('the next evaluation tells an override once, with a notice and an Override Changed event; its end is told too', async () => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    await setOverride({ store: world.store, clock: world.clock, newId: () => 'o-1' }, world.service, {
      action: { kind: 'freeze', until: T0 + 2 * MINUTE },
      by: OPS,
      reason: 'launch at noon',
    });
    const rt = world.runtime();
    const changed = () => world.events.events.filter((e) => e.detailType === 'Override Changed').map((e) => e.detail as Record<string, unknown>);
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(changed()).toEqual([
      expect.objectContaining({
        change: 'set',
        message: `freeze set by ${OPS} until ${new Date(T0 + 2 * MINUTE).toISOString()}: launch at noon`,
        overrides: { freeze: { by: OPS, reason: 'launch at noon', setAt: T0, until: T0 + 2 * MINUTE } },
      }),
    ]);
    expect(world.notifier.notices.map((n) => n.reason)).toEqual(['OVERRIDE_SET']);
    world.clock.advance(MINUTE);
    world.feed(judgedStart(world.clock.now()), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(changed()).toHaveLength(1);
    world.clock.advance(MINUTE);
    world.feed(judgedStart(world.clock.now()), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(changed().map((d) => d.change)).toEqual(['set', 'expired']);
    expect(world.notifier.notices.map((n) => n.reason)).toEqual(['OVERRIDE_SET', 'OVERRIDE_EXPIRED']);
  });

  it('an override an operator lifts before its end is told once by the next evaluation (notice and Override Changed), then forgotten', async () => {
    const world = memoryWorld();
    const healthy = () => world.feed(judgedStart(world.clock.now()), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    const p = { store: world.store, clock: world.clock, newId: () => 'o-1' };
    healthy();
    await setOverride(p, world.service, { action: { kind: 'drain', endpoint: 'eu-west-1', until: T0 + 60 * MINUTE }, by: OPS, reason: 'kernel patch' });
    const rt = world.runtime();
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    world.clock.advance(MINUTE);
    await setOverride(p, world.service, { action: { kind: 'undrain', endpoint: 'eu-west-1' }, by: OPS, reason: 'patched early' });
    healthy();
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    const changed = () => world.events.events.filter((e) => e.detailType === 'Override Changed').map((e) => e.detail as Record<string, unknown>);
    expect(changed().map((d) => d.change)).toEqual(['set', 'lifted']);
    expect(changed()[1]).toMatchObject({
      endpoint: 'eu-west-1',
      message: `drain of eu-west-1 lifted by ${OPS} at ${new Date(T0 + MINUTE).toISOString()}: patched early; back to policy`,
      overrides: {},
    });
    expect(world.notifier.notices.map((n) => n.reason)).toEqual(['OVERRIDE_SET', 'OVERRIDE_LIFTED']);
    expect((await world.store.load('chat')).state!.overrides).toEqual({});
    world.clock.advance(MINUTE);
    healthy();
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(changed()).toHaveLength(2);
  });
});
