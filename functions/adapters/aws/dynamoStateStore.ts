/**
 * DynamoDB adapter of the state store: the single-table layout of the design.
 *
 *   pk = SERVICE#<name>   sk = STATE                          the service's state item (versioned)
 *   pk = SERVICE#<name>   sk = AUDIT#<ISO-8601 time>#<id>     audit entries, with `expiresAt` (TTL)
 *
 * Concurrency is optimistic: every save is conditional on the version read, so of two evaluations
 * that read the same version only one can write. No transactions (DynamoDB Local and dynalite
 * do not all support them, and the protocol does not need them).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditQuery, StateStore, StateWrite, StoredServiceState } from '../../ports/stateStore.js';
import { StateVersionConflictError } from '../../ports/errors.js';
import { readStateItem, toStateItem } from '../../ports/stateItem.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

export const STATE_SORT_KEY = 'STATE';
export const AUDIT_PREFIX = 'AUDIT#';
/** BatchGetItem takes at most 100 keys a call (DynamoDB API reference, BatchGetItem). */
export const MAX_KEYS_PER_BATCH_GET = 100;
/** Rounds of BatchGetItem for the keys DynamoDB left unprocessed (over 16 MB, or throttled) before giving up on them. */
const MAX_BATCH_GET_ROUNDS = 5;

export interface DynamoStateStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long audit entries are kept (DynamoDB TTL deletes them after). @default 90 days */
  readonly auditRetentionSeconds?: number;
  /** Waits between rounds for unprocessed keys (50, 100, 200, 400 ms). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export function servicePartitionKey(service: string): string {
  return `SERVICE#${service}`;
}

export function auditSortKey(at: number, id: string): string {
  return `${AUDIT_PREFIX}${new Date(at).toISOString()}#${id}`;
}

export class DynamoStateStore implements StateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retention: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoStateStoreOptions) {
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    // removeUndefinedValues: optional fields of the state are simply absent.
    this.#doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = options.tableName;
    this.#retention = options.auditRetentionSeconds ?? 90 * 24 * 3600;
  }

  async load(service: string): Promise<StoredServiceState> {
    const response = await this.#call('dynamodb:GetItem', () =>
      this.#doc.send(new GetCommand({ TableName: this.#table, Key: { pk: servicePartitionKey(service), sk: STATE_SORT_KEY }, ConsistentRead: true })),
    );
    const item = response.Item;
    if (!item) return neverWritten(service);
    // Parsed, and migrated from an older layout, by the port's schema (ports/stateItem.ts).
    return readStateItem(service, item);
  }

  async loadMany(services: readonly string[]): Promise<ReadonlyMap<string, StoredServiceState | Error>> {
    const unique = [...new Set(services)];
    const items = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < unique.length; i += MAX_KEYS_PER_BATCH_GET) {
      for (const item of await this.#batchGet(unique.slice(i, i + MAX_KEYS_PER_BATCH_GET))) items.set(String(item.pk), item);
    }
    const out = new Map<string, StoredServiceState | Error>();
    for (const service of unique) {
      const item = items.get(servicePartitionKey(service));
      try {
        out.set(service, item ? readStateItem(service, item) : neverWritten(service));
      } catch (error) {
        out.set(service, error as Error);
      }
    }
    return out;
  }

  /** The state items of up to 100 services, asking again for the keys DynamoDB left unprocessed. */
  async #batchGet(services: readonly string[]): Promise<Record<string, unknown>[]> {
    let keys: Record<string, unknown>[] = services.map((service) => ({ pk: servicePartitionKey(service), sk: STATE_SORT_KEY }));
    const items: Record<string, unknown>[] = [];
    for (let round = 0; keys.length > 0; round += 1) {
      if (round >= MAX_BATCH_GET_ROUNDS) {
        throw new AwsCallError(
          { operation: 'dynamodb:BatchGetItem', target: `table ${this.#table}` },
          `${keys.length} keys still unprocessed after ${MAX_BATCH_GET_ROUNDS} rounds`,
          true,
        );
      }
      if (round > 0) await this.#sleep(50 * 2 ** (round - 1));
      const request = { [this.#table]: { Keys: keys, ConsistentRead: true } };
      const response: BatchGetCommandOutput = await this.#call('dynamodb:BatchGetItem', () => this.#doc.send(new BatchGetCommand({ RequestItems: request })));
      items.push(...(response.Responses?.[this.#table] ?? []));
      keys = (response.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Record<string, unknown>[];
    }
    return items;
  }

  async save(service: string, expectedVersion: number, write: StateWrite): Promise<number> {
    const version = expectedVersion + 1;
    const item = { pk: servicePartitionKey(service), sk: STATE_SORT_KEY, ...toStateItem(service, version, write) };
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new StateVersionConflictError(service, expectedVersion, { cause: error });
      }
      throw new AwsCallError({ operation: 'dynamodb:PutItem', target: `table ${this.#table}` }, error, isTransientAwsError(error));
    }
    return version;
  }

  async putAudit(entry: AuditEntry): Promise<void> {
    const item = {
      ...entry,
      pk: servicePartitionKey(entry.service),
      sk: auditSortKey(entry.at, entry.id),
      // DynamoDB TTL takes epoch seconds.
      expiresAt: Math.floor(entry.at / 1000) + this.#retention,
    };
    await this.#call('dynamodb:PutItem', () => this.#doc.send(new PutCommand({ TableName: this.#table, Item: item })));
  }

  async listAudit(service: string, query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? 50;
    const entries: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const response = await this.#call('dynamodb:Query', () =>
        this.#doc.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': servicePartitionKey(service), ':prefix': AUDIT_PREFIX },
            ScanIndexForward: false,
            Limit: limit - entries.length,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of response.Items ?? []) {
        const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...entry } = item;
        entries.push(entry as AuditEntry);
      }
      startKey = response.LastEvaluatedKey;
    } while (startKey && entries.length < limit);
    return entries;
  }

  async #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new AwsCallError({ operation, target: `table ${this.#table}` }, error, isTransientAwsError(error));
    }
  }
}

/** The state of a service never written. */
function neverWritten(service: string): StoredServiceState {
  return { service, version: 0, state: undefined, pending: null, driftSignature: null, blockedSignature: null, updatedAt: null };
}
