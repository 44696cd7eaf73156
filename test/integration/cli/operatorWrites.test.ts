import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { runOperate, type PlanIo } from '../../../bin/commands/operate.js';
import { DynamoStateStore } from '../../../functions/adapters/aws/dynamoStateStore.js';
import { InMemoryCapacity, InMemoryDnsWeights, InMemoryHealthChecks, InMemoryMetrics, ManualClock } from '../../../functions/adapters/memory/index.js';
import { initialServiceState } from '../../../functions/core/engine.js';
import { recordSetOf } from '../../../functions/app/evaluateService.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { createTable, startDynalite, type LocalDynamo } from '../runtime/dynalite.js';
import { MINUTE, T0, editableRawConfig, judgedStart, rawConfig, testConfig } from '../../unit/app/runtimeFixtures.js';

const sts = mockClient(STSClient);
const ALICE = 'arn:aws:sts::123456789012:assumed-role/oncall/alice';
const service = testConfig().services[0]!;
const configPath = join(mkdtempSync(join(tmpdir(), 'steer53-ops-')), 'steer53.config.json');
writeFileSync(configPath, JSON.stringify(rawConfig));

let dynamo: LocalDynamo;
let table: string;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = await createTable(dynamo);
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: ALICE });
});

function io(extra: Partial<PlanIo> = {}): PlanIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (line) => void lines.push(line),
    err: (line) => void errors.push(line),
    dynamo: () => dynamo.client,
    sts: () => new STSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    now: () => T0,
    env: {},
    ...extra,
  };
}

const common = () => ['--table', table, '--config', configPath];
const stored = () => new DynamoStateStore({ client: dynamo.client, tableName: table }).load('chat');

describe('Commands: steer53 freeze, unfreeze, override, drain, undrain', () => {
  it('freezes for a while: the state item holds the freeze with who and why, and the audit log says so', async () => {
    const out = io();
    expect(await runOperate('freeze', ['chat', '--reason', 'launch at noon', '--for', '2h', ...common()], out)).toBe(0);
    expect(out.lines).toEqual([
      `chat: frozen by ${ALICE} until ${new Date(T0 + 120 * MINUTE).toISOString()}: launch at noon`,
      'The next evaluation (within a minute) carries it out; it is in the audit log (steer53 history).',
    ]);
    expect((await stored()).state!.overrides.freeze).toEqual({ by: ALICE, reason: 'launch at noon', setAt: T0, until: T0 + 120 * MINUTE });
    const audit = await new DynamoStateStore({ client: dynamo.client, tableName: table }).listAudit('chat');
    expect(audit).toEqual([expect.objectContaining({ kind: 'override', actor: ALICE, status: 'recorded' })]);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('pins weights, drains an endpoint, and undoes both', async () => {
    expect(
      await runOperate(
        'override',
        ['chat', '--weights', 'us-east-1=150, eu-west-1=50', '--for', '1h', '--reason', 'shift before the launch', ...common()],
        io(),
      ),
    ).toBe(0);
    expect(await runOperate('drain', ['chat', 'eu-west-1', '--for', '30m', '--reason', 'driver upgrade', ...common()], io())).toBe(0);
    expect((await stored()).state!.overrides).toMatchObject({
      pin: { weights: { 'us-east-1': 150, 'eu-west-1': 50 }, until: T0 + 60 * MINUTE },
      drains: { 'eu-west-1': { until: T0 + 30 * MINUTE } },
    });
    expect(await runOperate('undrain', ['chat', 'eu-west-1', ...common()], io())).toBe(0);
    expect(await runOperate('override', ['chat', '--clear', ...common()], io())).toBe(0);
    // Nothing in force; both wait for the next evaluation to tell them as lifted.
    const after = (await stored()).state!.overrides;
    expect(after).toEqual({
      lifted: [
        { what: 'drain', endpoint: 'eu-west-1', by: ALICE, reason: 'by hand', at: expect.any(Number) },
        { what: 'pin', by: ALICE, reason: 'by hand', at: expect.any(Number) },
      ],
    });
    const again = io();
    expect(await runOperate('unfreeze', ['chat', ...common()], again)).toBe(0);
    expect(again.lines).toEqual(['chat: chat is not frozen', 'Nothing to change.']);
  });

  it("starts a drill: a drain with its guard alarm, in the endpoint's region unless told otherwise", async () => {
    const out = io();
    expect(
      await runOperate('drill', ['chat', 'eu-west-1', '--for', '15m', '--guard-alarm', 'chat-global-5xx', '--reason', 'quarterly drill', ...common()], out),
    ).toBe(0);
    expect(out.lines[0]).toBe(
      `chat: eu-west-1 drained as a drill (aborted at once if chat-global-5xx in eu-west-1 goes to ALARM) by ${ALICE} until ${new Date(T0 + 15 * MINUTE).toISOString()}: quarterly drill`,
    );
    expect((await stored()).state!.overrides.drains!['eu-west-1']).toEqual({
      by: ALICE,
      reason: 'quarterly drill',
      setAt: T0,
      until: T0 + 15 * MINUTE,
      guard: { name: 'chat-global-5xx', region: 'eu-west-1' },
    });
    expect(
      await runOperate(
        'drill',
        ['chat', 'ap-northeast-1', '--for', '15m', '--guard-alarm', 'chat-global-5xx', '--guard-region', 'us-east-1', '--reason', 'x', ...common()],
        io(),
      ),
    ).toBe(0);
    expect((await stored()).state!.overrides.drains!['ap-northeast-1']!.guard).toEqual({ name: 'chat-global-5xx', region: 'us-east-1' });
    const bad = io();
    expect(await runOperate('drill', ['chat', 'eu-west-1', '--for', '15m', '--reason', 'x', ...common()], bad)).toBe(2);
    expect(bad.errors[0]).toBe('--guard-alarm: is required: the CloudWatch alarm that aborts the drill the moment it fires');
  });

  it.each<[string, string[], string[]]>([
    [
      'no service, no reason, no table',
      ['freeze'],
      [
        '<service>: is required',
        '--table: is required (or set STEER53_TABLE_NAME): the table the TrafficController construct created',
        '--reason: is required: say why (it goes in the audit log and the notices)',
      ],
    ],
    [
      'a drain without its end',
      ['drain', 'chat', 'eu-west-1', '--reason', 'x', '--table', 'steer53'],
      ['--for: is required: every override ends on its own (e.g. --for 2h)'],
    ],
    [
      'an end too far away',
      ['drain', 'chat', 'eu-west-1', '--reason', 'x', '--for', '200h', '--table', 'steer53'],
      ['--for: must be a duration such as 30m, 2h or 1h30m, at most 168h'],
    ],
    [
      'malformed weights',
      ['override', 'chat', '--weights', 'us-east-1:5', '--for', '1h', '--reason', 'x', '--table', 'steer53'],
      ['--weights: "us-east-1:5" is not <endpoint>=<weight>'],
    ],
    [
      '--clear with weights',
      ['override', 'chat', '--clear', '--weights', 'a=1', '--table', 'steer53'],
      ['--clear: removes the pin: give it without --weights and --for'],
    ],
    ['an option another command has', ['unfreeze', 'chat', '--for', '1h', '--table', 'steer53'], ['--for: is not an option of unfreeze']],
    ['an unknown option', ['freeze', 'chat', '--forever'], [expect.stringContaining("Unknown option '--forever'") as unknown as string]],
  ])('refuses %s with every problem and the usage, exit 2, writing nothing', async (_name, [command, ...args], problems) => {
    const out = io();
    expect(await runOperate(command as 'freeze', args, out)).toBe(2);
    expect(out.errors.slice(0, -1)).toEqual(problems);
    expect(out.errors.at(-1)).toMatch(/^usage: steer53 /);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('refuses what only the service config can tell is wrong, naming the flag', async () => {
    const out = io();
    expect(await runOperate('override', ['chat', '--weights', 'mars-1=10', '--for', '1h', '--reason', 'x', ...common()], out)).toBe(2);
    expect(out.errors[0]).toBe('--weights mars-1: is not an endpoint of chat (endpoints: us-east-1, eu-west-1, ap-northeast-1)');
    expect(await runOperate('drain', ['chat', 'mars-1', '--for', '1h', '--reason', 'x', ...common()], io())).toBe(2);
    await expect(runOperate('freeze', ['search', '--reason', 'x', ...common()], io())).rejects.toThrow(ValidationError);
    expect((await stored()).version).toBe(0);
  });

  it('fails with a clear message, exit 1, when the table does not exist or AWS does not know the caller', async () => {
    const missing = io();
    expect(await runOperate('freeze', ['chat', '--reason', 'x', '--table', 'no-such-table', '--config', configPath], missing)).toBe(1);
    expect(missing.errors.join('\n')).toContain(
      'steer53 freeze: could not write the override to table no-such-table: AwsCallError: dynamodb:GetItem on table no-such-table failed: ResourceNotFoundException',
    );
    sts.reset();
    sts.on(GetCallerIdentityCommand).rejects(new Error('The security token included in the request is expired'));
    const anonymous = io();
    expect(await runOperate('freeze', ['chat', '--reason', 'x', ...common()], anonymous)).toBe(1);
    expect(anonymous.errors).toEqual([
      'steer53 freeze: cannot tell who you are (sts:GetCallerIdentity failed: The security token included in the request is expired); check your AWS credentials',
    ]);
  });

  it('says the region is missing, not the credentials, when no region is configured', async () => {
    const noRegion = async () => Promise.reject(new Error('Region is missing'));
    const lost = { ...io(), sts: () => new STSClient({ region: noRegion, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }) };
    expect(await runOperate('freeze', ['chat', '--reason', 'x', ...common()], lost)).toBe(1);
    expect(lost.errors).toEqual(['steer53 freeze: no AWS region is configured; pass --region <region>, or set AWS_REGION (or a region in your AWS profile)']);
    expect((await stored()).version).toBe(0);
  });
});

describe('Command: steer53 plan', () => {
  /** Route 53 and CloudWatch in memory: the plan reads them, the state comes from dynalite. */
  function readPorts(latencyMs: Record<string, number>) {
    const clock = new ManualClock(T0);
    const dns = new InMemoryDnsWeights({ clock });
    dns.defineRecordSet(recordSetOf(service), { 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 100 });
    const metrics = new InMemoryMetrics();
    for (const e of service.endpoints) {
      metrics.setAlarmState({ name: `chat-${e.setIdentifier}-5xx`, region: e.region }, 'OK');
      metrics.recordSignal(service, e.setIdentifier, 'p99-latency', judgedStart(T0), { value: latencyMs[e.setIdentifier]! * 1000, sampleCount: 5000 });
    }
    return { dns, metrics };
  }

  it('prints what the controller would decide now, and writes nothing', async () => {
    const out = io({ readPorts: () => readPorts({ 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 }) });
    expect(await runOperate('plan', ['chat', ...common()], out)).toBe(0);
    expect(out.lines[0]).toBe(`plan for chat (chat.example.com), state version 0, at ${new Date(T0).toISOString()}: nothing is written`);
    expect(out.lines).toContain('weights now:  us-east-1=100 eu-west-1=100 ap-northeast-1=100');
    expect(out.lines).toContain('would become: (no change)');
    expect(out.lines).toContain('  eu-west-1: clear — p99-latency 900 ms clear, error-alarm OK clear');
    expect((await stored()).version).toBe(0);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('fails with a clear message, exit 1, when Route 53 has none of the records the config names', async () => {
    const out = io({ readPorts: () => ({ dns: new InMemoryDnsWeights({ clock: new ManualClock(T0) }), metrics: new InMemoryMetrics() }) });
    expect(await runOperate('plan', ['chat', ...common()], out)).toBe(1);
    expect(out.errors[0]).toMatch(/^steer53 plan: could not observe and decide: RecordNotFoundError: /);
  });

  it('shows the capacity it would ask for, and asks nothing', async () => {
    const raw = editableRawConfig();
    for (const e of raw.services[0]!.endpoints) {
      e.load = { namespace: 'Chat', metricName: 'RequestCount', dimensions: { Region: e.setIdentifier }, statistic: 'Sum' };
      e.capacity = {
        warmRps: 30,
        ...(e.setIdentifier === 'eu-west-1' ? { scaling: { provider: { kind: 'ec2-asg', autoScalingGroupName: 'chat-eu' }, maxInstances: 30 } } : {}),
      };
    }
    const scaled = testConfig(raw).services[0]!;
    const path = join(mkdtempSync(join(tmpdir(), 'steer53-ops-')), 'steer53.config.json');
    writeFileSync(path, JSON.stringify(raw));
    const clock = new ManualClock(T0);
    const dns = new InMemoryDnsWeights({ clock });
    dns.defineRecordSet(recordSetOf(scaled), { 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 100 });
    const metrics = new InMemoryMetrics();
    for (const e of scaled.endpoints) {
      const down = e.setIdentifier === 'us-east-1';
      metrics.setAlarmState({ name: `chat-${e.setIdentifier}-5xx`, region: e.region }, down ? 'ALARM' : 'OK');
      if (down) continue;
      metrics.recordSignal(scaled, e.setIdentifier, 'p99-latency', judgedStart(T0), { value: 900_000, sampleCount: 5000 });
      metrics.recordSignal(scaled, e.setIdentifier, 'load', judgedStart(T0), { value: 20 * 60 });
    }
    const capacity = new InMemoryCapacity();
    capacity.define('chat', 'eu-west-1', 10);
    const out = io({ readPorts: () => ({ dns, metrics, capacity }) });
    expect(await runOperate('plan', ['chat', '--table', table, '--config', path], out)).toBe(0);
    expect(out.lines.filter((l) => l.startsWith('capacity:'))).toEqual([
      expect.stringMatching(/^capacity: would ask eu-west-1 to hold \d+ instances \(more; 10 held, 10 in service\) \[CAPACITY_REQUESTED\]$/),
    ]);
    expect(capacity.log).toEqual([]);
  });

  it('says what the Route 53 health check of an endpoint drained for failing says, as read for the plan', async () => {
    const state = initialServiceState(service, T0 - 30 * MINUTE);
    const drained = { ...state.endpoints['eu-west-1']!, status: 'drained' as const, failed: true, shed: 1 };
    await new DynamoStateStore({ client: dynamo.client, tableName: table }).save('chat', 0, {
      state: { ...state, endpoints: { ...state.endpoints, 'eu-west-1': drained } },
      pending: null,
      driftSignature: null,
      blockedSignature: null,
      updatedAt: T0 - MINUTE,
    });
    const ports = readPorts({ 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    ports.dns.attachHealthCheck(recordSetOf(service), 'eu-west-1', 'hc-euw1');
    const healthChecks = new InMemoryHealthChecks();
    healthChecks.set('hc-euw1', 'unhealthy');
    const out = io({ readPorts: () => ({ ...ports, healthChecks }) });
    expect(await runOperate('plan', ['chat', ...common()], out)).toBe(0);
    expect(out.lines.filter((l) => l.startsWith('  eu-west-1:'))).toEqual([expect.stringMatching(/ — .*; Route 53 health check unhealthy$/)]);
    expect(out.lines.filter((l) => l.includes('Route 53 health check'))).toHaveLength(1);
    expect(healthChecks.reads).toEqual(['hc-euw1']);
  });

  it('plans on the state the override commands wrote: frozen, nothing to change', async () => {
    await runOperate('freeze', ['chat', '--reason', 'launch', ...common()], io());
    const out = io({ readPorts: () => readPorts({ 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 }) });
    expect(await runOperate('plan', ['chat', '--json', ...common()], out)).toBe(0);
    const plan = JSON.parse(out.lines.join('\n'));
    expect(plan).toMatchObject({ service: 'chat', stateVersion: 1, decision: { mode: 'frozen', changes: [] } });
  });
});
