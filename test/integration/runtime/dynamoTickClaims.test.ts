import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoTickClaims } from '../../../functions/adapters/aws/dynamoTickClaims.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { T0 } from '../../unit/app/runtimeFixtures.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});

describe('Class: DynamoTickClaims (dynalite)', () => {
  it('claims a shard’s minute once, whoever asks first; other minutes and shards are claims of their own', async () => {
    const table = await createTable(dynamo);
    const claims = new DynamoTickClaims({ client: dynamo.client, tableName: table });
    const racing = await Promise.all(Array.from({ length: 5 }, () => claims.claim('shard-02', T0)));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await claims.claim('shard-02', T0 + 20_000)).toBe(false); // the same minute
    expect(await claims.claim('shard-02', T0 + 60_000)).toBe(true);
    expect(await claims.claim('shard-03', T0)).toBe(true);
    const item = await dynamo.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'TICK#shard-02' }, sk: { S: '2026-01-01T00:10' } } }));
    expect(item.Item?.expiresAt).toEqual({ N: String(Math.floor(T0 / 1000) + 86_400) });
  });

  it('says which call failed on what when the table is not there', async () => {
    const claims = new DynamoTickClaims({ client: dynamo.client, tableName: 'no-such-table' });
    await expect(claims.claim('shard-01', T0)).rejects.toThrow('dynamodb:PutItem on table no-such-table failed: ResourceNotFoundException');
  });
});
