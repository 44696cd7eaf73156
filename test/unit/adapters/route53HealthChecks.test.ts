import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetHealthCheckCommand,
  GetHealthCheckLastFailureReasonCommand,
  GetHealthCheckStatusCommand,
  type HealthCheckConfig,
  type HealthCheckObservation,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CONFIG_TTL_MS, calculatedVerdictOf, failedSince, Route53HealthChecks, verdictOf } from '../../../functions/adapters/aws/route53HealthChecks.js';
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
    [GetHealthCheckCommand, GetHealthCheckStatusCommand, GetHealthCheckLastFailureReasonCommand],
  );
}

/** Route 53 answers GetHealthCheck on `id` with this configuration (an HTTPS check unless `config` says otherwise). */
function configured(id: string, config: Partial<HealthCheckConfig> = {}): void {
  route53
    .on(GetHealthCheckCommand, { HealthCheckId: id })
    .resolves({ HealthCheck: { Id: id, CallerReference: `ref-${id}`, HealthCheckVersion: 1, HealthCheckConfig: { Type: 'HTTPS', ...config } } });
}

/** Route 53 answers GetHealthCheckStatus on `id` with `healthy` of `total` checkers reporting Success. */
function reporting(id: string, healthy: number, total = 16): void {
  route53.on(GetHealthCheckStatusCommand, { HealthCheckId: id }).resolves({ HealthCheckObservations: observations(healthy, total) });
}

/** The health check ids of the GetHealthCheck and of the GetHealthCheckStatus requests sent, each in order. */
function sent(): { config: unknown[]; status: unknown[] } {
  return {
    config: route53.commandCalls(GetHealthCheckCommand).map((call) => call.args[0].input),
    status: route53.commandCalls(GetHealthCheckStatusCommand).map((call) => call.args[0].input),
  };
}

const ids = (...list: string[]) => list.map((HealthCheckId) => ({ HealthCheckId }));

let now: number;

function adapter(maxAttempts = 3): Route53HealthChecks {
  return new Route53HealthChecks({ client: client(maxAttempts), now: () => now });
}

beforeEach(() => {
  route53.reset();
  sleeps = [];
  now = Date.parse('2026-01-01T00:10:00Z');
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

  it('has no verdict when no report says Success or Failure (checkers that report Unknown or InsufficientDataPoints)', () => {
    const undecided: HealthCheckObservation[] = [
      { StatusReport: { Status: 'Unknown' } },
      { StatusReport: { Status: 'InsufficientDataPoints' } },
      { StatusReport: {} },
    ];
    expect(verdictOf(undecided)).toBeUndefined();
    // One checker that has decided gives a verdict, the others counted as not healthy (1 of 4: 25%).
    expect(verdictOf([...undecided, ...observations(1, 1)])).toBe('healthy');
    expect(verdictOf([...undecided, ...observations(0, 1)])).toBe('unhealthy');
  });
});

describe('Function: calculatedVerdictOf', () => {
  const H = 'healthy' as const;
  const U = 'unhealthy' as const;
  it.each([
    ['healthy when as many children as the threshold are healthy (2 of 2)', 2, [H, H], H],
    ['unhealthy when fewer are (1 of 2, threshold 2)', 2, [H, U], U],
    ['healthy when one of two is, at threshold 1', 1, [U, H], H],
    ['always healthy at threshold 0, even with every child unhealthy', 0, [U, U], H],
    ['always unhealthy at a threshold above the number of children, even with every child healthy', 3, [H, H], U],
    ['healthy when the healthy children reach the threshold whatever the unknown ones are', 1, [H, undefined], H],
    ['unhealthy when the healthy and the unknown children together cannot reach it', 2, [U, undefined], U],
    ['no verdict when the unknown children decide', 2, [H, undefined], undefined],
    ['no verdict when every child is unknown and the threshold does not decide alone', 1, [undefined, undefined], undefined],
  ])('%s', (_name, threshold, children, verdict) => {
    expect(calculatedVerdictOf({ HealthThreshold: threshold }, children)).toBe(verdict);
  });

  it('has no verdict without a threshold', () => {
    expect(calculatedVerdictOf({}, ['healthy', 'healthy'])).toBeUndefined();
  });
});

describe('Class: Route53HealthChecks', () => {
  describe('Method: statusOf', () => {
    it("reads an endpoint's health check configuration, then its status, and answers with the checkers' verdict", async () => {
      configured('hc-up', { Type: 'HTTP' });
      configured('hc-down', { Type: 'HTTP' });
      reporting('hc-up', 3);
      reporting('hc-down', 2);
      const health = adapter();

      const statuses = [await health.statusOf('hc-up'), await health.statusOf('hc-down')];

      expect(route53.calls().map((call) => [(call.args[0] as object).constructor.name, (call.args[0] as { input: object }).input])).toEqual([
        ['GetHealthCheckCommand', { HealthCheckId: 'hc-up' }],
        ['GetHealthCheckStatusCommand', { HealthCheckId: 'hc-up' }],
        ['GetHealthCheckCommand', { HealthCheckId: 'hc-down' }],
        ['GetHealthCheckStatusCommand', { HealthCheckId: 'hc-down' }],
      ]);
      expect(statuses).toEqual(['healthy', 'unhealthy']);
    });

    it('has no verdict for a health check no checker has reported on, nor for one without observations in the answer', async () => {
      configured('hc-new');
      configured('hc-bare');
      route53
        .on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-new' })
        .resolves({ HealthCheckObservations: [] })
        .on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-bare' })
        .resolves({});
      const health = adapter();
      expect(await health.statusOf('hc-new')).toBeUndefined();
      expect(await health.statusOf('hc-bare')).toBeUndefined();
    });

    it("swaps an inverted health check's verdict, and keeps no verdict as none", async () => {
      for (const id of ['hc-up', 'hc-down', 'hc-new']) configured(id, { Inverted: true });
      reporting('hc-up', 16);
      reporting('hc-down', 0);
      reporting('hc-new', 0, 0);
      const health = adapter();

      const statuses = [await health.statusOf('hc-up'), await health.statusOf('hc-down'), await health.statusOf('hc-new')];

      expect(statuses).toEqual(['unhealthy', 'healthy', undefined]);
      expect(sent()).toEqual({ config: ids('hc-up', 'hc-down', 'hc-new'), status: ids('hc-up', 'hc-down', 'hc-new') });
    });

    it('calls a disabled health check healthy without reading its status, whatever its checkers last said', async () => {
      configured('hc-off', { Disabled: true });
      reporting('hc-off', 0);
      expect(await adapter().statusOf('hc-off')).toBe('healthy');
      expect(sent()).toEqual({ config: ids('hc-off'), status: [] });
    });

    it('calls a disabled and inverted health check unhealthy, without reading its status', async () => {
      configured('hc-off', { Disabled: true, Inverted: true });
      reporting('hc-off', 16);
      expect(await adapter().statusOf('hc-off')).toBe('unhealthy');
      expect(sent()).toEqual({ config: ids('hc-off'), status: [] });
    });

    it("reads each child of a calculated health check, never the calculated one's status: healthy when 2 of 2 children are", async () => {
      configured('hc-calc', { Type: 'CALCULATED', ChildHealthChecks: ['hc-http', 'hc-latency'], HealthThreshold: 2 });
      configured('hc-http');
      configured('hc-latency', { Type: 'CLOUDWATCH_METRIC' });
      reporting('hc-http', 16);
      reporting('hc-latency', 16);

      expect(await adapter().statusOf('hc-calc')).toBe('healthy');
      expect(sent()).toEqual({ config: ids('hc-calc', 'hc-http', 'hc-latency'), status: ids('hc-http', 'hc-latency') });
    });

    it('calls a calculated health check unhealthy when fewer children than its threshold are healthy (1 of 2), healthy at threshold 1', async () => {
      configured('hc-both', { Type: 'CALCULATED', ChildHealthChecks: ['hc-http', 'hc-latency'], HealthThreshold: 2 });
      configured('hc-either', { Type: 'CALCULATED', ChildHealthChecks: ['hc-http', 'hc-latency'], HealthThreshold: 1 });
      configured('hc-http');
      configured('hc-latency', { Type: 'CLOUDWATCH_METRIC' });
      reporting('hc-http', 16);
      reporting('hc-latency', 0);
      const health = adapter();

      expect([await health.statusOf('hc-both'), await health.statusOf('hc-either')]).toEqual(['unhealthy', 'healthy']);
      // The children's configurations are kept from the first read; their statuses are read each time.
      expect(sent()).toEqual({ config: ids('hc-both', 'hc-http', 'hc-latency', 'hc-either'), status: ids('hc-http', 'hc-latency', 'hc-http', 'hc-latency') });
    });

    it('counts an inverted child by its inverted verdict, and swaps an inverted calculated one', async () => {
      const calculated: Partial<HealthCheckConfig> = { Type: 'CALCULATED', ChildHealthChecks: ['hc-http', 'hc-maintenance'], HealthThreshold: 2 };
      configured('hc-calc', calculated);
      configured('hc-calc-inverted', { ...calculated, Inverted: true });
      configured('hc-http');
      configured('hc-maintenance', { Inverted: true });
      reporting('hc-http', 16);
      reporting('hc-maintenance', 0);
      const health = adapter();
      // Both children are healthy, the second for being inverted: the calculated check is, and the inverted one is not.
      expect([await health.statusOf('hc-calc'), await health.statusOf('hc-calc-inverted')]).toEqual(['healthy', 'unhealthy']);
    });

    it('calls a calculated health check with threshold 0 healthy without reading any child', async () => {
      configured('hc-calc', { Type: 'CALCULATED', ChildHealthChecks: ['hc-down', 'hc-gone'], HealthThreshold: 0 });
      configured('hc-down');
      reporting('hc-down', 0);
      expect(await adapter().statusOf('hc-calc')).toBe('healthy');
      expect(sent()).toEqual({ config: ids('hc-calc'), status: [] });
    });

    it('calls a calculated health check with a threshold above its number of children unhealthy without reading any child', async () => {
      configured('hc-calc', { Type: 'CALCULATED', ChildHealthChecks: ['hc-up', 'hc-too'], HealthThreshold: 3 });
      for (const id of ['hc-up', 'hc-too']) {
        configured(id);
        reporting(id, 16);
      }
      expect(await adapter().statusOf('hc-calc')).toBe('unhealthy');
      expect(sent()).toEqual({ config: ids('hc-calc'), status: [] });
    });

    it('has no verdict for a calculated health check without a threshold, and reads none of its children', async () => {
      configured('hc-calc', { Type: 'CALCULATED', ChildHealthChecks: ['hc-up'] });
      configured('hc-up');
      reporting('hc-up', 16);
      expect(await adapter().statusOf('hc-calc')).toBeUndefined();
      expect(sent()).toEqual({ config: ids('hc-calc'), status: [] });
    });

    it('has no verdict for a calculated health check when a child without one decides it, and one when it does not', async () => {
      configured('hc-both', { Type: 'CALCULATED', ChildHealthChecks: ['hc-up', 'hc-new'], HealthThreshold: 2 });
      configured('hc-either', { Type: 'CALCULATED', ChildHealthChecks: ['hc-up', 'hc-new'], HealthThreshold: 1 });
      configured('hc-up');
      configured('hc-new');
      reporting('hc-up', 16);
      reporting('hc-new', 0, 0);
      const health = adapter();
      expect(await health.statusOf('hc-both')).toBeUndefined();
      expect(await health.statusOf('hc-either')).toBe('healthy');
    });

    it('fails the whole calculated health check when a child cannot be read, naming the child and its parent', async () => {
      configured('hc-calc', { Type: 'CALCULATED', ChildHealthChecks: ['hc-up', 'hc-gone'], HealthThreshold: 1 });
      configured('hc-up');
      reporting('hc-up', 16);
      route53
        .on(GetHealthCheckCommand, { HealthCheckId: 'hc-gone' })
        .rejects(Object.assign(new Error('No health check exists with the specified ID.'), { name: 'NoSuchHealthCheck', $metadata: { httpStatusCode: 404 } }));

      const error = await adapter()
        .statusOf('hc-calc')
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AwsCallError);
      expect((error as Error).message).toBe(
        'route53:GetHealthCheck on health check hc-gone (child of hc-calc) failed: NoSuchHealthCheck: No health check exists with the specified ID.',
      );
    });

    it('refuses calculated health checks that include each other, and nesting deeper than 3, but reads 3 deep', async () => {
      configured('hc-a', { Type: 'CALCULATED', ChildHealthChecks: ['hc-b'], HealthThreshold: 1 });
      configured('hc-b', { Type: 'CALCULATED', ChildHealthChecks: ['hc-a'], HealthThreshold: 1 });
      configured('hc-1', { Type: 'CALCULATED', ChildHealthChecks: ['hc-2'], HealthThreshold: 1 });
      configured('hc-2', { Type: 'CALCULATED', ChildHealthChecks: ['hc-3'], HealthThreshold: 1 });
      configured('hc-3', { Type: 'CALCULATED', ChildHealthChecks: ['hc-4'], HealthThreshold: 1 });
      configured('hc-4', { Type: 'CALCULATED', ChildHealthChecks: ['hc-http'], HealthThreshold: 1 });
      configured('hc-http');
      reporting('hc-http', 16);
      const health = adapter();

      await expect(health.statusOf('hc-a')).rejects.toThrow('calculated health checks include each other: hc-a > hc-b > hc-a');
      await expect(health.statusOf('hc-1')).rejects.toThrow('calculated health checks nest more than 3 deep: hc-1 > hc-2 > hc-3 > hc-4');
      expect(await health.statusOf('hc-2')).toBe('healthy');
    });

    it('keeps a configuration for CONFIG_TTL_MS: a read within it sends no second GetHealthCheck, one after it does', async () => {
      configured('hc-up');
      reporting('hc-up', 16);
      const health = adapter();

      await health.statusOf('hc-up');
      now += CONFIG_TTL_MS - 1;
      await health.statusOf('hc-up');
      expect(sent()).toEqual({ config: ids('hc-up'), status: ids('hc-up', 'hc-up') });

      now += 1;
      await health.statusOf('hc-up');
      expect(sent()).toEqual({ config: ids('hc-up', 'hc-up'), status: ids('hc-up', 'hc-up', 'hc-up') });
    });

    it('does not keep a configuration read that failed: the next read asks again', async () => {
      route53
        .on(GetHealthCheckCommand, { HealthCheckId: 'hc-up' })
        .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))
        .resolves({ HealthCheck: { Id: 'hc-up', CallerReference: 'ref', HealthCheckVersion: 1, HealthCheckConfig: { Type: 'HTTPS' } } });
      reporting('hc-up', 16);
      const health = adapter();

      await expect(health.statusOf('hc-up')).rejects.toThrow(AwsCallError);
      expect(await health.statusOf('hc-up')).toBe('healthy');
      expect(sent()).toEqual({ config: ids('hc-up', 'hc-up'), status: ids('hc-up') });
    });

    it('retries throttling of GetHealthCheck as the weights do, and says a later try may succeed when the retries run out', async () => {
      route53.on(GetHealthCheckCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
      const error = await adapter(3)
        .statusOf('hc-1')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as AwsCallError).retryable).toBe(true);
      expect((error as Error).message).toMatch(/^route53:GetHealthCheck on health check hc-1 failed: Throttling/);
      expect(sent()).toEqual({ config: ids('hc-1', 'hc-1', 'hc-1'), status: [] });
    });

    it('retries throttling of GetHealthCheckStatus as the weights do, and says a later try may succeed when the retries run out', async () => {
      configured('hc-1');
      route53.on(GetHealthCheckStatusCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
      const error = await adapter(3)
        .statusOf('hc-1')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as AwsCallError).retryable).toBe(true);
      expect((error as Error).message).toMatch(/^route53:GetHealthCheckStatus on health check hc-1 failed: Throttling/);
      expect(route53.commandCalls(GetHealthCheckStatusCommand)).toHaveLength(3);
    });

    it('translates access denied into an AwsCallError that a retry will not mend', async () => {
      configured('hc-1');
      route53
        .on(GetHealthCheckStatusCommand)
        .rejects(
          Object.assign(new Error('not authorized to perform route53:GetHealthCheckStatus'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
        );
      const error = await adapter(3)
        .statusOf('hc-1')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsCallError);
      expect(error).not.toBeInstanceOf(Route53RetriesExhaustedError);
      expect((error as AwsCallError).awsErrorName).toBe('AccessDenied');
      expect((error as AwsCallError).retryable).toBe(false);
      expect(route53.commandCalls(GetHealthCheckStatusCommand)).toHaveLength(1);
    });

    it("takes a token of Route 53's request bucket per call, when given the runtime's paced client", async () => {
      configured('hc-1');
      reporting('hc-1', 16);
      const slept: number[] = [];
      const pacer = new Pacer({ now: () => 0, sleep: async (ms) => void slept.push(ms) });
      const rates: ApiRates = { ...AwsApiRates, route53: { requests: { perSecond: 2, burst: 1 }, changes: AwsApiRates.route53.changes } };
      const paced = answerBelowRetries(
        pacedClient(new Route53Client({ region: 'us-east-1', credentials: testCredentials, maxAttempts: 1 }), pacer, route53Costs(pacer, rates)),
        route53Service,
        [GetHealthCheckCommand, GetHealthCheckStatusCommand],
      );
      const health = new Route53HealthChecks({ client: paced, now: () => now });
      await health.statusOf('hc-1');
      // The bucket holds one token, refilled at two a second: GetHealthCheckStatus waits half a second after GetHealthCheck.
      expect(slept).toEqual([500]);
      await health.statusOf('hc-1');
      // The configuration is kept: one more call, one more token.
      expect(slept).toEqual([500, 1000]);
    });
  });
});

/** A checker's last failure as GetHealthCheckLastFailureReason words it, at `at`. */
function lastFailure(i: number, at: string, status = 'Failure: HTTP Status Code 503, Service Unavailable. Resolved IP: 203.0.113.9'): HealthCheckObservation {
  return { Region: 'eu-west-1', IPAddress: `15.177.2.${i}`, StatusReport: { Status: status, CheckedTime: new Date(at) } };
}

describe('Function: failedSince', () => {
  it('counts the checkers whose last failure is at or after the time, and nothing without a time or a failure', () => {
    const since = Date.parse('2026-01-01T00:08:00Z');
    expect(
      failedSince(
        [
          lastFailure(0, '2026-01-01T00:09:40Z'),
          lastFailure(1, '2026-01-01T00:08:00Z'),
          lastFailure(2, '2026-01-01T00:07:59Z'),
          lastFailure(3, '2026-01-01T00:09:50Z', 'Success: HTTP Status Code 200, OK'),
          { Region: 'eu-west-1', IPAddress: '15.177.2.4', StatusReport: { Status: 'Failure: Connection timed out.' } },
          { Region: 'eu-west-1', IPAddress: '15.177.2.5' },
        ],
        since,
      ),
    ).toBe(2);
    expect(failedSince([], since)).toBe(0);
  });
});

describe("Class: Route53HealthChecks, the checkers' failures", () => {
  const since = Date.parse('2026-01-01T00:08:00Z');

  it("reads an endpoint's health check's last failures: its configuration, then one GetHealthCheckLastFailureReason", async () => {
    configured('hc-euw1');
    route53.on(GetHealthCheckLastFailureReasonCommand, { HealthCheckId: 'hc-euw1' }).resolves({
      HealthCheckObservations: [lastFailure(0, '2026-01-01T00:09:40Z'), lastFailure(1, '2026-01-01T00:09:10Z'), lastFailure(2, '2026-01-01T00:02:00Z')],
    });
    expect(await adapter().checkersFailedSince('hc-euw1', since)).toBe(2);
    expect(route53.commandCalls(GetHealthCheckCommand).map((c) => c.args[0].input)).toEqual(ids('hc-euw1'));
    expect(route53.commandCalls(GetHealthCheckLastFailureReasonCommand).map((c) => c.args[0].input)).toEqual(ids('hc-euw1'));
    expect(route53.commandCalls(GetHealthCheckStatusCommand)).toHaveLength(0);
  });

  it('counts none when no checker has failed (Route 53 lists no observation)', async () => {
    configured('hc-euw1', { Type: 'HTTP_STR_MATCH' });
    route53.on(GetHealthCheckLastFailureReasonCommand, { HealthCheckId: 'hc-euw1' }).resolves({ HealthCheckObservations: [] });
    expect(await adapter().checkersFailedSince('hc-euw1', since)).toBe(0);
  });

  it.each([
    ['a calculated one', { Type: 'CALCULATED', ChildHealthChecks: ['hc-a'], HealthThreshold: 1 }],
    ["a CloudWatch alarm's", { Type: 'CLOUDWATCH_METRIC' }],
    ['a disabled one', { Disabled: true }],
    ['an inverted one', { Inverted: true }],
  ] as const)("reads no failures of %s: its checkers' failures are not the endpoint's", async (_, config) => {
    configured('hc-1', config as Partial<HealthCheckConfig>);
    expect(await adapter().checkersFailedSince('hc-1', since)).toBeUndefined();
    expect(route53.commandCalls(GetHealthCheckLastFailureReasonCommand)).toHaveLength(0);
  });

  it('fails naming the operation and the health check when Route 53 refuses the read', async () => {
    configured('hc-1');
    route53.on(GetHealthCheckLastFailureReasonCommand).rejects(
      Object.assign(new Error('not authorized to perform: route53:GetHealthCheckLastFailureReason'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const error = await adapter()
      .checkersFailedSince('hc-1', since)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as Error).message).toMatch(/^route53:GetHealthCheckLastFailureReason on health check hc-1 failed: AccessDenied/);
  });
});
