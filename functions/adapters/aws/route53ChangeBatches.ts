/**
 * How a zone's changes are split into ChangeResourceRecordSets requests. Route 53 refuses a whole
 * request (InvalidChangeBatch) that is over either of its two size limits, and an UPSERT counts
 * double towards both (Route 53 developer guide, "Quotas", ChangeResourceRecordSets requests):
 *  - at most 1,000 ResourceRecord elements: an UPSERT counts each of its values twice;
 *  - at most 32,000 characters in all Value elements together (spaces included): an UPSERT
 *    counts each character twice.
 * Eight CNAME services of 60 records each (a 55-character target) make one 52,800-character
 * batch when counted as Route 53 counts them; split here, they go in two.
 */
import type { Change } from '@aws-sdk/client-route-53';
import { Steer53Error } from '../../core/errors.js';

/** ResourceRecord elements in one request, an UPSERT counting each twice. */
export const MAX_VALUES_PER_BATCH = 1000;
/** Characters of all Value elements in one request, an UPSERT counting each twice. */
export const MAX_VALUE_CHARACTERS_PER_BATCH = 32_000;

/** What one change counts towards a request's two limits, as Route 53 counts it. */
export interface ChangeCost {
  readonly values: number;
  readonly characters: number;
}

/**
 * An alias record has no ResourceRecords and no Value; it is counted as one value (of no
 * characters), so that a batch of aliases still has a bound.
 */
export function changeCost(change: Change): ChangeCost {
  const factor = change.Action === 'UPSERT' ? 2 : 1;
  const records = change.ResourceRecordSet?.ResourceRecords ?? [];
  const characters = records.reduce((sum, record) => sum + (record.Value?.length ?? 0), 0);
  return { values: factor * Math.max(1, records.length), characters: factor * characters };
}

/** A single change that no request can hold (Route 53 would refuse it however it is batched). */
export class ChangeTooLargeError extends Steer53Error {
  readonly hostedZoneId: string;
  readonly record: string;

  constructor(hostedZoneId: string, change: Change, cost: ChangeCost) {
    const set = change.ResourceRecordSet;
    const record = `${set?.Name} ${set?.Type} ${set?.SetIdentifier}`;
    super(
      `${change.Action} of ${record} in hosted zone ${hostedZoneId} counts ${cost.values} values and ${cost.characters} characters; ` +
        `one ChangeResourceRecordSets request holds at most ${MAX_VALUES_PER_BATCH} and ${MAX_VALUE_CHARACTERS_PER_BATCH}`,
    );
    this.name = 'ChangeTooLargeError';
    this.hostedZoneId = hostedZoneId;
    this.record = record;
  }
}

/** Splits a zone's changes, in order, into the fewest consecutive requests within both limits. */
export function changeBatches(hostedZoneId: string, changes: readonly Change[]): Change[][] {
  const out: Change[][] = [];
  let current: Change[] = [];
  let values = 0;
  let characters = 0;
  for (const change of changes) {
    const cost = changeCost(change);
    if (cost.values > MAX_VALUES_PER_BATCH || cost.characters > MAX_VALUE_CHARACTERS_PER_BATCH) throw new ChangeTooLargeError(hostedZoneId, change, cost);
    if (current.length > 0 && (values + cost.values > MAX_VALUES_PER_BATCH || characters + cost.characters > MAX_VALUE_CHARACTERS_PER_BATCH)) {
      out.push(current);
      current = [];
      values = 0;
      characters = 0;
    }
    current.push(change);
    values += cost.values;
    characters += cost.characters;
  }
  if (current.length > 0) out.push(current);
  return out;
}
