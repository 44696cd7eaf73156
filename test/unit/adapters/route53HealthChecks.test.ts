import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetHealthCheckStatusCommand, Route53Client, type HealthCheckObservation } from '@aws-sdk/client-route-53';
import { Route53HealthChecks, verdictOf } from '../../../functions/adapters/aws/route53HealthChecks.js';
import { AwsCallError, Route53RetriesExhaustedError } from '../../../functions/adapters/aws/errors.js';
import { BoundedRetryStrategy } from '../../../functions/adapters/aws/retryStrategy.js';
import { pacedClient, route53Costs } from '../../../functions/adapters/aws/pacedClients.js';
import { AwsApiRates, Pacer, type ApiRates } from '../../../functions/adapters/aws/pacing.js';
import { answerBelowRetries, recordingWaits, testCredentials } from '../../support/belowRetries.js';

// Route 53 as the mock answers it, below the SDK's retry middleware of the client under test.
const route53Service = new Route53Client({ region: 'us-east-1', credentials: testCredentials });
const route53 = mockClient(route53Service);

/** `healthy` checkers reporting Success and `total - healthy` reporting Failure, as Route 53 words them. */
function observations(healthy: number, total: number): HealthCheckObservation[] {
  return Array.from({ length: total }, (_, i) => ({
    Region: 'us-east-1',
    IPAddress: `15.177.0.${i}`,
    StatusReport: {
      Status: i < healthy ? 'Success: HTTP Status Code 200, OK' : 'Failure: Connection timed out. The endpoint or the internet connection is down.',
      CheckedTime: new Date('2026-01-01T00:10:00Z'),
    },
  }));
}

let sleeps: number[];

function client(maxAttempts = 3): Route53Client {
  return answerBelowRetries(
    new Route53Client({
      region: 'us-east-1',
      credentials: testCredentials,
      maxAttempts,
      retryStrategy: recordingWaits(new BoundedRetryStrategy({ maxAttempts, baseDelayMs: 100, maxDelayMs: 100, random: () => 0.5 }), sleeps),
    }),
    route53Service,
    [GetHealthCheckStatusCommand],
  );
}

beforeEach(() => {
  route53.reset();
  sleeps = [];
});

describe('Function: verdictOf', () => {
  it.each([
    ['healthy when more than 18% of the checkers report Success (3 of 16: 18.75%)', 3, 16, 'healthy'],
    ['unhealthy at 18% or fewer (2 of 16: 12.5%)', 2, 16, 'unhealthy'],
    ['healthy when every checker reports Success', 16, 16, 'healthy'],
    ['unhealthy when none does', 0, 16, 'unhealthy'],
    ['unhealthy at exactly 18% (9 of 50): Route 53 wants more than 18%', 9, 50, 'unhealthy'],
    ['healthy just above it (10 of 50)', 10, 50, 'healthy'],
    ['unhealthy at exactly 18 of 100', 18, 100, 'unhealthy'],
    ['no verdict without a single report (a check no checker has reported on yet)', 0, 0, undefined],
  ])('%s', (_name, healthy, total, verdict) => {
    expect(verdictOf(observations(healthy, total))).toBe(verdict);
  });

  it('counts a report without a status, or with one not starting "Success", as not healthy', () => {
    const odd: HealthCheckObservation[] = [{ Region: 'eu-west-1' }, { StatusReport: { Status: 'success: lower case' } }, { StatusReport: {} }];
    expect(verdictOf([...odd, ...observations(0, 1)])).toBe('unhealthy');
    expect(verdictOf([...odd, { StatusReport: { Status: 'Success: HTTP Status Code 200, OK' } }])).toBe('healthy');
  });
});

describe('Class: Route53HealthChecks', () => {
  describe('Method: statusOf', () => {
    it('asks GetHealthCheckStatus for the health check id and answers with its verdict', async () => {
      route53
        .on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-up' })
        .resolves({ HealthCheckObservations: observations(3, 16) })
        .on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-down' })
        .resolves({ HealthCheckObservations: observations(2, 16) });
      const adapter = new Route53HealthChecks({ client: client() });

      const statuses = [await adapter.statusOf('hc-up'), await adapter.statusOf('hc-down')];

      expect(route53.commandCalls(GetHealthCheckStatusCommand).map((call) => call.args[0].input)).toEqual([
        { HealthCheckId: 'hc-up' },
        { HealthCheckId: 'hc-down' },
      ]);
      expect(statuses).toEqual(['healthy', 'unhealthy']);
    });

    it('has no verdict for a health check no checker has reported on, nor for one without observations in the answer', async () => {
      route53
        .on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-new' })
        .resolves({ HealthCheckObservations: [] })
        .on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-bare' })
        .resolves({});
      const adapter = new Route53HealthChecks({ client: client() });
      expect(await adapter.statusOf('hc-new')).toBeUndefined();
      expect(await adapter.statusOf('hc-bare')).toBeUndefined();
    });

    it('retries throttling as the weights do, and says a later try may succeed when the retries run out', async () => {
      route53.on(GetHealthCheckStatusCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
      const error = await new Route53HealthChecks({ client: client(3) }).statusOf('hc-1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as AwsCallError).retryable).toBe(true);
      expect((error as Error).message).toMatch(/^route53:GetHealthCheckStatus on health check hc-1 failed: Throttling/);
      expect(route53.commandCalls(GetHealthCheckStatusCommand)).toHaveLength(3);
    });

    it('translates access denied into an AwsCallError that a retry will not mend', async () => {
      route53
        .on(GetHealthCheckStatusCommand)
        .rejects(
          Object.assign(new Error('not authorized to perform route53:GetHealthCheckStatus'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
        );
      const error = await new Route53HealthChecks({ client: client(3) }).statusOf('hc-1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsCallError);
      expect(error).not.toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as AwsCallError).awsErrorName).toBe('AccessDenied');
      expect((error as AwsCallError).retryable).toBe(false);
      expect(route53.commandCalls(GetHealthCheckStatusCommand)).toHaveLength(1);
    });

    it("takes a token of Route 53's request bucket per call, when given the runtime's paced client", async () => {
      route53.on(GetHealthCheckStatusCommand).resolves({ HealthCheckObservations: observations(16, 16) });
      const now = 0;
      const slept: number[] = [];
      const pacer = new Pacer({ now: () => now, sleep: async (ms) => void slept.push(ms) });
      const rates: ApiRates = { ...AwsApiRates, route53: { requests: { perSecond: 2, burst: 1 }, changes: AwsApiRates.route53.changes } };
      const paced = answerBelowRetries(
        pacedClient(new Route53Client({ region: 'us-east-1', credentials: testCredentials, maxAttempts: 1 }), pacer, route53Costs(pacer, rates)),
        route53Service,
        [GetHealthCheckStatusCommand],
      );
      const adapter = new Route53HealthChecks({ client: paced });
      await Promise.all([adapter.statusOf('hc-1'), adapter.statusOf('hc-2')]);
      // The bucket holds one token, refilled at two a second: the second call waits half a second.
      expect(slept).toEqual([500]);
    });
  });
});
