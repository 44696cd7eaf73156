/**
 * The three handlers against payloads seeded from AWS's own samples of every delivery form
 * (test/fixtures/alarm-events, schedule-events, native-events: AWS documentation and the AWS SDKs'
 * test suites, not steer53's fixtures), as published and adopted to the test's config, then broken
 * one or two fields at a time: values replaced by Object.prototype names, oversized strings,
 * other types, far past or future times, or removed. 10,000 cases per handler.
 *
 * What must hold for every case: the handler returns (no unhandled exception), and an event it
 * rejects, refuses or ignores changes nothing: no state write, no audit entry, no Route 53 change,
 * no notice.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAlarmHandler } from '../../../functions/handlers/alarm.js';
import { createDeploymentHandler } from '../../../functions/handlers/deployment.js';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import type { AuditEntry, StateStore, StateWrite } from '../../../functions/ports/stateStore.js';
import { ACCOUNT, editableRawConfig, judgedStart, memoryWorld, T0, testConfig } from '../app/runtimeFixtures.js';
import { context, deploymentEvent, testDeps } from './handlerFixtures.js';

const RUNS = 10_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** CloudWatch writes its alarm times with a `+0000` offset. */
const cloudWatchTime = (ms: number) => iso(ms).replace('Z', '+0000');

function fixtures(folder: string): Record<string, unknown>[] {
  const dir = new URL(`../../fixtures/${folder}/`, import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// Seeds: each sample as published, and adopted (the test's alarm, account and time in its shape)

const ALARM = 'chat-eu-west-1-5xx';
const ALARM_ARN = `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:${ALARM}`;
type Json = Record<string, unknown>;

/** An SNS event with each Message as an object, so the fuzzer can break fields inside it; `finish` turns it back into text. */
function openSns(event: Json): Json {
  const copy = structuredClone(event) as { Records: { Sns: { Message: unknown } }[] };
  for (const r of copy.Records) r.Sns.Message = JSON.parse(r.Sns.Message as string);
  return copy as unknown as Json;
}

function adoptAlarm(sample: Json): Json {
  const e = structuredClone(sample) as Json & { detail?: Json; alarmData?: Json; Records?: { Sns: { Message: Json; Timestamp: string } }[] };
  if (e.Records) {
    const opened = openSns(e) as typeof e;
    for (const r of opened.Records!) {
      Object.assign(r.Sns.Message, { AlarmName: ALARM, AlarmArn: ALARM_ARN, AWSAccountId: ACCOUNT, StateChangeTime: cloudWatchTime(T0) });
      r.Sns.Timestamp = iso(T0);
    }
    return opened;
  }
  if (e.alarmData)
    return { ...e, alarmArn: ALARM_ARN, accountId: ACCOUNT, region: 'eu-west-1', time: cloudWatchTime(T0), alarmData: { ...e.alarmData, alarmName: ALARM } };
  return { ...e, account: ACCOUNT, region: 'eu-west-1', time: iso(T0), resources: [ALARM_ARN], detail: { ...e.detail, alarmName: ALARM } };
}

const alarmSamples = fixtures('alarm-events');
const alarmSeeds: Json[] = [...alarmSamples.map((s) => (Object.hasOwn(s, 'Records') ? openSns(s) : s)), ...alarmSamples.map(adoptAlarm)];
const scheduleSeeds: Json[] = fixtures('schedule-events');
const nativeSamples = fixtures('native-events');
const deploymentSeeds: Json[] = [
  ...nativeSamples,
  ...nativeSamples.map((s) => ({ ...s, time: iso(T0), id: `${String(s.id)}-${String((s.detail as Json).state ?? (s.detail as Json).eventName ?? '')}` })),
  deploymentEvent(),
  deploymentEvent('Deployment Succeeded', { idempotencyKey: 'k-succeeded' }),
];

// ---------------------------------------------------------------------------------------------
// Mutations

const DELETE = Symbol('delete');
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toLocaleString', '__defineGetter__'];
const junk = fc.oneof(
  fc.constant<unknown>(DELETE),
  fc.constantFrom<unknown>(...PROTOTYPE_NAMES),
  fc.constantFrom<unknown>('x'.repeat(300), 'y'.repeat(200_000), 'ALARM', 'OK', 'INSUFFICIENT_DATA', '999999999999', '{}', '[]', 'not json'),
  fc.constantFrom<unknown>('2099-01-01T00:00:00Z', '2019-10-02T17:04:40Z', '1970-01-01T00:00:00.000+0000', iso(T0 + 3_600_000)),
  fc.constant<unknown>(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 16 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom(...PROTOTYPE_NAMES, 'a'), fc.anything({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** Every path in a value (objects and arrays too, so whole sub-objects are replaced as well). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [...(prefix.length > 0 ? [prefix] : []), ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

/** Sets (or removes) a path as an own property, even `__proto__`, as JSON.parse would; a path an earlier edit removed is left alone. */
function mutate(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(at, key) ? at[key] : undefined;
    if (typeof next !== 'object' || next === null) return copy;
    at = next as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (replacement === DELETE) delete at[last];
  else Object.defineProperty(at, last, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** SNS Messages back to text, as SNS delivers them. */
function finish(event: unknown): unknown {
  const records = (event as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return event;
  for (const r of records) {
    const sns = (r as { Sns?: { Message?: unknown } } | null)?.Sns;
    if (sns && typeof sns === 'object' && typeof sns.Message === 'object' && sns.Message !== null) sns.Message = JSON.stringify(sns.Message);
  }
  return event;
}

const broken = (seeds: readonly Json[]) =>
  fc
    .constantFrom(...seeds)
    .chain((seed) => fc.tuple(fc.constant(seed), fc.array(fc.tuple(fc.constantFrom(...paths(seed)), junk), { minLength: 0, maxLength: 2 })))
    .map(([seed, edits]) => finish(edits.reduce<unknown>((event, [path, value]) => mutate(event, path, value), seed)));

// ---------------------------------------------------------------------------------------------
// The world, and what a case may change

/** Counts every write the use cases make through the store. */
class CountingStore implements StateStore {
  writes = 0;
  constructor(private readonly inner: StateStore) {}
  load(service: string) {
    return this.inner.load(service);
  }
  loadMany(services: readonly string[]) {
    return this.inner.loadMany(services);
  }
  async save(service: string, expected: number, write: StateWrite) {
    const version = await this.inner.save(service, expected, write);
    this.writes += 1;
    return version;
  }
  async putAudit(entry: AuditEntry) {
    await this.inner.putAudit(entry);
    this.writes += 1;
  }
  listAudit(service: string) {
    return this.inner.listAudit(service);
  }
}

function fuzzWorld() {
  const raw = editableRawConfig();
  raw.services[0]!.policy = { ...(raw.services[0]!.policy as Json), rollout: { mode: 'drain-during-deploy' } };
  const ecs = (nativeSamples.find((s) => s.source === 'aws.ecs')!.resources as string[])[0]!;
  raw.services[0]!.endpoints[1]!.deploymentSources = {
    ecsServices: [ecs],
    codeDeployDeploymentGroups: [{ application: 'myApplication', deploymentGroup: 'myDeploymentGroup' }],
    sagemakerEndpoints: ['sample-endpoint'],
    codePipelines: ['myPipeline'],
  };
  raw.services[0]!.deploymentPublishers = { accounts: ['111122223333'] };
  const world = memoryWorld(testConfig(raw));
  world.feed(judgedStart(T0), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
  world.metrics.setAlarmState({ name: ALARM, region: 'eu-west-1' }, 'ALARM');
  const store = new CountingStore(world.store);
  const t = testDeps(async () => world.runtime({ store }));
  const changes = () => store.writes + world.dns.changeLog.length + world.notifier.notices.length;
  return { t, changes };
}

const factories = { alarm: createAlarmHandler, schedule: createScheduleHandler, deployment: createDeploymentHandler };
const seeds = { alarm: alarmSeeds, schedule: scheduleSeeds, deployment: deploymentSeeds };

describe.each(Object.keys(factories) as (keyof typeof factories)[])('AWS sample payloads, broken, through the %s handler', (kind) => {
  it(`${RUNS} cases: never an unhandled exception; a rejected, refused or ignored event changes nothing`, async () => {
    const { t, changes } = fuzzWorld();
    const handler = factories[kind](t.deps);
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(broken(seeds[kind]), async (event) => {
        const before = changes();
        const result = (await handler(event as never, context)) as { status: string };
        seen.set(result.status, (seen.get(result.status) ?? 0) + 1);
        if (['rejected', 'refused', 'ignored'].includes(result.status)) expect(changes()).toBe(before);
      }),
      { numRuns: RUNS, seed: 14 },
    );
    // The fuzzer reached both sides: events that act, and events turned away.
    const acted = (seen.get('evaluated') ?? 0) + (seen.get('applied') ?? 0);
    const turnedAway = (seen.get('rejected') ?? 0) + (seen.get('refused') ?? 0) + (seen.get('ignored') ?? 0);
    expect(acted).toBeGreaterThan(RUNS / 100);
    if (kind !== 'schedule') expect(turnedAway).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});
