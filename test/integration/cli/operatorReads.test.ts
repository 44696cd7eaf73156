/**
 * `steer53 status` and `steer53 history` against a real DynamoDB API (dynalite, started here):
 * the state and audit entries are written with the same store the controller uses, then read back
 * through the commands as an operator would.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runHistory } from '../../../bin/commands/history.js';
import { runStatus } from '../../../bin/commands/status.js';
import type { OpsIo } from '../../../bin/commands/ops.js';
import { DynamoStateStore } from '../../../functions/adapters/aws/dynamoStateStore.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import type { EndpointState, RolloutState, ServiceState } from '../../../functions/core/types.js';
import type { AuditEntry, PendingChange, StateWrite } from '../../../functions/ports/stateStore.js';
import { createTable, startDynalite, type LocalDynamo } from '../runtime/dynalite.js';
import { MINUTE, rawConfig, T0, testConfig, ZONE } from '../../unit/app/runtimeFixtures.js';

// Two services, so one's entries can be seen to stay out of the other's history.
const twoServices = { ...rawConfig, services: [...rawConfig.services, { ...rawConfig.services[0]!, name: 'search', dnsName: 'search.example.com' }] };
const chat = testConfig(twoServices).services[0]!;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

let dynamo: LocalDynamo;
let dir: string;
let configPath: string;
let table: string;
let store: DynamoStateStore;

beforeAll(async () => {
  dynamo = await startDynalite();
  dir = await mkdtemp(join(tmpdir(), 'steer53-ops-'));
  configPath = join(dir, 'steer53.config.json');
  await writeFile(configPath, JSON.stringify(twoServices));
});
afterAll(async () => {
  await dynamo.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  table = await createTable(dynamo);
  store = new DynamoStateStore({ client: dynamo.client, tableName: table });
});

function io(env: OpsIo['env'] = {}): OpsIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => void lines.push(line), err: (line) => void errors.push(line), dynamo: () => dynamo.client, env };
}

/** The arguments every read takes here: the test's table and config. */
const where = () => ['--table', table, '--config', configPath];

function write(state: ServiceState, pending: PendingChange | null = null): StateWrite {
  return { state, pending, driftSignature: null, blockedSignature: null, updatedAt: T0 };
}

function endpointState(extra: Partial<EndpointState>): EndpointState {
  return {
    status: 'healthy',
    since: T0 - 60 * MINUTE,
    history: [],
    shed: 0,
    recoveryStep: 0,
    stepSince: T0 - 60 * MINUTE,
    dwellSeconds: 0,
    failedRecoveries: 0,
    ...extra,
  };
}

const rollout: RolloutState = {
  version: 'v42',
  phase: 'canary',
  since: T0 - 20 * MINUTE,
  lastEventAt: T0 - 20 * MINUTE,
  step: 1,
  stepSince: T0 - 5 * MINUTE,
  extensions: 0,
  preDeployFactor: 1,
};

/** A service in the thick of it: one endpoint degraded, one recovering, every override, a canary, fail static, a change in flight. */
function busyState(): ServiceState {
  return {
    ...initialServiceState(chat, T0 - 60 * MINUTE, { 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 50 }),
    // Not the config's order: the command lists endpoints as the config does.
    endpoints: {
      'ap-northeast-1': endpointState({ status: 'recovering', since: T0 - 4 * MINUTE, recoveryStep: 0, recoveryFrom: 0 }),
      'eu-west-1': endpointState({ status: 'degraded', since: T0 - 10 * MINUTE, shed: 0.3, shedFrom: 1 }),
      'us-east-1': endpointState({}),
    },
    overrides: {
      freeze: { by: 'arn:aws:sts::123456789012:assumed-role/oncall/alice', reason: 'incident 42', setAt: T0 - 5 * MINUTE, until: null },
      pin: {
        by: 'bob',
        reason: 'load test',
        setAt: T0 - 5 * MINUTE,
        until: T0 + 30 * MINUTE,
        weights: { 'us-east-1': 200, 'eu-west-1': 55, 'ap-northeast-1': 0 },
      },
      drains: { 'ap-northeast-1': { by: 'carol', reason: 'driver upgrade', setAt: T0 - 5 * MINUTE, until: T0 + 60 * MINUTE } },
    },
    rollouts: { 'eu-west-1': rollout },
    failStaticSince: T0 - 2 * MINUTE,
    lastEvaluatedAt: T0,
    lastPeriodStart: T0 - 2 * MINUTE,
  };
}

const pending: PendingChange = {
  decisionId: 'd-7',
  recordedAt: T0,
  leaseUntil: T0 + MINUTE,
  record: { hostedZoneId: ZONE, dnsName: 'chat.example.com', recordType: 'A' },
  from: { 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 50 },
  to: { 'eu-west-1': 70 },
  decision: decide(chat, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints: {} }, state: undefined }).decision,
  trigger: 'schedule',
};

describe('Command: steer53 status', () => {
  it('shows weights, endpoints in config order, overrides with their ends, rollouts, fail static and the pending change', async () => {
    await store.save('chat', 0, write(busyState()));
    const version = await store.save('chat', 1, write(busyState(), pending));
    const out = io();
    expect(await runStatus(['chat', ...where()], out)).toBe(0);
    expect(out.errors).toEqual([]);
    expect(out.lines).toEqual([
      `chat (chat.example.com) in table ${table}`,
      `state version ${version}, last evaluated ${at(0)}`,
      'weights applied: us-east-1 100, eu-west-1 100, ap-northeast-1 50',
      'endpoints:',
      `  us-east-1       healthy     since ${at(-60)}`,
      `  eu-west-1       degraded    since ${at(-10)}  shed 30% of its baseline`,
      `  ap-northeast-1  recovering  since ${at(-4)}  recovery step 1 of 2 (50% of baseline)`,
      'overrides:',
      '  freeze by arn:aws:sts::123456789012:assumed-role/oncall/alice, no end: incident 42',
      `  pin us-east-1 200, eu-west-1 55, ap-northeast-1 0 by bob, until ${at(30)}: load test`,
      `  drain ap-northeast-1 by carol, until ${at(60)}: driver upgrade`,
      'rollouts:',
      `  eu-west-1 v42 canary, step 2 of 4 (25% of baseline) since ${at(-5)}`,
      `fail static since ${at(-2)}`,
      `pending change d-7, recorded ${at(0)}: us-east-1 100, eu-west-1 100->70, ap-northeast-1 50`,
    ]);
  });

  it('says plainly when nothing is in force, and marks a drained endpoint that is failing', async () => {
    const state = initialServiceState(chat, T0, { 'us-east-1': 127, 'eu-west-1': 128, 'ap-northeast-1': 0 });
    const drained = {
      ...state,
      endpoints: { ...state.endpoints, 'ap-northeast-1': endpointState({ status: 'drained', since: T0 - 3 * MINUTE, failed: true }) },
      lastEvaluatedAt: T0,
    };
    await store.save('chat', 0, write(drained));
    const out = io();
    expect(await runStatus(['chat', ...where()], out)).toBe(0);
    expect(out.lines).toEqual([
      `chat (chat.example.com) in table ${table}`,
      `state version 1, last evaluated ${at(0)}`,
      'weights applied: us-east-1 127, eu-west-1 128, ap-northeast-1 0',
      'endpoints:',
      `  us-east-1       healthy     since ${at(0)}`,
      `  eu-west-1       healthy     since ${at(0)}`,
      `  ap-northeast-1  drained     since ${at(-3)}  (failing)`,
      'overrides: none',
      'rollouts: none',
      'pending change: none',
    ]);
  });

  it('says a service that was never evaluated was never evaluated, and exits 0', async () => {
    const out = io();
    expect(await runStatus(['chat', ...where()], out)).toBe(0);
    expect(out.lines).toEqual([
      `chat (chat.example.com) in table ${table}`,
      'never evaluated: no state stored yet (the controller writes it at its first evaluation)',
    ]);
  });

  it('--json prints the stored item as the store reads it', async () => {
    await store.save('chat', 0, write(busyState(), pending));
    const out = io();
    expect(await runStatus(['chat', ...where(), '--json'], out)).toBe(0);
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toEqual(await store.load('chat'));
    expect(JSON.parse(out.lines[0]!).state.overrides.pin.until).toBe(T0 + 30 * MINUTE);
  });

  it('takes the table from STEER53_TABLE_NAME when --table is not given', async () => {
    const out = io({ STEER53_TABLE_NAME: table });
    expect(await runStatus(['chat', '--config', configPath], out)).toBe(0);
    expect(out.lines[0]).toBe(`chat (chat.example.com) in table ${table}`);
  });
});

describe('Command: steer53 history', () => {
  const entries: AuditEntry[] = [
    {
      service: 'chat',
      id: 'd-1',
      at: T0 + MINUTE,
      kind: 'decision',
      status: 'applied',
      actor: 'steer53 schedule',
      summary: 'chat.example.com: eu-west-1 100->70 (eu-west-1 degraded)',
      before: { 'us-east-1': 100, 'eu-west-1': 100, 'ap-northeast-1': 100 },
      after: { 'us-east-1': 100, 'eu-west-1': 70, 'ap-northeast-1': 100 },
      reasons: [{ code: 'SHED_PROPORTIONAL', message: 'eu-west-1 sheds 30%', endpoint: 'eu-west-1' }],
      changeIds: ['/change/C1'],
    },
    { service: 'chat', id: 'x-3', at: T0 + 3 * MINUTE, kind: 'deployment', status: 'recorded', actor: 'pipeline run-7', summary: 'eu-west-1 deploying v42' },
    {
      service: 'chat',
      id: 'r-2',
      at: T0 + 2 * MINUTE,
      kind: 'drift',
      status: 'recorded',
      actor: 'drift',
      summary: 'Route 53 holds weights steer53 did not write',
      after: { 'us-east-1': 90, 'eu-west-1': 70, 'ap-northeast-1': 100 },
    },
  ];
  const seed = async () => {
    for (const entry of entries) await store.putAudit(entry);
    await store.putAudit({
      service: 'search',
      id: 's-1',
      at: T0 + 4 * MINUTE,
      kind: 'decision',
      status: 'applied',
      actor: 'steer53 schedule',
      summary: 'another service',
    });
  };

  it('lists the service’s entries newest first, one aligned line each, with the weights under those that have them', async () => {
    await seed();
    const out = io();
    expect(await runHistory(['chat', ...where()], out)).toBe(0);
    expect(out.errors).toEqual([]);
    expect(out.lines).toEqual([
      `${at(3)}  deployment  recorded  pipeline run-7    eu-west-1 deploying v42`,
      `${at(2)}  drift       recorded  drift             Route 53 holds weights steer53 did not write`,
      '    weights us-east-1 90, eu-west-1 70, ap-northeast-1 100',
      `${at(1)}  decision    applied   steer53 schedule  chat.example.com: eu-west-1 100->70 (eu-west-1 degraded)`,
      '    weights us-east-1 100, eu-west-1 100->70, ap-northeast-1 100',
    ]);
  });

  it('--limit keeps the newest N', async () => {
    await seed();
    const out = io();
    expect(await runHistory(['chat', '--limit', '2', ...where()], out)).toBe(0);
    expect(out.lines.filter((l) => !l.startsWith(' ')).map((l) => l.slice(0, 24))).toEqual([at(3), at(2)]);
  });

  it('says there is no history when the service has none in that table, though another service has', async () => {
    await store.putAudit({ service: 'search', id: 's-1', at: T0, kind: 'decision', status: 'applied', actor: 'steer53 schedule', summary: 'another service' });
    const out = io();
    expect(await runHistory(['chat', ...where()], out)).toBe(0);
    expect(out.lines).toEqual([`no history for chat in table ${table}`]);
  });

  it('--json prints the entries, newest first, as they were written', async () => {
    await seed();
    const out = io();
    expect(await runHistory(['chat', ...where(), '--json'], out)).toBe(0);
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toEqual([entries[1], entries[2], entries[0]]);
  });
});

describe('Commands: steer53 status and history, arguments', () => {
  const commands = [
    ['status', runStatus],
    ['history', runHistory],
  ] as const;

  it.each(commands)('%s --help prints the usage and exits 0', async (name, run) => {
    const out = io();
    expect(await run(['--help'], out)).toBe(0);
    expect(out.lines).toEqual([expect.stringMatching(new RegExp(`^usage: steer53 ${name} <service> `))]);
  });

  it.each([
    ['no service', [], '<service>: is required'],
    ['two services', ['chat', 'search'], '<service>: name one service (got "chat" "search")'],
    [
      'no table, STEER53_TABLE_NAME unset',
      ['chat', '--config', 'unused.json'],
      '--table: is required (or set STEER53_TABLE_NAME): the table the TrafficController construct created',
    ],
    ['a table name DynamoDB would refuse', ['chat', '--table', 'no way'], '--table: "no way" is not a DynamoDB table name'],
  ])('%s is a usage error (exit 2) for both commands', async (_, args, problem) => {
    for (const [, run] of commands) {
      const out = io();
      expect(await run([...args], out)).toBe(2);
      expect(out.errors[0]).toBe(problem);
      expect(out.errors.at(-1)).toMatch(/^usage: steer53 (status|history) <service>/);
      expect(out.lines).toEqual([]);
    }
  });

  it.each(commands)('%s with an unknown option is a usage error (exit 2) naming it', async (_, run) => {
    const out = io();
    expect(await run(['chat', '--bogus', ...where()], out)).toBe(2);
    // node:util's wording; only its start is ours to pin.
    expect(out.errors[0]).toMatch(/^\(arguments\): Unknown option '--bogus'/);
    expect(out.errors).toHaveLength(2);
  });

  it.each(['0', '501', 'ten', '2.5', '-1', '1e2'])('history --limit %s is a usage error naming --limit', async (limit) => {
    const out = io();
    // `--limit=` so node:util takes "-1" as the value rather than as an option.
    expect(await runHistory(['chat', `--limit=${limit}`, ...where()], out)).toBe(2);
    expect(out.errors).toEqual([
      `--limit: must be a whole number from 1 to 500 (got "${limit}")`,
      `usage: steer53 history <service> [--limit N] [--table <name>] [--region <r>] [--config <file>] [--json]`,
    ]);
  });

  it('reports every argument problem at once, before reading the config', async () => {
    const out = io();
    expect(await runHistory(['--limit', '0', '--config', join(dir, 'missing.json')], out)).toBe(2);
    expect(out.errors.map((e) => e.split(':')[0])).toEqual(['<service>', '--limit', '--table', 'usage']);
  });

  it.each(commands)('%s of a service the config does not have rejects with a ValidationError', async (_, run) => {
    await expect(run(['nope', ...where()], io())).rejects.toThrow(ValidationError);
    await expect(run(['nope', ...where()], io())).rejects.toThrow('has no service "nope" (services: chat, search)');
  });

  it.each([
    ['status', runStatus, 'read the state of chat'],
    ['history', runHistory, 'read the audit log of chat'],
  ] as const)('%s against a table that does not exist exits 1 naming the failure', async (name, run, what) => {
    const out = io();
    expect(await run(['chat', '--table', 'no-such-table', '--config', configPath], out)).toBe(1);
    expect(out.lines).toEqual([]);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatch(
      new RegExp(
        `^steer53 ${name}: could not ${what} from table no-such-table: AwsCallError: dynamodb:\\w+ on table no-such-table failed: ResourceNotFoundException: `,
      ),
    );
  });
});
