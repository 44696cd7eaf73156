import { describe, expect, it } from 'vitest';
import { evaluateService, planEvaluation, type EvaluationOutcome } from '../../../functions/app/evaluateService.js';
import { setOverride } from '../../../functions/app/overrides.js';
import { StateVersionConflictError } from '../../../functions/ports/errors.js';
import type { StateStore } from '../../../functions/ports/stateStore.js';
import { editableRawConfig, judgedStart, memoryWorld, MINUTE, rawConfig, testConfig, type MemoryWorld } from './runtimeFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };
const EU_SLOW = { 'us-east-1': 900, 'eu-west-1': 2600, 'ap-northeast-1': 900 };
const record = { hostedZoneId: 'Z0123456789EXAMPLE', dnsName: 'chat.example.com', recordType: 'A' };

/** Feeds the period judged now, evaluates, and moves the clock a minute on. */
async function tick(world: MemoryWorld, latency: Record<string, number | null>, rt = world.runtime()): Promise<EvaluationOutcome> {
  world.feed(judgedStart(world.clock.now()), latency);
  const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
  world.clock.advance(MINUTE);
  return outcome;
}

async function degradeEu(world: MemoryWorld, rt = world.runtime()): Promise<EvaluationOutcome> {
  await tick(world, EU_SLOW, rt);
  await tick(world, EU_SLOW, rt);
  return tick(world, EU_SLOW, rt);
}

describe('Function: evaluateService', () => {
  it('sheds traffic from an endpoint breaching 3 of 3 periods: writes the decided weights, records and tells', async () => {
    const world = memoryWorld();
    const outcome = await degradeEu(world);

    expect(outcome.status).toBe('applied');
    const changes = outcome.decision!.changes;
    expect(changes.find((c) => c.setIdentifier === 'eu-west-1')).toMatchObject({ from: 100 });
    expect(world.dns.changeLog).toHaveLength(1);
    expect(world.dns.changeLog[0]).toMatchObject({
      comment: `steer53 chat decision ${outcome.decisionId}`,
      to: Object.fromEntries(changes.map((c) => [c.setIdentifier, c.to])),
    });
    expect(world.dns.weightsOf(record)['eu-west-1']).toBeLessThan(100);
    // 70 115 115: no other scale keeps those shares exactly in whole weights, so every record is written.
    expect(changes.map((c) => c.setIdentifier)).toEqual(['us-east-1', 'eu-west-1', 'ap-northeast-1']);

    const stored = await world.store.load('chat');
    expect(stored.pending).toBeNull();
    expect(stored.state!.appliedWeights).toEqual(world.dns.weightsOf(record));
    expect(stored.engineWeights).toBeUndefined();
    const audit = await world.store.listAudit('chat');
    expect(audit.filter((e) => e.kind === 'decision' && e.status === 'applied').map((e) => e.id)).toEqual([outcome.decisionId]);
    expect(audit[0]!.changeIds).toEqual(outcome.changeIds);

    expect(world.events.events.map((e) => e.detailType)).toEqual(['Traffic Shifted']);
    expect(world.notifier.notices).toHaveLength(1);
    expect(world.notifier.notices[0]).toMatchObject({ kind: 'traffic-shifted', severity: 'warning', reason: 'M_OF_N_BREACH', decisionId: outcome.decisionId });
  });

  it('writes nothing while every endpoint is healthy, and records no audit entry for a plain hold', async () => {
    const world = memoryWorld();
    for (let i = 0; i < 4; i += 1) expect((await tick(world, HEALTHY)).status).toBe('unchanged');
    expect(world.dns.changeLog).toHaveLength(0);
    expect(await world.store.listAudit('chat')).toEqual([]);
    expect((await world.store.load('chat')).version).toBe(4);
  });

  it('does not shift away from healthy endpoints when CloudWatch returns no data at all', async () => {
    const world = memoryWorld();
    await tick(world, HEALTHY);
    for (let i = 0; i < 5; i += 1) {
      const outcome = await tick(world, {});
      expect(outcome.decision!.changes).toEqual([]);
    }
    expect(world.dns.changeLog).toHaveLength(0);
  });

  it('does not shift away from healthy endpoints on partial data: partial answers count as unknown', async () => {
    const world = memoryWorld();
    const eu = world.service.endpoints.find((e) => e.setIdentifier === 'eu-west-1')!;
    const signal = eu.signals[0]!;
    if (signal.source !== 'metric') throw new Error('fixture');
    world.metrics.markIncomplete(signal.metric);
    // eu-west-1's partial answer would say it is slow; it must not count.
    for (let i = 0; i < 5; i += 1) {
      const outcome = await tick(world, EU_SLOW);
      expect(outcome.gaps).toEqual(['eu-west-1/p99-latency: partial data']);
      expect(outcome.decision!.verdicts['eu-west-1']!.verdict).toBe('unknown');
    }
    expect(world.dns.changeLog).toHaveLength(0);
  });

  it('counts a percentile from too few samples as unknown, not as a breach', async () => {
    const world = memoryWorld();
    for (let i = 0; i < 4; i += 1) {
      world.feed(judgedStart(world.clock.now()), EU_SLOW, 40);
      const outcome = await evaluateService(world.runtime(), world.service, { trigger: 'schedule' });
      expect(outcome.decision!.verdicts['eu-west-1']!.signals[0]).toMatchObject({ verdict: 'unknown', unknownCause: 'low-sample', sampleCount: 40 });
      world.clock.advance(MINUTE);
    }
    expect(world.dns.changeLog).toHaveLength(0);
  });

  it('re-reads and decides again after losing the race for the state version', async () => {
    const world = memoryWorld();
    const inner = world.store;
    let raced = false;
    const racing: StateStore = {
      load: (s) => inner.load(s),
      loadMany: (s) => inner.loadMany(s),
      putAudit: (e) => inner.putAudit(e),
      listAudit: (s, q) => inner.listAudit(s, q),
      save: async (s, version, write) => {
        if (!raced) {
          raced = true;
          throw new StateVersionConflictError(s, version);
        }
        return inner.save(s, version, write);
      },
    };
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    const outcome = await evaluateService(world.runtime({ store: racing }), world.service, { trigger: 'schedule' });
    expect(outcome).toMatchObject({ status: 'unchanged', attempts: 2 });
  });

  it('gives up after the bounded number of lost races, saying others evaluated the service', async () => {
    const world = memoryWorld();
    const conflicting: StateStore = {
      ...world.store,
      load: (s) => world.store.load(s),
      loadMany: (s) => world.store.loadMany(s),
      putAudit: async () => {},
      listAudit: async () => [],
      save: async (s, v) => {
        throw new StateVersionConflictError(s, v);
      },
    };
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    const outcome = await evaluateService(world.runtime({ store: conflicting, options: { maxAttempts: 3 } }), world.service, { trigger: 'schedule' });
    expect(outcome).toMatchObject({ status: 'superseded', attempts: 3 });
    expect(world.dns.changeLog).toHaveLength(0);
  });

  describe('a crash between recording the intent and writing Route 53', () => {
    async function crashMidApply(world: MemoryWorld) {
      const rt = world.runtime({ options: { intentLeaseSeconds: 90 } });
      await tick(world, EU_SLOW, rt);
      await tick(world, EU_SLOW, rt);
      world.dns.failNextWrites(new Error('Lambda timed out'));
      world.feed(judgedStart(world.clock.now()), EU_SLOW);
      await expect(evaluateService(rt, world.service, { trigger: 'schedule' })).rejects.toThrow('Lambda timed out');
      return rt;
    }

    it('leaves the intent recorded and Route 53 untouched', async () => {
      const world = memoryWorld();
      await crashMidApply(world);
      const stored = await world.store.load('chat');
      expect(stored.pending).not.toBeNull();
      expect(world.dns.changeLog).toHaveLength(0);
      expect((await world.store.listAudit('chat'))[0]).toMatchObject({ id: stored.pending!.decisionId, status: 'failed' });
    });

    it('stands aside while the intent may still belong to a running evaluation', async () => {
      const world = memoryWorld();
      const rt = await crashMidApply(world);
      world.clock.advance(30_000);
      const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
      expect(outcome.status).toBe('busy');
      expect(world.dns.changeLog).toHaveLength(0);
    });

    it('is completed by the next evaluation after the lease: Route 53 written, intent cleared, recorded and told', async () => {
      const world = memoryWorld();
      const rt = await crashMidApply(world);
      const pending = (await world.store.load('chat')).pending!;
      world.clock.advance(2 * MINUTE);
      world.feed(judgedStart(world.clock.now()), EU_SLOW);
      const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });

      expect(outcome.repaired).toEqual({ decisionId: pending.decisionId, changeIds: [world.dns.changeLog[0]!.changeId] });
      expect(world.dns.changeLog[0]).toMatchObject({ comment: `steer53 chat decision ${pending.decisionId}`, to: pending.to });
      const stored = await world.store.load('chat');
      expect(stored.pending).toBeNull();
      const entry = (await world.store.listAudit('chat', { limit: 100 })).find((e) => e.id === pending.decisionId)!;
      expect(entry).toMatchObject({ status: 'applied', detail: { completedBy: 'schedule' } });
      expect(world.events.events.some((e) => e.detailType === 'Traffic Shifted' && e.detail.decisionId === pending.decisionId)).toBe(true);
    });

    it('is completed by the very next tick when the crashed evaluation knew its deadline', async () => {
      const world = memoryWorld();
      const rt = world.runtime({ options: { intentLeaseSeconds: 900 } });
      await tick(world, EU_SLOW, rt);
      await tick(world, EU_SLOW, rt);
      world.dns.failNextWrites(new Error('Lambda timed out'));
      world.feed(judgedStart(world.clock.now()), EU_SLOW);
      const deadline = world.clock.now() + 30_000;
      await expect(evaluateService(rt, world.service, { trigger: 'schedule', deadline })).rejects.toThrow('Lambda timed out');
      expect((await world.store.load('chat')).pending!.leaseUntil).toBe(deadline + 5_000);

      world.clock.advance(34_000);
      expect((await evaluateService(rt, world.service, { trigger: 'alarm x ALARM' })).status).toBe('busy');
      world.clock.advance(26_000);
      world.feed(judgedStart(world.clock.now()), EU_SLOW);
      const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
      expect(outcome.repaired).toBeDefined();
      expect(world.dns.changeLog).toHaveLength(1);
    });

    it('is completed without a second Route 53 write when the write had landed before the crash', async () => {
      const world = memoryWorld();
      const rt = world.runtime();
      await tick(world, EU_SLOW, rt);
      await tick(world, EU_SLOW, rt);
      // Intent saved, Route 53 written, then the "mark applied" save never happens.
      const inner = world.store;
      let saves = 0;
      const dying: StateStore = {
        load: (s) => inner.load(s),
        loadMany: (s) => inner.loadMany(s),
        putAudit: (e) => inner.putAudit(e),
        listAudit: (s, q) => inner.listAudit(s, q),
        save: async (s, v, w) => {
          saves += 1;
          if (saves === 2) throw new Error('Lambda timed out');
          return inner.save(s, v, w);
        },
      };
      world.feed(judgedStart(world.clock.now()), EU_SLOW);
      await expect(evaluateService(world.runtime({ store: dying }), world.service, { trigger: 'schedule' })).rejects.toThrow('Lambda timed out');
      expect(world.dns.changeLog).toHaveLength(1);

      world.clock.advance(2 * MINUTE);
      world.feed(judgedStart(world.clock.now()), EU_SLOW);
      const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
      expect(outcome.repaired?.changeIds).toEqual([]);
      expect(world.dns.changeLog.filter((c) => c.comment.endsWith(outcome.repaired!.decisionId))).toHaveLength(1);
      expect((await world.store.load('chat')).pending).toBeNull();
    });

    it('is dropped, not completed, when the config changed since (it would write records no longer managed)', async () => {
      const world = memoryWorld();
      await crashMidApply(world);
      const pending = (await world.store.load('chat')).pending!;
      expect(Object.keys(pending.from)).toContain('ap-northeast-1');
      const raw = editableRawConfig();
      raw.services[0]!.endpoints = raw.services[0]!.endpoints.filter((e: { setIdentifier: string }) => e.setIdentifier !== 'ap-northeast-1');
      const narrower = testConfig(raw);
      world.clock.advance(2 * MINUTE);
      world.feed(judgedStart(world.clock.now()), HEALTHY);
      const outcome = await evaluateService({ ...world.runtime(), config: narrower }, narrower.services[0]!, { trigger: 'schedule' });
      expect(outcome.repaired).toBeUndefined();
      expect(world.dns.changeLog.some((c) => c.comment.endsWith(pending.decisionId))).toBe(false);
      expect((await world.store.load('chat')).pending).toBeNull();
      const entry = (await world.store.listAudit('chat', { limit: 100 })).find((e) => e.id === pending.decisionId)!;
      expect(entry).toMatchObject({ status: 'failed', detail: { why: 'the service config changed since it was decided' } });
      expect(world.log.lines.some((l) => l.level === 'error' && l.message === 'dropping a recorded change that cannot be completed')).toBe(true);
      // Route 53 was never written, so what it holds is not drift.
      expect(outcome.drift).toBeUndefined();
    });
  });

  describe('drift', () => {
    it('records, notifies and publishes weights someone else wrote, once per distinct edit', async () => {
      const world = memoryWorld();
      await tick(world, HEALTHY);
      world.dns.editWeights(record, { 'eu-west-1': 0 });
      const first = await tick(world, HEALTHY);
      expect(first.drift).toEqual({
        expected: { 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 100 },
        actual: { 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 100 },
        endpoints: ['eu-west-1'],
      });
      expect(first.decision!.reasons.map((r) => r.code)).toContain('WEIGHTS_RECONCILED');
      expect((await world.store.listAudit('chat')).filter((e) => e.kind === 'drift')).toHaveLength(1);
      expect(world.notifier.notices.filter((n) => n.kind === 'drift-detected')).toHaveLength(1);
      expect(world.events.events.filter((e) => e.detailType === 'Drift Detected')).toHaveLength(1);

      // The engine decided from what Route 53 holds; the same edit is not reported again.
      const second = await tick(world, HEALTHY);
      expect(second.drift).toBeUndefined();
      expect(world.events.events.filter((e) => e.detailType === 'Drift Detected')).toHaveLength(1);
      expect((await world.store.listAudit('chat')).filter((e) => e.kind === 'drift')).toHaveLength(1);
    });

    it('with drift.action adopt, keeps the edit as a pin for its time, tells why, then returns to policy', async () => {
      const raw = structuredClone(rawConfig);
      (raw.services[0]!.policy as Record<string, unknown>).drift = { action: 'adopt', adoptSeconds: 300 };
      const world = memoryWorld(testConfig(raw));
      await tick(world, HEALTHY);
      world.dns.editWeights(record, { 'eu-west-1': 0 });
      const adopted = await tick(world, HEALTHY);
      expect(adopted.drift?.endpoints).toEqual(['eu-west-1']);
      expect(adopted.decision!.mode).toBe('pinned');
      expect(world.dns.weightsOf(record)['eu-west-1']).toBe(0);
      expect(world.notifier.notices.filter((n) => n.reason === 'DRIFT_ADOPTED').map((n) => n.kind)).toEqual(['state-changed']);
      for (let i = 0; i < 4; i += 1) await tick(world, HEALTHY);
      expect(world.dns.weightsOf(record)['eu-west-1']).toBe(0);
      // Five minutes on, the pin ends and policy puts eu-west-1 back.
      const back = await tick(world, HEALTHY);
      expect(back.decision!.reasons.map((r) => r.code)).toContain('OVERRIDE_EXPIRED');
      expect(world.dns.weightsOf(record)['eu-west-1']).toBe(100);
    });
  });

  describe('written at the scale Route 53 holds', () => {
    const EU_ALARM = { name: 'chat-eu-west-1-5xx', region: 'eu-west-1' };

    it('drains one record of three as one record, decides on from its own weights, and writes the config back at rest', async () => {
      const world = memoryWorld();
      world.metrics.setAlarmState(EU_ALARM, 'ALARM');
      const drained = await tick(world, HEALTHY);
      // The engine's 0 150 150 has the same shares as 0 100 100: one record changes, not three.
      expect(drained.decision!.changes).toEqual([{ setIdentifier: 'eu-west-1', from: 100, to: 0 }]);
      expect(world.dns.weightsOf(record)).toEqual({ 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 100 });
      // The state keeps what was written, and the engine's own weights beside it.
      const stored = await world.store.load('chat');
      expect(stored.state!.appliedWeights).toEqual({ 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 100 });
      expect(stored.engineWeights).toEqual({ 'us-east-1': 150, 'eu-west-1': 0, 'ap-northeast-1': 150 });
      world.metrics.setAlarmState(EU_ALARM, 'OK');
      const outcomes: EvaluationOutcome[] = [];
      while (world.dns.weightsOf(record)['eu-west-1'] === 0 && outcomes.length < 60) outcomes.push(await tick(world, HEALTHY));
      // The first recovery step moves the receivers down from the engine's 150, not up from the 100 Route 53 holds:
      // the flap guard remembers each move's true direction.
      expect((await world.store.load('chat')).state!.recentChanges.at(-1)!.moved).toEqual({ 'us-east-1': -1, 'eu-west-1': 1, 'ap-northeast-1': -1 });
      while (world.dns.weightsOf(record)['eu-west-1'] !== 100 && outcomes.length < 60) outcomes.push(await tick(world, HEALTHY));
      // Route 53 held what steer53 wrote all along: never drift, never reconciled.
      expect(outcomes.filter((o) => o.drift !== undefined || o.decision!.reasons.some((r) => r.code === 'WEIGHTS_RECONCILED'))).toEqual([]);
      // At rest Route 53 holds the configured weights, not 150 150 150.
      expect(world.dns.weightsOf(record)).toEqual({ 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 100 });
    });

    it('reports an edit made while Route 53 holds another scale as the one record edited, against what was written', async () => {
      const world = memoryWorld();
      world.metrics.setAlarmState(EU_ALARM, 'ALARM');
      await tick(world, HEALTHY);
      world.dns.editWeights(record, { 'ap-northeast-1': 40 });
      const seen = await tick(world, HEALTHY);
      expect(seen.drift).toEqual({
        expected: { 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 100 },
        actual: { 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 40 },
        endpoints: ['ap-northeast-1'],
      });
      expect(seen.decision!.reasons.find((r) => r.code === 'WEIGHTS_RECONCILED')!.message).toContain(
        'not the us-east-1=100 eu-west-1=0 ap-northeast-1=100 last written',
      );
    });

    it('writes a pin as the operator gave it', async () => {
      const world = memoryWorld();
      await tick(world, HEALTHY);
      await setOverride({ store: world.store, clock: world.clock, newId: () => 'pin-1' }, world.service, {
        action: { kind: 'pin', weights: { 'us-east-1': 50, 'eu-west-1': 50, 'ap-northeast-1': 50 }, until: world.clock.now() + 30 * MINUTE },
        by: 'alice',
        reason: 'even split while we look',
      });
      await tick(world, HEALTHY);
      expect(world.dns.weightsOf(record)).toEqual({ 'us-east-1': 50, 'eu-west-1': 50, 'ap-northeast-1': 50 });
    });
  });

  describe('telling fails', () => {
    it('keeps the decision and the DNS change when SNS fails; the failure is logged, returned and recorded', async () => {
      const world = memoryWorld();
      world.notifier.failWith(new Error('sns:Publish on topic failed: InternalError'));
      const outcome = await degradeEu(world);
      expect(outcome.status).toBe('applied');
      expect(world.dns.changeLog).toHaveLength(1);
      expect(outcome.tellFailures).toEqual([{ channel: 'notify', message: 'sns:Publish on topic failed: InternalError' }]);
      const audit = await world.store.listAudit('chat');
      expect(audit.find((e) => e.id === outcome.decisionId)).toMatchObject({ status: 'applied' });
      expect(audit.find((e) => e.kind === 'notification-failed')).toMatchObject({ status: 'failed', summary: expect.stringContaining('InternalError') });
      expect(world.log.lines.some((l) => l.level === 'error' && l.message.startsWith('notification failed'))).toBe(true);
      expect(world.events.events.map((e) => e.detailType)).toEqual(['Traffic Shifted']);
    });

    it('keeps the decision when EventBridge fails too', async () => {
      const world = memoryWorld();
      world.events.failWith(new Error('events:PutEvents failed'));
      const outcome = await degradeEu(world);
      expect(outcome.status).toBe('applied');
      expect(outcome.tellFailures.map((f) => f.channel)).toEqual(['publish']);
      expect(world.notifier.notices).toHaveLength(1);
    });
  });

  it('refuses to evaluate a service whose configured record is missing from Route 53, changing nothing', async () => {
    const world = memoryWorld();
    world.dns.defineRecordSet(record, { 'us-east-1': 100, 'eu-west-1': 100 });
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    await expect(evaluateService(world.runtime(), world.service, { trigger: 'schedule' })).rejects.toThrow('SetIdentifier "ap-northeast-1"');
    expect((await world.store.load('chat')).version).toBe(0);
  });

  describe('blocked actions', () => {
    it('publishes Shift Blocked once while a freeze stands, not on every evaluation', async () => {
      const world = memoryWorld();
      await tick(world, HEALTHY);
      const stored = await world.store.load('chat');
      await world.store.save('chat', stored.version, {
        state: { ...stored.state!, overrides: { freeze: { by: 'alice', reason: 'incident review', setAt: world.clock.now(), until: null } } },
        pending: null,
        driftSignature: null,
        blockedSignature: null,
        updatedAt: world.clock.now(),
      });
      const outcomes = [];
      for (let i = 0; i < 6; i += 1) outcomes.push(await tick(world, EU_SLOW));
      expect(world.dns.changeLog).toHaveLength(0);
      expect(outcomes.some((o) => o.decision!.blocked.some((b) => b.code === 'FROZEN'))).toBe(true);
      const blockedEvents = world.events.events.filter((e) => e.detailType === 'Shift Blocked');
      expect(blockedEvents).toHaveLength(1);
      expect(blockedEvents[0]!.detail).toMatchObject({ service: 'chat', mode: 'frozen', blocked: [expect.objectContaining({ code: 'FROZEN' })] });
      expect(world.notifier.notices.filter((n) => n.kind === 'shift-blocked')).toHaveLength(1);
    });
  });

  it('keeps an applied change when the audit write after it fails; the failure is returned and logged', async () => {
    const world = memoryWorld();
    const inner = world.store;
    const flaky: StateStore = {
      load: (s) => inner.load(s),
      loadMany: (s) => inner.loadMany(s),
      save: (s, v, w) => inner.save(s, v, w),
      listAudit: (s, q) => inner.listAudit(s, q),
      putAudit: async (entry) => {
        if (entry.status === 'applied') throw new Error('ProvisionedThroughputExceededException');
        return inner.putAudit(entry);
      },
    };
    const outcome = await degradeEu(world, world.runtime({ store: flaky }));
    expect(outcome.status).toBe('applied');
    expect((await world.store.load('chat')).pending).toBeNull();
    expect(outcome.tellFailures).toContainEqual({ channel: 'audit', message: 'ProvisionedThroughputExceededException' });
    // The entry written before Route 53 (status intended) is still there.
    expect((await world.store.listAudit('chat')).find((e) => e.id === outcome.decisionId)).toMatchObject({ status: 'intended' });
  });
});

describe('Function: planEvaluation (the dry run)', () => {
  it('decides what an evaluation would, and writes nothing: no state, no Route 53, no audit, no notice, no event', async () => {
    const world = memoryWorld();
    await tick(world, EU_SLOW);
    await tick(world, EU_SLOW);
    world.feed(judgedStart(world.clock.now()), EU_SLOW);
    const savesBefore = world.store.saves;
    const auditBefore = (await world.store.listAudit('chat', { limit: 100 })).length;
    const planned = await planEvaluation(world.runtime(), world.service);
    expect(planned).toMatchObject({ service: 'chat', stateVersion: 2, gaps: [] });
    expect(planned.decision.changes.map((c) => c.setIdentifier)).toContain('eu-west-1');
    expect(world.store.saves).toBe(savesBefore);
    expect((await world.store.listAudit('chat', { limit: 100 })).length).toBe(auditBefore);
    expect(world.dns.changeLog).toEqual([]);
    expect(world.notifier.notices).toEqual([]);
    expect(world.events.events).toEqual([]);
    // The evaluation that follows takes the same decision.
    const evaluated = await evaluateService(world.runtime(), world.service, { trigger: 'schedule' });
    expect(evaluated.decision!.targetWeights).toEqual(planned.decision.targetWeights);
  });

  it('reports weights someone else wrote', async () => {
    const world = memoryWorld();
    await tick(world, HEALTHY);
    world.dns.editWeights(record, { 'eu-west-1': 0 });
    const planned = await planEvaluation(world.runtime(), world.service);
    expect(planned.drift?.endpoints).toEqual(['eu-west-1']);
  });
});

describe('drills through evaluateService', () => {
  it("reads the drill's guard alarm and brings the endpoint back the minute it fires", async () => {
    const world = memoryWorld();
    await tick(world, HEALTHY);
    await setOverride({ store: world.store, clock: world.clock, newId: () => 'drill-1' }, world.service, {
      action: { kind: 'drain', endpoint: 'eu-west-1', until: world.clock.now() + 30 * MINUTE, guard: { name: 'chat-global-5xx', region: 'us-east-1' } },
      by: 'ops',
      reason: 'quarterly failover drill',
    });
    world.metrics.setAlarmState({ name: 'chat-global-5xx', region: 'us-east-1' }, 'OK');
    await tick(world, HEALTHY);
    expect(world.dns.weightsOf(record)['eu-west-1']).toBe(0);
    await tick(world, HEALTHY);
    expect(world.dns.weightsOf(record)['eu-west-1']).toBe(0);

    world.metrics.setAlarmState({ name: 'chat-global-5xx', region: 'us-east-1' }, 'ALARM');
    const aborted = await tick(world, HEALTHY);
    expect(aborted.decision!.reasons.map((r) => r.code)).toContain('DRILL_ABORTED');
    expect(world.dns.weightsOf(record)['eu-west-1']).toBe(100);
    expect((await world.store.load('chat')).state!.overrides.drains).toBeUndefined();
    expect(world.notifier.notices.some((n) => n.reason === 'DRILL_ABORTED' && n.severity === 'critical')).toBe(true);
  });
});

describe('scheduled drills through evaluateService', () => {
  it('drains the endpoint at the scheduled minute and ends the drill when its guard alarm fires; reads the guard only while a drill is due', async () => {
    const raw = structuredClone(rawConfig);
    // The clock starts at 00:10:30 UTC: the drill is due at 00:12 for 15 minutes.
    (raw.services[0] as Record<string, unknown>).drills = [
      { endpoint: 'eu-west-1', schedule: '12 0 * * *', guardAlarm: { name: 'chat-global-5xx', region: 'us-east-1' } },
    ];
    const world = memoryWorld(testConfig(raw));
    world.metrics.setAlarmState({ name: 'chat-global-5xx', region: 'us-east-1' }, 'OK');
    const reads = () => world.metrics.alarmReads.filter((ref) => ref.name === 'chat-global-5xx').length;
    await tick(world, HEALTHY); // 00:10:30
    expect(reads()).toBe(0);
    const started = await tick(world, HEALTHY); // 00:11:30: not yet
    expect(started.decision!.reasons.map((r) => r.code)).not.toContain('DRILL_STARTED');
    const drilling = await tick(world, HEALTHY); // 00:12:30
    expect(drilling.decision!.reasons.map((r) => r.code)).toContain('DRILL_STARTED');
    expect(world.dns.weightsOf(record)['eu-west-1']).toBe(0);
    expect(reads()).toBeGreaterThan(0);

    world.metrics.setAlarmState({ name: 'chat-global-5xx', region: 'us-east-1' }, 'ALARM');
    const aborted = await tick(world, HEALTHY);
    expect(aborted.decision!.reasons.map((r) => r.code)).toContain('DRILL_ABORTED');
    expect(world.dns.weightsOf(record)['eu-west-1']).toBe(100);
    const after = await tick(world, HEALTHY);
    expect(after.decision!.reasons.map((r) => r.code)).not.toContain('DRILL_STARTED');
  });
});
