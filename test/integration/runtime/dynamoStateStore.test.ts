import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStateStore, auditSortKey } from '../../../functions/adapters/aws/dynamoStateStore.js';
import { CorruptStateError, StateVersionConflictError } from '../../../functions/ports/errors.js';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import { addPoint, type LoadProfile } from '../../../functions/core/loadModel.js';
import type { StateWrite } from '../../../functions/ports/stateStore.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { T0, testConfig } from '../../unit/app/runtimeFixtures.js';

let dynamo: LocalDynamo;
let table: string;
let store: DynamoStateStore;
const service = testConfig().services[0]!;

function write(at: number, overrides: Partial<StateWrite> = {}): StateWrite {
  return { state: initialServiceState(service, at), pending: null, driftSignature: null, blockedSignature: null, updatedAt: at, ...overrides };
}

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = await createTable(dynamo);
  store = new DynamoStateStore({ client: dynamo.client, tableName: table, auditRetentionSeconds: 3600 });
});

describe('Class: DynamoStateStore', () => {
  describe('Method: load', () => {
    it('returns version 0 and no state for a service never written', async () => {
      expect(await store.load('chat')).toEqual({
        service: 'chat',
        version: 0,
        state: undefined,
        pending: null,
        driftSignature: null,
        blockedSignature: null,
        updatedAt: null,
      });
    });

    it('refuses an item whose version is not a positive integer, naming the attribute', async () => {
      await store.save('chat', 0, write(T0));
      const item = (await dynamo.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'SERVICE#chat' }, sk: { S: 'STATE' } } }))).Item!;
      await dynamo.client.send(new PutItemCommand({ TableName: table, Item: { ...item, version: { S: 'seven' } } }));
      await expect(store.load('chat')).rejects.toThrow(CorruptStateError);
      await expect(store.load('chat')).rejects.toMatchObject({ field: 'version', message: expect.stringContaining('is not readable: version: ') });
    });
  });

  describe('Method: loadMany', () => {
    /** BatchGetItem calls the store's client sends, with their key counts. */
    function countBatchGets(): number[] {
      const counts: number[] = [];
      dynamo.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'BatchGetItemCommand') {
            const input = args.input as { RequestItems: Record<string, { Keys: unknown[] }> };
            counts.push(input.RequestItems[table]!.Keys.length);
          }
          return next(args);
        },
        { step: 'initialize', name: `countBatchGets${table}` },
      );
      return counts;
    }

    it('reads 230 services in three strongly consistent calls of at most 100 keys, written or not', async () => {
      const names = Array.from({ length: 230 }, (_, i) => `svc-${i}`);
      for (const name of names.filter((_, i) => i % 3 === 0)) await store.save(name, 0, write(T0));
      await store.save('svc-0', 1, write(T0 + 60_000));
      const counts = countBatchGets();
      const loaded = await store.loadMany([...names, 'svc-0']);
      dynamo.client.middlewareStack.remove(`countBatchGets${table}`);
      expect(counts).toEqual([100, 100, 30]);
      expect(loaded.size).toBe(230);
      expect(names.map((n) => (loaded.get(n) as { version: number }).version)).toEqual(names.map((_, i) => (i === 0 ? 2 : i % 3 === 0 ? 1 : 0)));
      expect(loaded.get('svc-3')).toEqual(await store.load('svc-3'));
    });

    it('fails only the service whose item is unreadable', async () => {
      await store.save('chat', 0, write(T0));
      await store.save('docs', 0, write(T0));
      const item = (await dynamo.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'SERVICE#chat' }, sk: { S: 'STATE' } } }))).Item!;
      await dynamo.client.send(new PutItemCommand({ TableName: table, Item: { ...item, version: { S: 'seven' } } }));
      const loaded = await store.loadMany(['chat', 'docs']);
      expect(loaded.get('chat')).toBeInstanceOf(CorruptStateError);
      expect(loaded.get('docs')).toMatchObject({ service: 'docs', version: 1 });
    });

    it('asks again, after a growing wait, for the keys DynamoDB left unprocessed; gives up after five rounds, retryably', async () => {
      // dynalite answers every key at once; DynamoDB may not (16 MB responses, throttling), so
      // this one case is answered by a mock, and the exact requests are asserted.
      // The store sends through a DocumentClient: that is what is mocked, for this test only.
      const mocked = mockClient(DynamoDBDocumentClient);
      try {
        const waits: number[] = [];
        const flaky = new DynamoStateStore({
          client: new DynamoDBClient({ region: 'us-east-1' }),
          tableName: 'steer53',
          sleep: async (ms) => void waits.push(ms),
        });
        const key = (name: string) => ({ pk: `SERVICE#${name}`, sk: 'STATE' });
        mocked
          .on(BatchGetCommand)
          .resolvesOnce({ Responses: { steer53: [] }, UnprocessedKeys: { steer53: { Keys: [key('a'), key('b')], ConsistentRead: true } } })
          .resolvesOnce({ Responses: { steer53: [] }, UnprocessedKeys: { steer53: { Keys: [key('b')], ConsistentRead: true } } })
          .resolves({ Responses: { steer53: [] } });
        const loaded = await flaky.loadMany(['a', 'b']);
        expect([...loaded.keys()]).toEqual(['a', 'b']);
        expect(mocked.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.steer53!.Keys!)).toEqual([
          [key('a'), key('b')],
          [key('a'), key('b')],
          [key('b')],
        ]);
        expect(mocked.commandCalls(BatchGetCommand).every((c) => c.args[0].input.RequestItems!.steer53!.ConsistentRead === true)).toBe(true);
        expect(waits).toEqual([50, 100]);

        mocked.reset();
        mocked.on(BatchGetCommand).resolves({ Responses: { steer53: [] }, UnprocessedKeys: { steer53: { Keys: [key('a')] } } });
        const error = await flaky.loadMany(['a']).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'AwsCallError', retryable: true });
        expect(waits).toEqual([50, 100, 50, 100, 200, 400]);
        expect((error as Error).message).toBe('dynamodb:BatchGetItem on table steer53 failed: Error: 1 keys still unprocessed after 5 rounds');
      } finally {
        mocked.restore();
      }
    });
  });

  describe('Method: save', () => {
    it('writes the state item at pk=SERVICE#<name>, sk=STATE and returns the next version', async () => {
      expect(await store.save('chat', 0, write(T0))).toBe(1);
      const raw = await dynamo.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'SERVICE#chat' }, sk: { S: 'STATE' } } }));
      expect(raw.Item?.version).toEqual({ N: '1' });
      expect(raw.Item?.pending).toBeUndefined();
      const loaded = await store.load('chat');
      expect(loaded.version).toBe(1);
      expect(loaded.state).toEqual(initialServiceState(service, T0));
    });

    it('round-trips a pending change and the fingerprints', async () => {
      const pending = {
        decisionId: 'd-1',
        recordedAt: T0,
        record: { hostedZoneId: service.hostedZoneId, dnsName: service.dnsName, recordType: service.recordType },
        from: { a: 100 },
        to: { a: 40 },
        decision: decide(service, { now: T0, observations: { periodStart: T0 - 60_000, endpoints: {} }, state: undefined }).decision,
        trigger: 'schedule',
      };
      await store.save('chat', 0, write(T0, { pending, driftSignature: '{"a":1}', blockedSignature: '["FROZEN:"]' }));
      const loaded = await store.load('chat');
      expect(loaded.pending).toEqual(pending);
      expect(loaded.driftSignature).toBe('{"a":1}');
      expect(loaded.blockedSignature).toBe('["FROZEN:"]');
    });

    it('round-trips learned load profiles exactly: decayed sums are long fractions', async () => {
      let profile: LoadProfile | undefined;
      for (let i = 0; i < 50; i += 1) profile = addPoint(profile, 0.4 + i / 137, 300 + Math.PI * i, T0 + i * 60_000, 86_400_000);
      const state = { ...initialServiceState(service, T0), loadProfiles: { [service.endpoints[0]!.setIdentifier]: profile! } };
      await store.save('chat', 0, write(T0, { state }));
      expect((await store.load('chat')).state).toEqual(state);
    });

    it('refuses a write on a stale version with StateVersionConflictError, leaving the item as it was', async () => {
      await store.save('chat', 0, write(T0));
      await store.save('chat', 1, write(T0 + 1));
      await expect(store.save('chat', 1, write(T0 + 2))).rejects.toThrow(StateVersionConflictError);
      await expect(store.save('chat', 0, write(T0 + 3))).rejects.toThrow('no longer at version 0');
      const loaded = await store.load('chat');
      expect(loaded.version).toBe(2);
      expect(loaded.updatedAt).toBe(T0 + 1);
    });

    it('lets exactly one of many writers on the same version win', async () => {
      await store.save('chat', 0, write(T0));
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.save('chat', 1, write(T0 + i))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof StateVersionConflictError)).toHaveLength(9);
    });
  });

  describe('Method: putAudit / listAudit', () => {
    it('stores entries at sk=AUDIT#<ISO time>#<id> with expiresAt in epoch seconds', async () => {
      await store.putAudit({ service: 'chat', id: 'e1', at: T0, kind: 'decision', status: 'applied', actor: 'steer53', summary: 'x' });
      const raw = await dynamo.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'SERVICE#chat' }, sk: { S: auditSortKey(T0, 'e1') } } }));
      expect(auditSortKey(T0, 'e1')).toBe('AUDIT#2026-01-01T00:10:30.000Z#e1');
      expect(raw.Item?.expiresAt).toEqual({ N: String(T0 / 1000 + 3600) });
    });

    it('lists newest first, limited, without the key attributes', async () => {
      for (let i = 0; i < 5; i += 1)
        await store.putAudit({ service: 'chat', id: `e${i}`, at: T0 + i * 1000, kind: 'decision', status: 'applied', actor: 'steer53', summary: `entry ${i}` });
      await store.putAudit({ service: 'other', id: 'x', at: T0 + 10_000, kind: 'decision', status: 'applied', actor: 'steer53', summary: 'other service' });
      const entries = await store.listAudit('chat', { limit: 3 });
      expect(entries.map((e) => e.summary)).toEqual(['entry 4', 'entry 3', 'entry 2']);
      expect(entries[0]).not.toHaveProperty('pk');
      expect(entries[0]).not.toHaveProperty('expiresAt');
    });

    it('replaces an entry written again with the same time and id', async () => {
      await store.putAudit({ service: 'chat', id: 'e1', at: T0, kind: 'decision', status: 'intended', actor: 'steer53', summary: 'x' });
      await store.putAudit({
        service: 'chat',
        id: 'e1',
        at: T0,
        kind: 'decision',
        status: 'applied',
        actor: 'steer53',
        summary: 'x',
        changeIds: ['/change/C1'],
      });
      const entries = await store.listAudit('chat');
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ status: 'applied', changeIds: ['/change/C1'] });
    });
  });
});
