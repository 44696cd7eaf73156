/**
 * A state item as steer53 wrote it before its layout had a schema (schemaVersion 1, see
 * test/fixtures/state-v1/README.md), read through today's stores: migrated to the current layout,
 * and decided from exactly as the steer53 that wrote it decided.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../../functions/adapters/aws/dynamoStateStore.js';
import { InMemoryStateStore } from '../../../functions/adapters/memory/memoryStateStore.js';
import { serviceSchema } from '../../../functions/core/config.js';
import { decide } from '../../../functions/core/engine.js';
import type { DecideInput, DecideOutput, ServiceState } from '../../../functions/core/types.js';
import { STATE_SCHEMA_VERSION } from '../../../functions/ports/stateItem.js';
import type { StateStore } from '../../../functions/ports/stateStore.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/state-v1/${name}`, import.meta.url), 'utf8')) as T;
}

type StoredItem = Record<string, unknown> & { service: string; state: Record<string, unknown>; pending: { decisionId: string; to: unknown } };
const item = fixture<StoredItem>('item.json');
const next = fixture<{ input: Omit<DecideInput, 'state'> } & DecideOutput>('next-decision.json');
/** The service as the steer53 that wrote the item judged canaries: on the latency signal's own p99, at 1.2×. */
const service = ((raw: { policy: { rollout: { canary: Record<string, unknown> } } }) => {
  Object.assign(raw.policy.rollout.canary, { statistic: 'p99', maxLatencyRatio: 1.2 });
  return serviceSchema.parse(raw);
})(fixture('service.json'));

/** The decision and next state without the counts layout 11 keeps with each period (`tails`) and each signal's verdict (`tail`). */
function withoutTails(out: DecideOutput): DecideOutput {
  return JSON.parse(JSON.stringify(out, (key, value) => (key === 'tail' || key === 'tails' ? undefined : value))) as DecideOutput;
}

/**
 * A layout-1 state in layout 2: every field present, empty when there is nothing in it, and the keys
 * a rollout remembered (`seen`) in the state's deploymentKeys, the only memory of them now.
 */
function inLayout2(state: Record<string, unknown>): ServiceState {
  const v1 = state as { rollouts?: Record<string, { seen: string[] }>; deploymentKeys?: string[] };
  const keys = v1.deploymentKeys ?? [];
  const seen = Object.values(v1.rollouts ?? {}).flatMap((r) => r.seen);
  const rollouts = Object.fromEntries(Object.entries(v1.rollouts ?? {}).map(([id, { seen: _seen, ...rollout }]) => [id, rollout]));
  // Layout 1's overrides were set before overrides were told: they are taken as told.
  const overrides = v1 as { overrides: { drains?: Record<string, object> } };
  const drains = Object.fromEntries(Object.entries(overrides.overrides.drains ?? {}).map(([id, d]) => [id, { ...d, announced: true }]));
  return {
    demandHistory: [],
    drillStarts: {},
    loadProfiles: {},
    ...state,
    rollouts,
    overrides: { ...overrides.overrides, ...(overrides.overrides.drains ? { drains } : {}) },
    deploymentKeys: [...new Set(seen.filter((key) => !keys.includes(key))), ...keys],
    // Layout 4: no capacity was asked for.
    capacity: {},
  } as unknown as ServiceState;
}

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});

describe.each<[string, () => Promise<StateStore>]>([
  [
    'DynamoStateStore',
    async () => {
      const table = await createTable(dynamo);
      await DynamoDBDocumentClient.from(dynamo.client).send(new PutCommand({ TableName: table, Item: item }));
      return new DynamoStateStore({ client: dynamo.client, tableName: table });
    },
  ],
  [
    'InMemoryStateStore',
    async () => {
      const store = new InMemoryStateStore();
      const { pk: _pk, sk: _sk, ...rest } = item;
      store.seedItem(rest as StoredItem);
      return store;
    },
  ],
])('Class: %s reading a state item of layout 1', (_name, storeWithFixture) => {
  let store: StateStore;
  beforeEach(async () => {
    store = await storeWithFixture();
  });

  it('reads it, with every field of the state present', async () => {
    const stored = await store.load('chat');
    expect(stored).toMatchObject({ service: 'chat', version: item.version, driftSignature: item.driftSignature, blockedSignature: item.blockedSignature });
    expect(stored.state).toEqual(inLayout2(item.state));
    expect(Object.keys(stored.state!.rollouts)).toEqual(['a']);
    expect(stored.pending).toMatchObject({ decisionId: item.pending.decisionId, to: item.pending.to });
  });

  it('decides from it exactly as the steer53 that wrote it did', async () => {
    const stored = await store.load('chat');
    const decided = decide(service, { ...next.input, state: stored.state });
    // Layout 11 keeps each period's percentile counts with its verdict (`tails`; the verdict's
    // signals carry theirs, `tail`), for a recovering endpoint to pool: they decide nothing here.
    const out = withoutTails(decided);
    // The same decision; layout 4's decisions also list the capacity asked for (none here).
    expect(out.decision).toEqual({ ...next.decision, capacityRequests: [] });
    // The same next state, but for what layout 3 adds: the change it writes says which way it moved each endpoint.
    const expected = inLayout2(next.nextState as unknown as Record<string, unknown>);
    const moved = Object.fromEntries(next.decision.changes.filter((c) => Math.abs(c.to - c.from) > 1).map((c) => [c.setIdentifier, c.to > c.from ? 1 : -1]));
    const written = { ...expected.recentChanges.at(-1)!, moved };
    const { loadProfiles, ...rest } = out.nextState;
    const { loadProfiles: expectedProfiles, ...expectedRest } = expected;
    expect(rest).toEqual({ ...expectedRest, recentChanges: [...expected.recentChanges.slice(0, -1), written] });
    // The same load profiles; since layout 8 one learned on says what on (the p99 here, as then).
    expect(Object.fromEntries(Object.entries(loadProfiles).map(([id, { basis: _basis, ...sums }]) => [id, sums]))).toEqual(expectedProfiles);
    expect(new Set(Object.values(loadProfiles).map((p) => p.basis))).toEqual(new Set(['p99@p99', undefined]));
  });

  it('writes it back in the current layout', async () => {
    const stored = await store.load('chat');
    await store.save('chat', stored.version, { state: stored.state!, pending: null, driftSignature: null, blockedSignature: null, updatedAt: 1 });
    expect(await store.load('chat')).toMatchObject({ version: stored.version + 1, state: stored.state, pending: null });
  });
});

describe('Class: DynamoStateStore writing', () => {
  it('writes the current layout number with every item', async () => {
    const table = await createTable(dynamo);
    const store = new DynamoStateStore({ client: dynamo.client, tableName: table });
    await store.save('chat', 0, { state: inLayout2(item.state), pending: null, driftSignature: null, blockedSignature: null, updatedAt: 1 });
    const raw = await DynamoDBDocumentClient.from(dynamo.client).send(new GetCommand({ TableName: table, Key: { pk: 'SERVICE#chat', sk: 'STATE' } }));
    expect(raw.Item).toMatchObject({ schemaVersion: STATE_SCHEMA_VERSION, state: { rollouts: expect.any(Object), deploymentKeys: expect.any(Array) } });
  });
});
