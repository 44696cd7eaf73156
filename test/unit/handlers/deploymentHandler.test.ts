import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prepareEvaluation } from '../../../functions/app/evaluateService.js';
import { createDeploymentHandler } from '../../../functions/handlers/deployment.js';
import { judgedStart, memoryWorld, rawConfig, testConfig, type MemoryWorld } from '../app/runtimeFixtures.js';
import { context, deploymentEvent, testDeps } from './handlerFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

function world(): MemoryWorld {
  const raw = structuredClone(rawConfig) as { services: { policy: Record<string, unknown>; endpoints: Record<string, unknown>[] }[] };
  raw.services[0]!.policy.rollout = { mode: 'drain-during-deploy' };
  raw.services[0]!.endpoints[1]!.deploymentSources = { sagemakerEndpoints: ['sample-endpoint'], codePipelines: ['myPipeline'] };
  const w = memoryWorld(testConfig(raw));
  w.feed(judgedStart(w.clock.now()), HEALTHY);
  return w;
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/native-events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

const eu = (w: MemoryWorld) =>
  w.dns.weightsOf({ hostedZoneId: w.service.hostedZoneId, dnsName: w.service.dnsName, recordType: w.service.recordType })['eu-west-1'];

describe('Handler: deployment', () => {
  it('applies an operator abort event to the rollout in progress', async () => {
    const w = world();
    const t = testDeps(async () => w.runtime());
    const handler = createDeploymentHandler(t.deps);
    await handler(deploymentEvent('Deployment Started', { idempotencyKey: 'a' }), context);
    await handler(deploymentEvent('Deployment Succeeded', { idempotencyKey: 'b' }), context);
    const abort = deploymentEvent('Rollout Abort Requested', {});
    const result = await handler(
      { ...abort, detail: { service: 'chat', endpoint: 'eu-west-1', reason: 'regressed', by: 'alice', idempotencyKey: 'c' } },
      context,
    );
    expect(result).toMatchObject({ status: 'applied', services: [{ records: [{ phase: 'abort', version: 'v42', applied: true }] }] });
    expect(w.events.events.map((e) => e.detailType)).toContain('Rollback Requested');
    expect(eu(w)).toBe(0);
  });

  it('fails the invocation (so Lambda delivers it again) while another evaluation applies a change', async () => {
    const w = world();
    const t = testDeps(async () => w.runtime());
    // An evaluation that has recorded its intent and not yet written Route 53.
    const pending = await prepareEvaluation(w.runtime(), w.service, {
      trigger: 'deployment',
      deployments: [{ endpoint: 'eu-west-1', version: 'v1', phase: 'started', at: w.clock.now(), idempotencyKey: 'x' }],
    });
    expect(pending.kind).toBe('write');
    await expect(createDeploymentHandler(t.deps)(deploymentEvent('Deployment Started', { version: 'v9' }), context)).rejects.toMatchObject({
      name: 'DeploymentDeferredError',
    });
    expect(t.counts.filter((c) => c.metric === 'MalformedEvents')).toEqual([]);
  });

  it('maps a native event through the config and applies it (CodePipeline, as AWS documents it)', async () => {
    const w = world();
    const t = testDeps(async () => w.runtime());
    const started = { ...fixture('codepipeline-execution-started'), time: new Date(w.clock.now()).toISOString() };
    expect(await createDeploymentHandler(t.deps)(started, context)).toMatchObject({
      status: 'applied',
      services: [
        {
          service: 'chat',
          status: 'evaluated',
          records: [{ endpoint: 'eu-west-1', phase: 'started', version: '12345678-1234-5678-abcd-12345678abcd', applied: true }],
        },
      ],
    });
    expect(eu(w)).toBe(0);
    const [entry] = (await w.store.listAudit('chat')).filter((a) => a.kind === 'deployment');
    expect(entry).toMatchObject({
      actor: 'CodePipeline myPipeline (account 123456789012)',
      detail: { source: 'aws.codepipeline', status: 'STARTED', pipelineExecutionId: '12345678-1234-5678-abcd-12345678abcd' },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a SageMaker capacity change',
      fixture('sagemaker-endpoint-deployment-capacity-update'),
      'aws.sagemaker SageMaker Endpoint Deployment State Change: UPDATING without a pending deployment is a capacity change, not a new version',
    ],
    [
      'a pipeline no endpoint names',
      { ...fixture('codepipeline-execution-started'), detail: { ...(fixture('codepipeline-execution-started').detail as object), pipeline: 'other' } },
      "aws.codepipeline CodePipeline Pipeline Execution State Change: no endpoint's deploymentSources names it",
    ],
  ])('ignores %s with a debug line, changing nothing', async (_name, event, reason) => {
    const w = world();
    const t = testDeps(async () => w.runtime());
    expect(await createDeploymentHandler(t.deps)(event, context)).toEqual({ status: 'ignored', reason });
    expect(t.debugLog).toHaveBeenCalled();
    expect(t.errorLog).not.toHaveBeenCalled();
    expect((await w.store.load('chat')).version).toBe(0);
  });

  it('rejects a native event missing what steer53 reads, with the path, and counts it', async () => {
    const w = world();
    const t = testDeps(async () => w.runtime());
    const broken = { ...fixture('codepipeline-execution-started'), detail: { pipeline: 'myPipeline', state: 'STARTED' } };
    expect(await createDeploymentHandler(t.deps)(broken, context)).toMatchObject({ status: 'rejected', problems: [{ path: 'detail.execution-id' }] });
    expect(t.counts).toContainEqual({ metric: 'MalformedEvents', service: 'none', value: 1 });
  });
});
