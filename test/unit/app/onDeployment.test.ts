import { describe, expect, it } from 'vitest';
import { prepareEvaluation } from '../../../functions/app/evaluateService.js';
import { DeploymentDeferredError, onDeployment, type DeploymentInput, type DeploymentRequest } from '../../../functions/app/onDeployment.js';
import type { NativeDeployment } from '../../../functions/app/nativeDeployments.js';
import { onTick } from '../../../functions/app/onTick.js';
import type { DeploymentPhase } from '../../../functions/core/types.js';
import { judgedStart, memoryWorld, MINUTE, rawConfig, testConfig, type MemoryWorld } from './runtimeFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

function world(
  rollout: Record<string, unknown> = {
    mode: 'drain-during-deploy',
    canary: { steps: [0.1, 0.5, 1], holdSeconds: 300, minSamples: 100, statistic: 'p99', maxLatencyRatio: 1.2 },
  },
): MemoryWorld {
  const raw = structuredClone(rawConfig) as { services: { policy: Record<string, unknown> }[] };
  raw.services[0]!.policy.rollout = rollout;
  const w = memoryWorld(testConfig(raw));
  w.feed(judgedStart(w.clock.now()), HEALTHY);
  return w;
}

function pipeline(w: MemoryWorld, phase: DeploymentPhase, key: string, version = 'v2'): Extract<DeploymentInput, { from: 'pipeline' }> {
  return { from: 'pipeline', signal: { endpoint: 'eu-west-1', version, phase, at: w.clock.now(), idempotencyKey: key, pipelineExecutionId: 'run-1' } };
}

function request(inputs: DeploymentInput[], detailType = 'Deployment Started', service = 'chat'): DeploymentRequest {
  return { service, inputs, source: 'steer53.deployment', detailType, eventId: 'event-1' };
}

async function deployments(w: MemoryWorld) {
  return (await w.store.listAudit('chat', { limit: 100 })).filter((a) => a.kind === 'deployment');
}

describe('Function: onDeployment', () => {
  it('evaluates the service with the deployment and records the event as applied', async () => {
    const w = world();
    const outcome = await onDeployment(w.runtime(), request([pipeline(w, 'started', 'k1')]));
    expect(outcome).toMatchObject({
      status: 'evaluated',
      evaluation: { status: 'applied' },
      records: [{ endpoint: 'eu-west-1', phase: 'started', applied: true, auditId: 'deployment-k1' }],
    });
    expect(w.dns.weightsOf({ hostedZoneId: w.service.hostedZoneId, dnsName: w.service.dnsName, recordType: w.service.recordType })['eu-west-1']).toBe(0);
    expect(await deployments(w)).toEqual([
      expect.objectContaining({
        status: 'applied',
        actor: 'pipeline run-1',
        summary: 'chat.example.com: Deployment Started on eu-west-1, version v2 — eu-west-1 deploying v2 (pipeline run-1): draining it while it deploys',
      }),
    ]);
  });

  it('records an event the engine ignores as recorded, not applied (rollout mode none)', async () => {
    const w = world({ mode: 'none' });
    const outcome = await onDeployment(w.runtime(), request([pipeline(w, 'started', 'k1')]));
    expect(outcome).toMatchObject({
      status: 'evaluated',
      evaluation: { status: 'unchanged' },
      records: [{ applied: false, outcome: 'eu-west-1 started v2: rollout mode is none: recorded, weights untouched' }],
    });
    expect((await deployments(w))[0]).toMatchObject({ status: 'recorded', detail: { applied: false } });
  });

  it('tells an applied event from an ignored one by its idempotency key, even when both say the same thing', async () => {
    const w = world();
    const rt = w.runtime();
    await onDeployment(rt, request([pipeline(w, 'started', 'k1')]));
    w.clock.advance(MINUTE);
    // The second delivery of "succeeded" under another key is ignored (already canary); its sentence starts as the first one's would.
    const outcome = await onDeployment(rt, request([pipeline(w, 'succeeded', 'k2'), pipeline(w, 'succeeded', 'k3')], 'Deployment Succeeded'));
    expect(outcome).toMatchObject({
      status: 'evaluated',
      records: [
        { idempotencyKey: 'k2', applied: true },
        { idempotencyKey: 'k3', applied: false, outcome: 'eu-west-1 succeeded v2: already canary' },
      ],
    });
  });

  it.each<[string, DeploymentRequest, string]>([
    ['a service the config does not have', request([], 'Deployment Started', 'payments'), 'detail.service'],
    [
      'an endpoint the service does not have',
      request([{ from: 'pipeline', signal: { endpoint: 'mars-1', version: 'v', phase: 'started', at: 0, idempotencyKey: 'k' } }]),
      'detail.endpoint',
    ],
  ])('refuses %s, recording and changing nothing', async (_name, req, path) => {
    const w = world();
    expect(await onDeployment(w.runtime(), req)).toMatchObject({ status: 'rejected', problems: [{ path }] });
    expect((await w.store.load('chat')).version).toBe(0);
    expect(await w.store.listAudit('chat')).toEqual([]);
  });

  it('acts on the rollout in progress for an operator abort that names no version, and records its reason', async () => {
    const w = world();
    const rt = w.runtime();
    await onDeployment(rt, request([pipeline(w, 'started', 'k1')]));
    w.clock.advance(MINUTE);
    await onDeployment(rt, request([pipeline(w, 'succeeded', 'k2')], 'Deployment Succeeded'));
    w.clock.advance(MINUTE);
    const abort: DeploymentInput = {
      from: 'operator',
      reason: 'p99 doubled',
      signal: {
        endpoint: 'eu-west-1',
        version: undefined,
        phase: 'abort',
        at: w.clock.now(),
        idempotencyKey: 'op-1',
        by: 'arn:aws:iam::123456789012:user/alice',
      },
    };
    const outcome = await onDeployment(rt, request([abort], 'Rollout Abort Requested'));
    expect(outcome).toMatchObject({ status: 'evaluated', records: [{ phase: 'abort', version: 'v2', applied: true }] });
    expect(w.events.events.filter((e) => e.detailType === 'Rollback Requested').map((e) => e.detail)).toEqual([
      expect.objectContaining({
        endpoint: 'eu-west-1',
        version: 'v2',
        pipelineExecutionId: 'run-1',
        reason: 'aborted by arn:aws:iam::123456789012:user/alice',
        onFailure: 'drain',
        trigger: 'Rollout Abort Requested (operator arn:aws:iam::123456789012:user/alice)',
      }),
    ]);
    expect((await deployments(w))[0]).toMatchObject({
      actor: 'operator arn:aws:iam::123456789012:user/alice',
      detail: { reason: 'p99 doubled', phase: 'abort' },
    });
  });

  it('is not applied while another evaluation is applying a change: recorded as failed, thrown to be delivered again', async () => {
    const w = world();
    const rt = w.runtime();
    const inFlight = await prepareEvaluation(rt, w.service, { trigger: 'alarm x ALARM', deployments: [pipeline(w, 'started', 'other').signal] });
    expect(inFlight.kind).toBe('write');
    const attempt = onDeployment(rt, request([pipeline(w, 'started', 'k1', 'v3')]));
    await expect(attempt).rejects.toBeInstanceOf(DeploymentDeferredError);
    await expect(onDeployment(rt, request([pipeline(w, 'started', 'k1', 'v3')]))).rejects.toMatchObject({ retryable: true, service: 'chat' });
    expect((await deployments(w))[0]).toMatchObject({
      status: 'failed',
      id: 'deployment-k1',
      summary: expect.stringContaining('not applied yet: another evaluation is applying a change to the service'),
    });
  });

  it('records a native event that means no deployment here, and evaluates nothing', async () => {
    const w = world();
    const native: NativeDeployment = {
      kind: 'SAGEMAKER',
      service: 'chat',
      endpoint: 'eu-west-1',
      phase: 'succeeded',
      version: 'cfg-1',
      at: w.clock.now(),
      idempotencyKey: 'n1',
      by: 'SageMaker endpoint chat-eu-west-1',
      account: '123456789012',
      region: 'eu-west-1',
      status: 'IN_SERVICE',
    };
    const outcome = await onDeployment(w.runtime(), {
      ...request([{ from: 'native', native }]),
      source: 'aws.sagemaker',
      detailType: 'SageMaker Endpoint Deployment State Change',
    });
    expect(outcome).toMatchObject({
      status: 'skipped',
      records: [{ applied: false, outcome: expect.stringContaining('IN_SERVICE with no deployment in progress') }],
    });
    expect((await w.store.load('chat')).version).toBe(0);
    expect(await deployments(w)).toEqual([
      expect.objectContaining({ status: 'recorded', actor: 'SageMaker endpoint chat-eu-west-1', detail: expect.objectContaining({ status: 'IN_SERVICE' }) }),
    ]);
  });
});

describe('Rollouts on the schedule', () => {
  it('a canary slower than the control is rolled back by a tick, which publishes Rollback Requested', async () => {
    const w = world({ mode: 'canary', canary: { steps: [0.1, 0.5, 1], holdSeconds: 300, minSamples: 100, statistic: 'p99', maxLatencyRatio: 1.2 } });
    const rt = w.runtime();
    await onDeployment(rt, request([pipeline(w, 'succeeded', 'k1')], 'Deployment Succeeded'));
    for (let minute = 0; minute < 10 && !w.events.events.some((e) => e.detailType === 'Rollback Requested'); minute += 1) {
      w.clock.advance(MINUTE);
      // The new version is 40% slower at p99 than the others.
      w.feed(judgedStart(w.clock.now()), { 'us-east-1': 900, 'eu-west-1': 1260, 'ap-northeast-1': 900 });
      await onTick(rt);
    }
    const rollback = w.events.events.find((e) => e.detailType === 'Rollback Requested');
    expect(rollback?.detail).toMatchObject({
      endpoint: 'eu-west-1',
      version: 'v2',
      trigger: 'schedule',
      reason: expect.stringContaining('latency 1.40× ± 0.00 the control'),
    });
    expect(w.dns.weightsOf({ hostedZoneId: w.service.hostedZoneId, dnsName: w.service.dnsName, recordType: w.service.recordType })['eu-west-1']).toBe(0);
  });
});
