import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { evaluateService, type EvaluationOutcome } from '../../../functions/app/evaluateService.js';
import type { AuditEntry, StateStore } from '../../../functions/ports/stateStore.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { awsWorld, EU_SLOW, route53, type AwsWorld } from './awsWorld.js';
import { MINUTE } from '../../unit/app/runtimeFixtures.js';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});

/** The store, watched: every successful save's new version in completion order, every audit write. */
function watched(world: AwsWorld) {
  const versions: number[] = [];
  const audits: AuditEntry[] = [];
  const store: StateStore = {
    load: (s) => world.store.load(s),
    loadMany: (s) => world.store.loadMany(s),
    listAudit: (s, q) => world.store.listAudit(s, q),
    save: async (s, expected, write) => {
      const version = await world.store.save(s, expected, write);
      versions.push(version);
      return version;
    },
    putAudit: async (entry) => {
      await world.store.putAudit(entry);
      audits.push(entry);
    },
  };
  return { store, versions, audits };
}

describe('20 evaluations of one service started at once (dynalite)', () => {
  it('every DNS write matches exactly one recorded decision, the version only grows, and no audit entry is lost', async () => {
    const world = awsWorld(dynamo, await createTable(dynamo));
    const { store, versions, audits } = watched(world);
    const service = world.config.services[0]!;
    world.latencyMs = EU_SLOW;

    const outcomes: EvaluationOutcome[] = [];
    // Three rounds: two of them build up M-of-N evidence, the third (and later) ones shed.
    for (let round = 0; round < 4; round += 1) {
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => evaluateService(world.runtime({ store }), service, { trigger: 'schedule' })));
      for (const r of results) {
        expect(r.status, r.status === 'rejected' ? String((r as PromiseRejectedResult).reason) : '').toBe('fulfilled');
        outcomes.push((r as PromiseFulfilledResult<EvaluationOutcome>).value);
      }
      world.clock.advance(MINUTE);
    }

    // Every DNS write names its decision; each such decision is applied exactly once in the audit log.
    const writes = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!);
    expect(writes.length).toBeGreaterThan(0);
    const audit = await world.store.listAudit('chat', { limit: 1000 });
    const writtenIds = writes.map((w) => /decision (\S+)$/.exec(w.Comment!)![1]!);
    expect(new Set(writtenIds).size).toBe(writtenIds.length);
    for (const id of writtenIds) expect(audit.filter((e) => e.id === id && e.kind === 'decision' && e.status === 'applied')).toHaveLength(1);
    const applied = outcomes.filter((o) => o.status === 'applied');
    expect(applied.map((o) => o.decisionId).sort()).toEqual([...writtenIds].sort());
    expect(audit.filter((e) => e.kind === 'decision' && e.status === 'applied')).toHaveLength(writes.length);

    // Each write moved the weights from what the decision saw to what it decided.
    for (const outcome of applied) {
      const write = writes[writtenIds.indexOf(outcome.decisionId!)]!;
      expect(Object.fromEntries(write.Changes!.map((c) => [c.ResourceRecordSet!.SetIdentifier, c.ResourceRecordSet!.Weight]))).toEqual(
        Object.fromEntries(outcome.decision!.changes.map((c) => [c.setIdentifier, c.to])),
      );
    }

    // The version only grows: each successful write took the next version.
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect((await world.store.load('chat')).version).toBe(versions.length);

    // No audit entry lost: everything written is there (an entry rewritten keeps its key).
    const keys = new Set(audit.map((e) => `${e.at}#${e.id}`));
    for (const entry of audits) expect(keys.has(`${entry.at}#${entry.id}`)).toBe(true);

    // And the end state agrees with Route 53.
    const final = await world.store.load('chat');
    expect(final.pending).toBeNull();
    expect(final.state!.appliedWeights).toEqual(Object.fromEntries(world.records.map((r) => [r.SetIdentifier!, r.Weight!])));
    expect(outcomes.every((o) => ['applied', 'unchanged', 'busy', 'superseded'].includes(o.status))).toBe(true);
  });
});
