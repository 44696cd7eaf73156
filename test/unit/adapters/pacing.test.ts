import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { AwsApiRates, Pacer, RateBudgetExhaustedError, TokenBucket, shareOf, type ApiRates } from '../../../functions/adapters/aws/pacing.js';
import { pacedClient, route53Costs } from '../../../functions/adapters/aws/pacedClients.js';
import { BoundedRetryStrategy } from '../../../functions/adapters/aws/retryStrategy.js';
import { CloudWatchClients } from '../../../functions/adapters/aws/cloudWatchClients.js';
import { answerBelowRetries, recordingWaits, testCredentials } from '../../support/belowRetries.js';
import { Route53Weights } from '../../../functions/adapters/aws/route53Weights.js';
import { AwsCallError } from '../../../functions/adapters/aws/errors.js';

/** A pacer on a clock that only moves when it sleeps: every wait is recorded, none is slept. */
function virtualPacer(deadline?: number) {
  let now = 0;
  const slept: number[] = [];
  const pacer = new Pacer({
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...(deadline !== undefined ? { deadline: () => deadline } : {}),
  });
  return { pacer, slept, advance: (ms: number) => (now += ms) };
}

describe('Class: TokenBucket', () => {
  it.each([
    ['a full bucket lets its burst through at once', { perSecond: 10, burst: 50 }, 50, 0],
    ['the call after the burst waits one refill interval', { perSecond: 10, burst: 50 }, 51, 100],
    ['ten past the burst wait a second', { perSecond: 10, burst: 50 }, 60, 1000],
    ['a fractional rate (a share of the account) waits longer', { perSecond: 0.8, burst: 4 }, 5, 1250],
  ])('%s', (_, rate, calls, lastWait) => {
    const bucket = new TokenBucket(rate, 0);
    const waits = Array.from({ length: calls }, () => bucket.reserve(1, 0));
    expect(waits.at(-1)).toBe(lastWait);
    // Waits only grow: callers are served in the order they asked.
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
  });

  it('refills with time up to its burst, no further', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, 0);
    for (let i = 0; i < 5; i += 1) bucket.reserve(1, 0);
    expect(bucket.waitFor(1, 0)).toBe(100);
    expect(bucket.waitFor(5, 500)).toBe(0);
    expect(bucket.waitFor(6, 60_000)).toBe(100);
  });

  it('refuses a rate it cannot keep, saying which', () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 5 }, 0)).toThrow('a token bucket needs perSecond > 0 and burst ≥ 1, got {"perSecond":0,"burst":5}');
  });
});

describe('Class: Pacer', () => {
  it('waits for the slowest of the buckets a call counts against', async () => {
    const { pacer, slept } = virtualPacer();
    const requests = pacer.bucket({ perSecond: 10, burst: 50 });
    const changes = pacer.bucket({ perSecond: 100, burst: 100 });
    await pacer.take('change', [
      { bucket: requests, tokens: 1 },
      { bucket: changes, tokens: 300 },
    ]);
    expect(slept).toEqual([2000]);
    expect(pacer.waits).toBe(1);
  });

  it('refuses a call whose turn comes after the deadline, and takes no tokens for it', async () => {
    const { pacer, slept } = virtualPacer(4500);
    const bucket = pacer.bucket({ perSecond: 1, burst: 1 });
    await pacer.take('first', [{ bucket, tokens: 1 }]);
    await pacer.take('second', [{ bucket, tokens: 1 }]); // waits 1 s: with the 3 s margin, ends before the deadline
    const refused = await pacer.take('third', [{ bucket, tokens: 1 }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateBudgetExhaustedError);
    expect((refused as Error).message).toBe("third would wait 2000 ms for its turn under the paced rate, past this invocation's deadline: not called");
    expect(slept).toEqual([1000]);
    expect(bucket.waitFor(1, 0)).toBe(2000);
  });
});

describe('Function: shareOf', () => {
  it('divides every rate, keeping at least one token of burst', () => {
    const tenth = shareOf(AwsApiRates, 0.1);
    expect(tenth.route53.requests).toEqual({ perSecond: 1, burst: 5 });
    expect(tenth.cloudWatch.describeAlarms).toEqual({ perSecond: 0.9, burst: 1 });
  });
});

describe('Function: pacedClient', () => {
  const route53Service = new Route53Client({ region: 'us-east-1', credentials: testCredentials });
  const route53 = mockClient(route53Service);
  const rates: ApiRates = { ...AwsApiRates, route53: { requests: { perSecond: 2, burst: 1 }, changes: { perSecond: 10, burst: 10 } } };

  it('paces every attempt, retries included, inside the SDK retry loop', async () => {
    route53.reset();
    route53
      .on(ListResourceRecordSetsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }))
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 300 });
    const { pacer, slept } = virtualPacer();
    const retryWaits: number[] = [];
    const client = answerBelowRetries(
      pacedClient(
        new Route53Client({
          region: 'us-east-1',
          credentials: testCredentials,
          maxAttempts: 3,
          retryStrategy: recordingWaits(new BoundedRetryStrategy({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 100, random: () => 0 }), retryWaits),
        }),
        pacer,
        route53Costs(pacer, rates),
      ),
      route53Service,
      [ListResourceRecordSetsCommand],
    );
    await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }));
    expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(2);
    // The retry (the SDK's backoff, 0 here) took a second token: it waited half a second for it.
    expect(retryWaits).toEqual([0]);
    expect(slept).toEqual([500]);
  });

  it('sends nothing when the turn would come past the deadline, and the adapter says a later try may succeed', async () => {
    route53.reset();
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 300 });
    const { pacer } = virtualPacer(2000);
    const client = answerBelowRetries(
      pacedClient(new Route53Client({ region: 'us-east-1', credentials: testCredentials, maxAttempts: 1 }), pacer, route53Costs(pacer, rates)),
      route53Service,
      [ListResourceRecordSetsCommand],
    );
    const adapter = new Route53Weights({ client });
    await adapter.readWeights({ hostedZoneId: 'Z1', dnsName: 'a.example.com', recordType: 'A' });
    const error = await adapter.readWeights({ hostedZoneId: 'Z1', dnsName: 'b.example.com', recordType: 'A' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).retryable).toBe(true);
    expect((error as Error).message).toContain('RateBudgetExhaustedError');
    expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('takes a change token per Change of a change batch', async () => {
    route53.reset();
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C', Status: 'PENDING', SubmittedAt: new Date(0) } });
    const { pacer, slept } = virtualPacer();
    const client = answerBelowRetries(
      pacedClient(
        new Route53Client({ region: 'us-east-1', credentials: testCredentials }),
        pacer,
        route53Costs(pacer, { ...rates, route53: { ...rates.route53, requests: { perSecond: 10, burst: 10 } } }),
      ),
      route53Service,
      [ChangeResourceRecordSetsCommand],
    );
    const changes = Array.from({ length: 30 }, (_, i) => ({
      Action: 'UPSERT' as const,
      ResourceRecordSet: { Name: 'a.example.com.', Type: 'A' as const, SetIdentifier: `r${i}`, Weight: 1, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] },
    }));
    await client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z1', ChangeBatch: { Changes: changes } }));
    // 30 changes against a bucket of 10 refilled at 10 a second: two seconds.
    expect(slept).toEqual([2000]);
  });

  it('gives each CloudWatch region its own buckets, as CloudWatch quotas are regional', async () => {
    const cloudwatchService = new CloudWatchClient({ region: 'us-east-1', credentials: testCredentials });
    const cloudwatch = mockClient(cloudwatchService);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const { pacer, slept } = virtualPacer();
    const clients = new CloudWatchClients({
      createClient: (c) =>
        answerBelowRetries(new CloudWatchClient({ region: c.region, credentials: testCredentials }), cloudwatchService, [
          GetMetricDataCommand,
          DescribeAlarmsCommand,
        ]),
      pacing: { pacer, rates: { ...AwsApiRates, cloudWatch: { getMetricData: { perSecond: 1, burst: 1 }, describeAlarms: { perSecond: 1, burst: 1 } } } },
    });
    const query = { MetricDataQueries: [], StartTime: new Date(0), EndTime: new Date(60_000) };
    await clients.clientFor('eu-west-1').send(new GetMetricDataCommand(query));
    await clients.clientFor('us-east-1').send(new GetMetricDataCommand(query));
    await clients.clientFor('us-east-1').send(new DescribeAlarmsCommand({}));
    expect(slept).toEqual([]);
    await clients.clientFor('eu-west-1').send(new GetMetricDataCommand(query));
    expect(slept).toEqual([1000]);
  });
});
