/**
 * Bad input through every handler: hand-written malformed events, and thousands of generated ones
 * (arbitrary JSON, and valid events with one field broken). Every one must end in a clear,
 * structured error log (or a debug log for events that are merely not ours), never an unhandled
 * crash, and never a change of state.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAlarmHandler } from '../../../functions/handlers/alarm.js';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { createDeploymentHandler } from '../../../functions/handlers/deployment.js';
import { memoryWorld, testConfig } from '../app/runtimeFixtures.js';
import { alarmStateChangeEvent, context, deploymentEvent, scheduledRuleEvent, schedulerPayload, snsAlarmEvent, testDeps } from './handlerFixtures.js';

const config = testConfig();
const factories = { alarm: createAlarmHandler, schedule: createScheduleHandler, deployment: createDeploymentHandler };
type Kind = keyof typeof factories;

/** Runs one event through a fresh world; returns the result and what changed. */
async function run(kind: Kind, event: unknown) {
  const world = memoryWorld(config);
  const t = testDeps(async () => world.runtime());
  const result = (await factories[kind](t.deps)(event as never, context)) as { status: string; problems?: { path: string; message: string }[] };
  const changed = (await world.store.load('chat')).version !== 0 || (await world.store.listAudit('chat')).length > 0 || world.dns.changeLog.length > 0;
  return { result, changed, t };
}

function withPath(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  if (replacement === DELETE) delete at[path.at(-1)!];
  else at[path.at(-1)!] = replacement;
  return copy;
}
const DELETE = Symbol('delete');

const sns = snsAlarmEvent();
const snsMessage = JSON.parse(sns.Records[0]!.Sns.Message) as Record<string, unknown>;
function snsWith(message: unknown) {
  const event = structuredClone(sns);
  event.Records[0]!.Sns.Message = typeof message === 'string' ? message : JSON.stringify(message);
  return event;
}

describe('hand-written malformed events', () => {
  it.each<[Kind, string, unknown, string]>([
    ['alarm', 'null', null, '(root)'],
    ['alarm', 'an array', [], '(root)'],
    ['alarm', 'a string', 'ALARM', '(root)'],
    ['alarm', 'an empty object', {}, 'source'],
    ['alarm', 'an EC2 event', { ...alarmStateChangeEvent(), source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' }, 'source'],
    ['alarm', 'an unknown alarm state', withPath(alarmStateChangeEvent(), ['detail', 'state', 'value'], 'BROKEN'), 'detail.state.value'],
    ['alarm', 'no alarm name', withPath(alarmStateChangeEvent(), ['detail', 'alarmName'], DELETE), 'detail.alarmName'],
    ['alarm', 'no resources', withPath(alarmStateChangeEvent(), ['resources'], []), 'resources'],
    ['alarm', 'a region that is not a region code', withPath(alarmStateChangeEvent(), ['region'], 'Ireland'), 'region'],
    ['alarm', 'an SNS message that is not JSON', snsWith('ALARM: chat is down'), 'Records[0].Sns.Message'],
    ['alarm', 'an SNS message without NewStateValue', snsWith({ ...snsMessage, NewStateValue: undefined }), 'Records[0].Sns.Message.NewStateValue'],
    ['alarm', 'an SNS message with a bad alarm ARN', snsWith({ ...snsMessage, AlarmArn: 'arn:aws:sns:x' }), 'Records[0].Sns.Message.AlarmArn'],
    ['alarm', 'an SNS event with no records', { Records: [] }, 'Records'],
    ['schedule', 'null', null, '(root)'],
    ['schedule', 'an unknown key', { hello: 'world' }, 'hello'],
    ['schedule', 'a rule event from another source', { ...scheduledRuleEvent(), source: 'aws.ec2' }, 'source'],
    ['schedule', 'a Scheduler payload with a bad time', { ...schedulerPayload(), scheduledTime: 'yesterday' }, 'scheduledTime'],
    ['schedule', 'an empty service list', { services: [] }, 'services'],
    ['deployment', 'null', null, '(root)'],
    ['deployment', 'no idempotency key', withPath(deploymentEvent(), ['detail', 'idempotencyKey'], DELETE), 'detail.idempotencyKey'],
    ['deployment', 'an unknown detail type', deploymentEvent('Deployment Exploded'), 'detail-type'],
    ['deployment', 'a typo in the detail', withPath(deploymentEvent(), ['detail', 'verison'], 'v1'), 'detail.verison'],
    ['deployment', 'the wrong source', { ...deploymentEvent(), source: 'my.pipeline' }, 'source'],
    ['deployment', 'a service the config does not have', deploymentEvent('Deployment Started', { service: 'payments' }), 'detail.service'],
    ['deployment', 'an endpoint the service does not have', deploymentEvent('Deployment Started', { endpoint: 'mars-1' }), 'detail.endpoint'],
  ])('%s handler: %s → rejected naming %s, nothing changed', async (kind, _, event, path) => {
    const { result, changed, t } = await run(kind, event);
    expect(result.status).toBe('rejected');
    expect(result.problems!.map((p) => p.path)).toContain(path);
    expect(changed).toBe(false);
    expect(t.errorLog).toHaveBeenCalledWith(
      expect.stringMatching(/^malformed .*: ignored, nothing changed$/),
      expect.objectContaining({ problems: expect.arrayContaining([expect.objectContaining({ path })]) }),
    );
    expect(t.counts).toContainEqual({ metric: 'MalformedEvents', service: 'none', value: 1 });
  });
});

/** Every leaf path of a value, for mutating one field at a time. */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  const paths: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  for (const [key, v] of entries) paths.push(...leafPaths(v, [...prefix, key]));
  return paths;
}

const valid: Record<Kind, unknown[]> = {
  alarm: [alarmStateChangeEvent(), snsAlarmEvent()],
  schedule: [scheduledRuleEvent(), schedulerPayload()],
  deployment: [deploymentEvent()],
};

/** Values that are not a well-formed JSON event field of the kind expected. */
const junk = fc.oneof(
  fc.constant(DELETE),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 12 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.anything({ maxDepth: 1 }), { maxKeys: 3 }),
);

describe.each(Object.keys(factories) as Kind[])('generated bad input through the %s handler', (kind) => {
  it('arbitrary JSON values: never a crash, never a change, always a clear answer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.anything()), async (event) => {
        const { result, changed, t } = await run(kind, event);
        // {} is a valid (empty) Scheduler payload: it is a tick, not bad input.
        if (kind === 'schedule' && result.status === 'evaluated') return;
        expect(['rejected', 'ignored']).toContain(result.status);
        expect(changed).toBe(false);
        if (result.status === 'rejected') {
          expect(result.problems!.length).toBeGreaterThan(0);
          expect(t.errorLog).toHaveBeenCalledTimes(1);
        } else {
          expect(t.debugLog).toHaveBeenCalled();
        }
      }),
      { numRuns: 1500, seed: 53 },
    );
  });

  it('valid events with one field broken: rejected with the path of the problem, or harmless', async () => {
    const cases = valid[kind].flatMap((event) => leafPaths(event).map((path) => ({ event, path })));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cases), junk, async ({ event, path }, replacement) => {
        const broken = withPath(event, path, replacement);
        const { result, changed } = await run(kind, broken);
        if (result.status === 'rejected') {
          expect(changed).toBe(false);
          expect(result.problems!.every((p) => typeof p.path === 'string' && p.message.length > 0)).toBe(true);
        } else {
          // The broken field was one the handler does not depend on (a description, the
          // alarm configuration, an optional id): the event is still a good one.
          expect(['evaluated', 'ignored', 'applied']).toContain(result.status);
        }
      }),
      { numRuns: 1500, seed: 35 },
    );
  });
});
