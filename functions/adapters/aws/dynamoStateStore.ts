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
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditQuery, StateStore, StateWrite, StoredServiceState } from '../../ports/stateStore.js';
import { StateVersionConflictError } from '../../ports/errors.js';
import { readStateItem, toStateItem } from '../../ports/stateItem.js';
import { boundedAudit } from '../../ports/auditSize.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

export const STATE_SORT_KEY = 'STATE';
export const AUDIT_PREFIX = 'AUDIT#';

export interface DynamoStateStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long audit entries are kept (DynamoDB TTL deletes them after). @default 90 days */
  readonly auditRetentionSeconds?: number;
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

  constructor(options: DynamoStateStoreOptions) {
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
    if (!item) return { service, version: 0, state: undefined, pending: null, driftSignature: null, blockedSignature: null, updatedAt: null };
    // Parsed, and migrated from an older layout, by the port's schema (ports/stateItem.ts).
    return readStateItem(service, item);
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
      ...boundedAudit(entry),
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
