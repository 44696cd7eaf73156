import { describe, expect, it } from 'vitest';
import type { Change } from '@aws-sdk/client-route-53';
import {
  ChangeTooLargeError,
  MAX_VALUE_CHARACTERS_PER_BATCH,
  MAX_VALUES_PER_BATCH,
  changeBatches,
  changeCost,
} from '../../../functions/adapters/aws/route53ChangeBatches.js';

const ZONE = 'Z0123456789EXAMPLE';

/** A weighted record change whose `values` values are each `length` characters long. */
function change(id: number, values: number, length: number, action: Change['Action'] = 'UPSERT'): Change {
  return {
    Action: action,
    ResourceRecordSet: {
      Name: `svc${id}.example.com.`,
      Type: 'CNAME',
      SetIdentifier: `r${id}`,
      Weight: 1,
      TTL: 60,
      ResourceRecords: Array.from({ length: values }, (_, i) => ({ Value: `${String(i).padStart(length, 'x')}` })),
    },
  };
}

const alias: Change = {
  Action: 'UPSERT',
  ResourceRecordSet: {
    Name: 'chat.example.com.',
    Type: 'A',
    SetIdentifier: 'eu',
    Weight: 1,
    AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: 'alb.eu-west-1.elb.amazonaws.com.', EvaluateTargetHealth: true },
  },
};

/** What each batch counts, as Route 53 counts it. */
function counted(batches: readonly Change[][]): { changes: number; values: number; characters: number }[] {
  return batches.map((batch) => ({
    changes: batch.length,
    values: batch.reduce((sum, c) => sum + changeCost(c).values, 0),
    characters: batch.reduce((sum, c) => sum + changeCost(c).characters, 0),
  }));
}

describe('Function: changeCost', () => {
  it.each([
    ['an UPSERT counts each value and each character twice', change(1, 3, 10), { values: 6, characters: 60 }],
    ['a CREATE counts them once', change(1, 3, 10, 'CREATE'), { values: 3, characters: 30 }],
    ['an alias counts as one value without characters', alias, { values: 2, characters: 0 }],
  ])('%s', (_, c, cost) => expect(changeCost(c)).toEqual(cost));
});

describe('Function: changeBatches', () => {
  it.each([
    ['exactly 1,000 values (500 UPSERTs of one value) fit one batch', 500, 1, 5, [500]],
    ['one value more starts a second batch', 501, 1, 5, [500, 1]],
    ['exactly 32,000 characters (100 UPSERTs of 160 characters) fit one batch', 100, 1, 160, [100]],
    ['one character-heavy change more starts a second batch', 101, 1, 160, [100, 1]],
    ['whichever limit binds first splits: 1,000 values of 31 characters', 600, 1, 31, [500, 100]],
  ])('%s', (_, count, values, length, sizes) => {
    const batches = changeBatches(
      ZONE,
      Array.from({ length: count }, (_, i) => change(i, values, length)),
    );
    expect(batches.map((b) => b.length)).toEqual(sizes);
    for (const batch of counted(batches)) {
      expect(batch.values).toBeLessThanOrEqual(MAX_VALUES_PER_BATCH);
      expect(batch.characters).toBeLessThanOrEqual(MAX_VALUE_CHARACTERS_PER_BATCH);
    }
  });

  it('splits 8 CNAME services × 60 records (a 52,800-character batch as Route 53 counts it) into two within both limits', () => {
    const changes = Array.from({ length: 8 * 60 }, (_, i) => change(i, 1, 55));
    expect(changes.reduce((sum, c) => sum + changeCost(c).characters, 0)).toBe(52_800);
    const batches = changeBatches(ZONE, changes);
    expect(counted(batches)).toEqual([
      { changes: 290, values: 580, characters: 31_900 },
      { changes: 190, values: 380, characters: 20_900 },
    ]);
    // Nothing lost, nothing reordered.
    expect(batches.flat()).toEqual(changes);
  });

  it('counts aliases as values, so a long list of them is still bounded', () => {
    expect(
      changeBatches(
        ZONE,
        Array.from({ length: 501 }, () => alias),
      ).map((b) => b.length),
    ).toEqual([500, 1]);
  });

  it('returns no batch for no change', () => {
    expect(changeBatches(ZONE, [])).toEqual([]);
  });

  it('refuses a single change no request can hold, naming the record, before any batch is made', () => {
    const huge = change(7, 200, 100); // 200 values × 100 characters × 2 = 40,000
    expect(() => changeBatches(ZONE, [change(1, 1, 5), huge])).toThrow(ChangeTooLargeError);
    expect(() => changeBatches(ZONE, [huge])).toThrow(
      'UPSERT of svc7.example.com. CNAME r7 in hosted zone Z0123456789EXAMPLE counts 400 values and 40000 characters; one ChangeResourceRecordSets request holds at most 1000 and 32000',
    );
  });
});
