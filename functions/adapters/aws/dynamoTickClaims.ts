/**
 * DynamoDB adapter of the tick claims, in the state table: one item per shard and minute
 * (`pk = TICK#<shard>`, `sk = <minute>`), put only if absent, deleted by TTL a day later.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tickMinute, type TickClaims } from '../../ports/tickClaims.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

export interface DynamoTickClaimsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

export class DynamoTickClaims implements TickClaims {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoTickClaimsOptions) {
    this.#doc = DynamoDBDocumentClient.from(options.client);
    this.#table = options.tableName;
  }

  async claim(shard: string, scheduledAt: number): Promise<boolean> {
    const item = { pk: `TICK#${shard}`, sk: tickMinute(scheduledAt), expiresAt: Math.floor(scheduledAt / 1000) + 86_400 };
    try {
      await this.#doc.send(new PutCommand({ TableName: this.#table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw new AwsCallError({ operation: 'dynamodb:PutItem', target: `table ${this.#table}` }, error, isTransientAwsError(error));
    }
  }
}
