import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { Route53Weights, normaliseDnsName } from '../../../functions/adapters/aws/route53Weights.js';
import { AwsCallError, Route53RetriesExhaustedError } from '../../../functions/adapters/aws/errors.js';
import { BoundedRetryStrategy, type BoundedRetryStrategyOptions } from '../../../functions/adapters/aws/retryStrategy.js';
import { RecordNotFoundError } from '../../../functions/ports/errors.js';
import { answerBelowRetries, recordingWaits, testCredentials } from '../../support/belowRetries.js';
import { listPage, sortRecords } from '../../../sim/bench/tick/route53Listing.js';
import { recordSetKey } from '../../../functions/ports/dnsWeights.js';

// Route 53 as the mock answers it, below the SDK's retry middleware of the client under test.
const route53Service = new Route53Client({ region: 'us-east-1', credentials: testCredentials });
const route53 = mockClient(route53Service);
const ZONE = 'Z0123456789EXAMPLE';
const chat = { hostedZoneId: ZONE, dnsName: 'chat.example.com', recordType: 'A' };

function weighted(id: string, weight: number, extra: Partial<ResourceRecordSet> = {}): ResourceRecordSet {
  return {
    Name: 'chat.example.com.',
    Type: 'A',
    SetIdentifier: id,
    Weight: weight,
    TTL: 60,
    ResourceRecords: [{ Value: `192.0.2.${weight % 250}` }],
    ...extra,
  };
}

function throttling(name = 'Throttling') {
  return Object.assign(new Error('Rate exceeded'), { name, $metadata: { httpStatusCode: 400 } });
}

let sleeps: number[];

/** The client as steer53 builds it; the waits its retry strategy asks for are recorded in `sleeps`, not slept. */
function route53Client(retries: Partial<BoundedRetryStrategyOptions> = {}): Route53Client {
  const options = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5, ...retries };
  const client = new Route53Client({
    region: 'us-east-1',
    credentials: testCredentials,
    maxAttempts: options.maxAttempts,
    retryStrategy: recordingWaits(new BoundedRetryStrategy(options), sleeps),
  });
  return answerBelowRetries(client, route53Service, [ListResourceRecordSetsCommand, ChangeResourceRecordSetsCommand]);
}

let adapter: Route53Weights;

beforeEach(() => {
  route53.reset();
  sleeps = [];
  adapter = new Route53Weights({ client: route53Client() });
});

describe('Class: Route53Weights', () => {
  describe('Method: readWeights', () => {
    it('pages through ListResourceRecordSets and stops at the next name', async () => {
      route53
        .on(ListResourceRecordSetsCommand, { StartRecordName: 'chat.example.com.', StartRecordType: 'A' })
        .resolves({
          ResourceRecordSets: [weighted('us-east-1', 100)],
          IsTruncated: true,
          NextRecordName: 'chat.example.com.',
          NextRecordType: 'A',
          NextRecordIdentifier: 'eu-west-1',
          MaxItems: 1,
        })
        .on(ListResourceRecordSetsCommand, { StartRecordIdentifier: 'eu-west-1' })
        .resolves({
          ResourceRecordSets: [
            weighted('eu-west-1', 50),
            { Name: 'chat.example.com.', Type: 'AAAA', SetIdentifier: 'x', Weight: 1, TTL: 60 },
            weighted('other', 7, { Name: 'docs.example.com.' }),
          ],
          IsTruncated: true,
          NextRecordName: 'zzz.example.com.',
          NextRecordType: 'A',
          MaxItems: 3,
        });
      expect((await adapter.readWeights(chat)).weights).toEqual({ 'us-east-1': 100, 'eu-west-1': 50 });
      expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(2);
      expect(route53.commandCalls(ListResourceRecordSetsCommand)[1]!.args[0].input).toEqual({
        HostedZoneId: ZONE,
        StartRecordName: 'chat.example.com.',
        StartRecordType: 'A',
        StartRecordIdentifier: 'eu-west-1',
      });
    });

    it('ignores records of the name that are not weighted', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [weighted('a', 10), { Name: 'chat.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] }],
        IsTruncated: false,
        MaxItems: 100,
      });
      expect((await adapter.readWeights(chat)).weights).toEqual({ a: 10 });
    });

    it("tells each weighted record's HealthCheckId by SetIdentifier, whoever attached it, and nothing for records without one", async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [
          weighted('us-east-1', 100, { HealthCheckId: 'hc-use1' }),
          weighted('eu-west-1', 50),
          weighted('__proto__', 10, { HealthCheckId: 'hc-proto' }),
          // Not weighted: not one of the records the controller reads.
          { Name: 'chat.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }], HealthCheckId: 'hc-simple' },
        ],
        IsTruncated: false,
        MaxItems: 100,
      });
      const read = await adapter.readWeights(chat);
      expect(read.healthChecks).toEqual(
        Object.fromEntries([
          ['us-east-1', 'hc-use1'],
          ['__proto__', 'hc-proto'],
        ]),
      );
      // "__proto__" is a plain key of its own, not the object's prototype.
      expect(Object.hasOwn(read.healthChecks!, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(read.healthChecks)).toBe(Object.prototype);
    });

    it('has no healthChecks when no weighted record has a health check', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10), weighted('b', 20)], IsTruncated: false, MaxItems: 100 });
      expect(await adapter.readWeights(chat)).not.toHaveProperty('healthChecks');
    });
  });

  describe('Method: readZone', () => {
    /** A zone Route 53 lists page by page (at most `maxItems` a page), counting the calls. */
    function zone(records: ResourceRecordSet[], maxItems = 300) {
      const sorted = sortRecords(records);
      route53.on(ListResourceRecordSetsCommand).callsFake((input) => listPage(sorted, { ...input, MaxItems: maxItems }));
      return { calls: () => route53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input) };
    }
    const named = (name: string, id: string, weight: number, type: 'A' | 'AAAA' = 'A') => weighted(id, weight, { Name: `${name}.`, Type: type });
    const ref = (dnsName: string, recordType = 'A') => ({ hostedZoneId: ZONE, dnsName, recordType });

    it('reads every asked record set of the zone in one listing, starting at the first of them', async () => {
      const listing = zone([
        named('www.example.com', 'w', 1),
        named('a.example.com', 'x', 10),
        named('a.example.com', 'y', 20),
        named('b.example.com', 'x', 30),
        named('b.example.com', 'x6', 31, 'AAAA'),
        named('c.example.com', 'x', 40),
        { Name: 'b.example.com.', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"v=spf1"' }] },
      ]);
      const read = await adapter.readZone(ZONE, [ref('c.example.com'), ref('a.example.com'), ref('b.example.com'), ref('b.example.com', 'AAAA')]);
      expect(Object.fromEntries([...read].map(([key, r]) => [key, r.weights]))).toEqual({
        [recordSetKey(ref('a.example.com'))]: { x: 10, y: 20 },
        [recordSetKey(ref('b.example.com'))]: { x: 30 },
        [recordSetKey(ref('b.example.com', 'AAAA'))]: { x6: 31 },
        [recordSetKey(ref('c.example.com'))]: { x: 40 },
      });
      expect(listing.calls()).toEqual([{ HostedZoneId: ZONE, StartRecordName: 'a.example.com.', StartRecordType: 'A' }]);
    });

    it('pages on while a record set runs over a page, with the next record identifier', async () => {
      const listing = zone(
        Array.from({ length: 7 }, (_, i) => named('chat.example.com', `r${i}`, i)),
        3,
      );
      const read = await adapter.readZone(ZONE, [ref('chat.example.com')]);
      expect(Object.keys(read.get(recordSetKey(ref('chat.example.com')))!.weights)).toHaveLength(7);
      expect(listing.calls().map((c) => c.StartRecordIdentifier)).toEqual([undefined, 'r3', 'r6']);
    });

    it('jumps over the records of other names instead of listing them', async () => {
      const others = Array.from({ length: 1000 }, (_, i) => named(`m${String(i).padStart(4, '0')}.example.com`, 'x', 1));
      const listing = zone([named('a.example.com', 'x', 1), ...others, named('z.example.com', 'x', 2)]);
      const read = await adapter.readZone(ZONE, [ref('a.example.com'), ref('z.example.com')]);
      expect(read.get(recordSetKey(ref('z.example.com')))!.weights).toEqual({ x: 2 });
      // One page from a (a and 299 others), then straight to z: 2 calls, not 4.
      expect(listing.calls().map((c) => c.StartRecordName)).toEqual(['a.example.com.', 'z.example.com.']);
    });

    it('reads right whatever order Route 53 lists names in ("chat-1" and "x.chat" sort either way)', async () => {
      const listing = zone([named('chat-1.example.com', 'a', 1), named('x.chat.example.com', 'b', 2), named('chat.example.com', 'c', 3)], 1);
      const asked = [ref('x.chat.example.com'), ref('chat-1.example.com'), ref('chat.example.com')];
      const read = await adapter.readZone(ZONE, asked);
      expect(asked.map((r) => read.get(recordSetKey(r))!.weights)).toEqual([{ b: 2 }, { a: 1 }, { c: 3 }]);
      expect(listing.calls().length).toBeLessThanOrEqual(4);
    });

    it('tells the health checks of each record set with its weights', async () => {
      zone([
        named('a.example.com', 'x', 1),
        weighted('y', 2, { Name: 'a.example.com.', HealthCheckId: 'hc-ay' }),
        weighted('x', 3, { Name: 'b.example.com.', HealthCheckId: 'hc-bx' }),
      ]);
      const read = await adapter.readZone(ZONE, [ref('a.example.com'), ref('b.example.com')]);
      expect(read.get(recordSetKey(ref('a.example.com')))).toMatchObject({ weights: { x: 1, y: 2 }, healthChecks: { y: 'hc-ay' } });
      expect(read.get(recordSetKey(ref('b.example.com')))).toMatchObject({ weights: { x: 3 }, healthChecks: { x: 'hc-bx' } });
    });

    it('reads a record set the zone does not hold as having no weights', async () => {
      zone([named('a.example.com', 'x', 1)]);
      const read = await adapter.readZone(ZONE, [ref('a.example.com'), ref('gone.example.com')]);
      expect(read.get(recordSetKey(ref('gone.example.com')))!.weights).toEqual({});
      expect(read.get(recordSetKey(ref('a.example.com')))!.weights).toEqual({ x: 1 });
    });

    it('hands out a snapshot per record set that a write of that record set trusts, and no other', async () => {
      const listing = zone([named('a.example.com', 'x', 1, 'A'), named('b.example.com', 'x', 1, 'A')]);
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } });
      const read = await adapter.readZone(ZONE, [ref('a.example.com'), ref('b.example.com')]);
      await adapter.writeWeights([{ record: ref('a.example.com'), weights: { x: 5 }, basedOn: read.get(recordSetKey(ref('a.example.com')))!.snapshot }], 'c');
      expect(listing.calls()).toHaveLength(1);
      await adapter.writeWeights([{ record: ref('b.example.com'), weights: { x: 5 }, basedOn: read.get(recordSetKey(ref('a.example.com')))!.snapshot }], 'c');
      expect(listing.calls()).toHaveLength(2);
    });

    it('refuses record sets of another zone before any call', async () => {
      const listing = zone([]);
      await expect(adapter.readZone(ZONE, [{ hostedZoneId: 'ZOTHER', dnsName: 'a.example.org', recordType: 'A' }])).rejects.toThrow(
        'readZone(Z0123456789EXAMPLE) was given record sets of other zones: a.example.org A (ZOTHER)',
      );
      expect(listing.calls()).toHaveLength(0);
    });
  });

  describe('Method: writeWeights', () => {
    it('UPSERTs a copy of each record with only the weight changed (TTL, values, health check, everything kept)', async () => {
      const withHealthCheck = weighted('us-east-1', 100, {
        HealthCheckId: 'abcdef12-3456-7890-abcd-ef1234567890',
        TTL: 30,
        ResourceRecords: [{ Value: '192.0.2.10' }, { Value: '192.0.2.11' }],
      });
      const alias = {
        Name: 'chat.example.com.',
        Type: 'A' as const,
        SetIdentifier: 'eu-west-1',
        Weight: 100,
        AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: 'my-alb-123.eu-west-1.elb.amazonaws.com.', EvaluateTargetHealth: true },
      };
      const untouched = weighted('ap-northeast-1', 50);
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [withHealthCheck, alias, untouched], IsTruncated: false, MaxItems: 100 });
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } });

      const result = await adapter.writeWeights([{ record: chat, weights: { 'us-east-1': 40, 'eu-west-1': 160 } }], 'steer53 chat decision d-1');

      expect(result).toEqual({ changeIds: ['/change/C1'] });
      const calls = route53.commandCalls(ChangeResourceRecordSetsCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input).toEqual({
        HostedZoneId: ZONE,
        ChangeBatch: {
          Comment: 'steer53 chat decision d-1',
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: { ...withHealthCheck, Weight: 40 } },
            { Action: 'UPSERT', ResourceRecordSet: { ...alias, Weight: 160 } },
          ],
        },
      });
    });

    it('writes from the snapshot of a read moments ago without listing again', async () => {
      route53
        .on(ListResourceRecordSetsCommand)
        .resolves({ ResourceRecordSets: [weighted('a', 10, { HealthCheckId: 'hc' })], IsTruncated: false, MaxItems: 100 });
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } });
      const read = await adapter.readWeights(chat);
      await adapter.writeWeights([{ record: chat, weights: { a: 5 }, basedOn: read.snapshot }], 'x');
      expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch!.Changes).toEqual([
        { Action: 'UPSERT', ResourceRecordSet: { ...weighted('a', 10, { HealthCheckId: 'hc' }), Weight: 5 } },
      ]);
    });

    it.each([
      ['a snapshot of another record set', async () => (await adapter.readWeights({ ...chat, dnsName: 'docs.example.com' })).snapshot],
      ['something it did not hand out', async () => [weighted('a', 99, { TTL: 1 })]],
    ])('lists again rather than trust %s', async (_, basedOn) => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10)], IsTruncated: false, MaxItems: 100 });
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } });
      const snapshot = await basedOn();
      const lists = route53.commandCalls(ListResourceRecordSetsCommand).length;
      await adapter.writeWeights([{ record: chat, weights: { a: 5 }, basedOn: snapshot }], 'x');
      expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(lists + 1);
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch!.Changes![0]!.ResourceRecordSet!.TTL).toBe(60);
    });

    it('sends one change batch per hosted zone, however many record sets change in it', async () => {
      const docs = { hostedZoneId: ZONE, dnsName: 'docs.example.com', recordType: 'A' };
      const other = { hostedZoneId: 'ZOTHERZONE123', dnsName: 'api.example.org', recordType: 'AAAA' };
      route53
        .on(ListResourceRecordSetsCommand, { StartRecordName: 'chat.example.com.' })
        .resolves({ ResourceRecordSets: [weighted('a', 1), weighted('b', 1)], IsTruncated: false, MaxItems: 100 });
      route53
        .on(ListResourceRecordSetsCommand, { StartRecordName: 'docs.example.com.' })
        .resolves({ ResourceRecordSets: [weighted('a', 1, { Name: 'docs.example.com.' })], IsTruncated: false, MaxItems: 100 });
      route53.on(ListResourceRecordSetsCommand, { StartRecordName: 'api.example.org.' }).resolves({
        ResourceRecordSets: [{ Name: 'api.example.org.', Type: 'AAAA', SetIdentifier: 'a', Weight: 1, TTL: 60, ResourceRecords: [{ Value: '2001:db8::1' }] }],
        IsTruncated: false,
        MaxItems: 100,
      });
      route53
        .on(ChangeResourceRecordSetsCommand)
        .callsFake((input: { HostedZoneId: string }) => ({ ChangeInfo: { Id: `/change/${input.HostedZoneId}`, Status: 'PENDING', SubmittedAt: new Date(0) } }));

      const result = await adapter.writeWeights(
        [
          { record: chat, weights: { a: 2, b: 3 } },
          { record: other, weights: { a: 9 } },
          { record: docs, weights: { a: 4 } },
        ],
        'tick',
      );
      const calls = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
      expect(
        calls.map((c) => [
          c.HostedZoneId,
          c.ChangeBatch!.Changes!.map((ch) => `${ch.ResourceRecordSet!.Name} ${ch.ResourceRecordSet!.SetIdentifier}=${ch.ResourceRecordSet!.Weight}`),
        ]),
      ).toEqual([
        [ZONE, ['chat.example.com. a=2', 'chat.example.com. b=3', 'docs.example.com. a=4']],
        ['ZOTHERZONE123', ['api.example.org. a=9']],
      ]);
      expect(result.changeIds).toEqual([`/change/${ZONE}`, '/change/ZOTHERZONE123']);
    });

    it('splits a zone into batches of at most 1,000 record values (an UPSERT counts each value twice)', async () => {
      const sets = Array.from({ length: 600 }, (_, i) => weighted(`r${i}`, 1));
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: sets, IsTruncated: false, MaxItems: 1000 });
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C', Status: 'PENDING', SubmittedAt: new Date(0) } });
      await adapter.writeWeights([{ record: chat, weights: Object.fromEntries(sets.map((s) => [s.SetIdentifier!, 2])) }], 'big');
      const sizes = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!.Changes!.length);
      expect(sizes).toEqual([500, 100]);
    });

    it('keeps every request within 32,000 value characters: 8 CNAME services × 60 records go in two requests', async () => {
      const target = `${'x'.repeat(42)}.example.net.`; // 55 characters
      const names = Array.from({ length: 8 }, (_, s) => `svc${s}.example.com`);
      const sets = names.flatMap((name) =>
        Array.from({ length: 60 }, (_, i) => ({
          Name: `${name}.`,
          Type: 'CNAME' as const,
          SetIdentifier: `r${i}`,
          Weight: 1,
          TTL: 60,
          ResourceRecords: [{ Value: target }],
        })),
      );
      const sorted = sortRecords(sets);
      route53.on(ListResourceRecordSetsCommand).callsFake((input) => listPage(sorted, input));
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C', Status: 'PENDING', SubmittedAt: new Date(0) } });
      await adapter.writeWeights(
        names.map((dnsName) => ({
          record: { hostedZoneId: ZONE, dnsName, recordType: 'CNAME' },
          weights: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`r${i}`, 2])),
        })),
        'eight services',
      );
      const requests = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!.Changes!);
      // As Route 53 counts them: an UPSERT counts each value and each character twice.
      const characters = requests.map((changes) => changes.reduce((sum, c) => sum + 2 * c.ResourceRecordSet!.ResourceRecords![0]!.Value!.length, 0));
      expect(characters).toEqual([31_900, 20_900]);
      expect(requests.flat()).toHaveLength(480);
    });

    it('leaves records already at their weight out of the batch, and sends nothing when none change', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10), weighted('b', 20)], IsTruncated: false, MaxItems: 100 });
      route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C', Status: 'PENDING', SubmittedAt: new Date(0) } });
      expect(await adapter.writeWeights([{ record: chat, weights: { a: 10, b: 20 } }], 'noop')).toEqual({ changeIds: [] });
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    });

    it('refuses to write a record that does not exist, naming it, and writes nothing', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10)], IsTruncated: false, MaxItems: 100 });
      await expect(adapter.writeWeights([{ record: chat, weights: { a: 5, ghost: 5 } }], 'x')).rejects.toThrow(RecordNotFoundError);
      await expect(adapter.writeWeights([{ record: chat, weights: { a: 5, ghost: 5 } }], 'x')).rejects.toThrow('SetIdentifier "ghost"');
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    });

    it.each(['Throttling', 'PriorRequestNotComplete'])('lets the SDK retry %s with exponential backoff and full jitter, then succeeds', async (name) => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10)], IsTruncated: false, MaxItems: 100 });
      route53
        .on(ChangeResourceRecordSetsCommand)
        .rejectsOnce(throttling(name))
        .rejectsOnce(throttling(name))
        .resolves({ ChangeInfo: { Id: '/change/C9', Status: 'PENDING', SubmittedAt: new Date(0) } });
      expect(await adapter.writeWeights([{ record: chat, weights: { a: 5 } }], 'x')).toEqual({ changeIds: ['/change/C9'] });
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
      // random() = 0.5 → half of min(cap, base × 2^n).
      expect(sleeps).toEqual([50, 100]);
    });

    it('gives up after the bounded number of attempts with a retryable error saying so', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10)], IsTruncated: false, MaxItems: 100 });
      route53.on(ChangeResourceRecordSetsCommand).rejects(throttling());
      const error = await adapter.writeWeights([{ record: chat, weights: { a: 5 } }], 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as Route53RetriesExhaustedError).retryable).toBe(true);
      expect((error as Error).message).toBe(
        'route53:ChangeResourceRecordSets on hosted zone Z0123456789EXAMPLE failed: Throttling: Rate exceeded (gave up after 4 attempts)',
      );
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(4);
      expect(sleeps).toEqual([50, 100, 200]);
    });

    it('caps the backoff delay', async () => {
      const capped = new Route53Weights({ client: route53Client({ maxAttempts: 8, random: () => 0.999 }) });
      route53.on(ListResourceRecordSetsCommand).rejects(throttling());
      await expect(capped.readWeights(chat)).rejects.toThrow(Route53RetriesExhaustedError);
      expect(sleeps).toEqual([99, 199, 399, 799, 999, 999, 999]);
    });

    it('retries no further when another attempt could outlast the invocation', async () => {
      let now = 0;
      const bounded = new Route53Weights({
        // The clock reads 350, 700, 1050 ms at the retries; 4 s deadline less 3 s margin: 350 + 100 and
        // 700 + 200 end before 1000 ms, 1050 + 400 does not.
        client: route53Client({ maxAttempts: 6, deadline: () => 4000, now: () => (now += 350) }),
      });
      route53.on(ListResourceRecordSetsCommand).rejects(throttling('PriorRequestNotComplete'));
      const error = await bounded.readWeights(chat).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as Error).message).toContain('(gave up after 3 attempts)');
      expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(3);
      expect(sleeps).toEqual([50, 100]);
    });

    it('does not retry an error a retry cannot fix', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [weighted('a', 10)], IsTruncated: false, MaxItems: 100 });
      route53
        .on(ChangeResourceRecordSetsCommand)
        .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
      const error = await adapter.writeWeights([{ record: chat, weights: { a: 5 } }], 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsCallError);
      expect(error).not.toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as AwsCallError).retryable).toBe(false);
      expect((error as AwsCallError).awsErrorName).toBe('AccessDenied');
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });
  });

  describe('Function: normaliseDnsName', () => {
    it.each([
      ['Chat.Example.com.', 'chat.example.com'],
      ['\\052.example.com.', '*.example.com'],
      ['chat.example.com', 'chat.example.com'],
    ])('%s → %s', (input, expected) => expect(normaliseDnsName(input)).toBe(expected));
  });
});
