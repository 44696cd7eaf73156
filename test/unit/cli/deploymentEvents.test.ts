import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { runEmit, runRollout, type CommandIo } from '../../../bin/commands/deploymentEvents.js';
import { deploymentEventSchema } from '../../../functions/events/deploymentEvent.js';

const eventBridge = mockClient(EventBridgeClient);
const sts = mockClient(STSClient);

function io(): CommandIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (line) => void lines.push(line),
    err: (line) => void errors.push(line),
    eventBridge: (region) => new EventBridgeClient({ region: region ?? 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    sts: (region) => new STSClient({ region: region ?? 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    newId: () => 'generated-id',
  };
}

beforeEach(() => {
  eventBridge.reset();
  sts.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '11111111-2222-3333-4444-555555555555' }] });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/oncall/alice', Account: '123456789012', UserId: 'AROA:alice' });
});

const emitArgs = ['deployment', '--service', 'chat', '--endpoint', 'eu-west-1', '--phase', 'started', '--version', 'v42', '--pipeline-execution-id', 'run-7'];

describe('Command: steer53 emit deployment', () => {
  it('puts exactly one steer53 deployment event with the AWS SDK', async () => {
    const out = io();
    expect(await runEmit([...emitArgs, '--event-bus', 'steer53', '--region', 'eu-west-1'], out)).toBe(0);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      Entries: [
        {
          Source: 'steer53.deployment',
          DetailType: 'Deployment Started',
          Detail: JSON.stringify({
            service: 'chat',
            endpoint: 'eu-west-1',
            version: 'v42',
            pipelineExecutionId: 'run-7',
            idempotencyKey: 'run-7/eu-west-1/started',
          }),
          EventBusName: 'steer53',
        },
      ],
    });
    expect(await calls[0]!.thisValue.config.region()).toBe('eu-west-1');
    expect(out.lines).toEqual(['put Deployment Started for chat/eu-west-1 v42 on event bus steer53: event id 11111111-2222-3333-4444-555555555555']);
  });

  it.each([
    ['started', 'Deployment Started'],
    ['succeeded', 'Deployment Succeeded'],
    ['failed', 'Deployment Failed'],
    ['rolled-back', 'Deployment Rolled Back'],
  ])('--phase %s puts "%s"', async (phase, detailType) => {
    const args = [...emitArgs];
    args[args.indexOf('started')] = phase;
    expect(await runEmit(args, io())).toBe(0);
    expect(eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.DetailType).toBe(detailType);
  });

  it('--dry-run prints the exact entry and calls nothing', async () => {
    const out = io();
    expect(await runEmit([...emitArgs, '--idempotency-key', 'k-1', '--dry-run'], out)).toBe(0);
    expect(eventBridge.calls()).toHaveLength(0);
    expect(JSON.parse(out.lines.join('\n'))).toEqual({
      Entries: [
        {
          Source: 'steer53.deployment',
          DetailType: 'Deployment Started',
          Detail: JSON.stringify({ service: 'chat', endpoint: 'eu-west-1', version: 'v42', pipelineExecutionId: 'run-7', idempotencyKey: 'k-1' }),
          EventBusName: 'default',
        },
      ],
    });
  });

  it('puts what the deployment handler accepts', async () => {
    await runEmit(emitArgs, io());
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    const event = {
      id: 'e',
      // EventBridge sets the account from the caller's credentials.
      account: '123456789012',
      source: entry.Source,
      'detail-type': entry.DetailType,
      time: '2026-01-01T00:00:00Z',
      detail: JSON.parse(entry.Detail!) as unknown,
    };
    expect(deploymentEventSchema.safeParse(event).success).toBe(true);
  });

  it('without a pipeline execution id, each call is its own event', async () => {
    await runEmit(emitArgs.slice(0, -2), io());
    expect(JSON.parse(eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!)).toEqual({
      service: 'chat',
      endpoint: 'eu-west-1',
      version: 'v42',
      idempotencyKey: 'generated-id',
    });
  });

  it.each<[string, string[], string[]]>([
    ['nothing to emit', [], ['(command): say what to emit: deployment']],
    ['something else to emit', ['alarm'], ['(command): cannot emit "alarm" (only: deployment)']],
    ['required options missing', ['deployment', '--service', 'chat'], ['--endpoint: is required', '--phase: is required', '--version: is required']],
    [
      'an unknown phase',
      ['deployment', '--service', 'chat', '--endpoint', 'e', '--version', 'v', '--phase', 'exploded'],
      ['--phase: must be one of started, succeeded, failed, rolled-back (got "exploded")'],
    ],
    [
      'a service name the schema refuses',
      ['deployment', '--service', 'no spaces', '--endpoint', 'e', '--version', 'v', '--phase', 'started'],
      ['--service: must be a steer53 service name (1–64 letters, digits, dots, dashes or underscores)'],
    ],
    ['an unknown option', [...emitArgs, '--verison', 'v1'], [expect.stringContaining("(arguments): Unknown option '--verison'") as unknown as string]],
    ['a stray argument', [...emitArgs, 'now'], ['(arguments): unexpected "now"']],
  ])('bad arguments (%s): every problem, the usage, exit 2, nothing sent', async (_name, args, problems) => {
    const out = io();
    expect(await runEmit(args, out)).toBe(2);
    expect(out.errors.slice(0, -1)).toEqual(problems);
    expect(out.errors.at(-1)).toMatch(/^usage: steer53 emit deployment /);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('says so and exits 1 when EventBridge refuses the entry', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized to put events on steer53' }] });
    const out = io();
    expect(await runEmit(emitArgs, out)).toBe(1);
    expect(out.errors).toEqual(['EventBridge refused the event: AccessDeniedException: not authorized to put events on steer53']);
  });

  it('says so and exits 1 when the call fails (credentials, network)', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const out = io();
    expect(await runEmit(emitArgs, out)).toBe(1);
    expect(out.errors).toEqual(['could not put the event: CredentialsProviderError: Could not load credentials from any providers']);
  });

  it('says the region is missing (not the credentials) when no region is configured, and calls nothing', async () => {
    // The SDK's region provider rejects when neither the options, AWS_REGION nor the profile give one.
    const noRegion = async () => Promise.reject(new Error('Region is missing'));
    const out = { ...io(), eventBridge: () => new EventBridgeClient({ region: noRegion, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }) };
    expect(await runEmit(emitArgs, out)).toBe(1);
    expect(out.errors).toEqual([
      'steer53 emit deployment: no AWS region is configured; pass --region <region>, or set AWS_REGION (or a region in your AWS profile)',
    ]);
    expect(eventBridge.calls()).toHaveLength(0);
  });
});

describe('Command: steer53 rollout abort|promote', () => {
  const rolloutArgs = ['--service', 'chat', '--endpoint', 'eu-west-1', '--reason', 'p99 1.6x the control on the dashboard'];

  it.each([
    ['abort', 'Rollout Abort Requested'],
    ['promote', 'Rollout Promote Requested'],
  ])('%s puts an operator event signed with the caller identity', async (action, detailType) => {
    const out = io();
    expect(await runRollout([action, ...rolloutArgs, '--event-bus', 'steer53'], out)).toBe(0);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input).toEqual({
      Entries: [
        {
          Source: 'steer53.deployment',
          DetailType: detailType,
          Detail: JSON.stringify({
            service: 'chat',
            endpoint: 'eu-west-1',
            reason: 'p99 1.6x the control on the dashboard',
            by: 'arn:aws:sts::123456789012:assumed-role/oncall/alice',
            idempotencyKey: 'generated-id',
          }),
          EventBusName: 'steer53',
        },
      ],
    });
    expect(out.lines).toEqual([
      `put ${detailType} for chat/eu-west-1 by arn:aws:sts::123456789012:assumed-role/oncall/alice on event bus steer53: event id 11111111-2222-3333-4444-555555555555`,
    ]);
  });

  it('--dry-run needs no credentials: no STS call, no PutEvents call', async () => {
    const out = io();
    expect(await runRollout(['abort', ...rolloutArgs, '--version', 'v42', '--dry-run'], out)).toBe(0);
    expect(sts.calls()).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
    const [entry] = (JSON.parse(out.lines.join('\n')) as { Entries: { DetailType: string; Detail: string }[] }).Entries;
    expect(entry!.DetailType).toBe('Rollout Abort Requested');
    expect(JSON.parse(entry!.Detail)).toMatchObject({ version: 'v42', by: expect.stringContaining('caller identity') });
  });

  it('exits 1 when it cannot tell who the caller is', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('The security token included in the request is expired'));
    const out = io();
    expect(await runRollout(['promote', ...rolloutArgs], out)).toBe(1);
    expect(out.errors[0]).toMatch(/cannot tell who you are .*expired/);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it.each<[string, string[], string[]]>([
    ['no action', [], ['(command): say abort or promote']],
    ['an unknown action', ['rollback', ...rolloutArgs], ['(command): unknown rollout action "rollback" (abort or promote)']],
    ['no reason', ['abort', '--service', 'chat', '--endpoint', 'eu-west-1'], ['--reason: is required']],
    [
      'an empty reason',
      ['abort', '--service', 'chat', '--endpoint', 'eu-west-1', '--reason', '', '--dry-run'],
      ['--reason: Too small: expected string to have >=1 characters'],
    ],
  ])('bad arguments (%s): exit 2, nothing sent', async (_name, args, problems) => {
    const out = io();
    expect(await runRollout(args, out)).toBe(2);
    expect(out.errors.slice(0, -1)).toEqual(problems);
    expect(eventBridge.calls()).toHaveLength(0);
  });
});

describe('bin/steer53.ts', () => {
  const run = promisify(execFile);
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'bin/steer53.ts', ...args], { cwd: new URL('../../../', import.meta.url).pathname });

  it('emit --dry-run prints the entry; bad arguments exit 2', { timeout: 60_000 }, async () => {
    const dry = await cli(['emit', ...emitArgs, '--dry-run']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ Entries: [{ Source: 'steer53.deployment', DetailType: 'Deployment Started' }] });
    const bad = await cli(['rollout', 'abort', '--service', 'chat']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toContain('--endpoint: is required');
  });
});
