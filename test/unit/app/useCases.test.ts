import { describe, expect, it } from 'vitest';
import { onTick } from '../../../functions/app/onTick.js';
import { matchAlarm, onAlarm } from '../../../functions/app/onAlarm.js';
import { editableRawConfig, judgedStart, memoryWorld, rawConfig, testConfig, T0 } from './runtimeFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

function twoServices() {
  const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
  raw.services.push({ ...structuredClone(raw.services[0]!), name: 'chat-beta', dnsName: 'beta.chat.example.com' });
  return testConfig(raw);
}

describe('Function: onTick', () => {
  it('observes every service with one metrics call and one alarms call, then evaluates each', async () => {
    const world = memoryWorld(twoServices());
    world.feed(judgedStart(T0), HEALTHY);
    const tick = await onTick(world.runtime());
    expect(tick.outcomes.map((o) => [o.service, o.status]).sort()).toEqual([
      ['chat', 'unchanged'],
      ['chat-beta', 'unchanged'],
    ]);
    expect(world.metrics.metricCalls).toBe(1);
    expect(world.metrics.alarmCalls).toBe(1);
    // Both services' signals (3 endpoints × 1 metric each) were in the one call.
    expect(world.metrics.lastRequests.map((r) => r.key.split('\u0000')[0])).toEqual(['chat', 'chat', 'chat', 'chat-beta', 'chat-beta', 'chat-beta']);
  });

  it('keeps evaluating the other services when one fails', async () => {
    const world = memoryWorld(twoServices());
    world.dns.defineRecordSet({ hostedZoneId: 'Z0123456789EXAMPLE', dnsName: 'beta.chat.example.com', recordType: 'A' }, { 'us-east-1': 100 });
    world.feed(judgedStart(T0), HEALTHY);
    const tick = await onTick(world.runtime());
    expect(tick.outcomes.map((o) => o.service)).toEqual(['chat']);
    expect(tick.failures.map((f) => [f.service, f.error.name])).toEqual([['chat-beta', 'RecordNotFoundError']]);
  });
});

describe('Function: onAlarm', () => {
  it('maps an alarm by name and region to its service, endpoint and signal', () => {
    const config = testConfig();
    expect(matchAlarm(config.services, { alarmName: 'chat-eu-west-1-5xx', region: 'eu-west-1' }).map((m) => [m.service.name, m.endpoint, m.signal])).toEqual([
      ['chat', 'eu-west-1', 'error-alarm'],
    ]);
    expect(matchAlarm(config.services, { alarmName: 'chat-eu-west-1-5xx', region: 'us-east-1' })).toEqual([]);
    expect(matchAlarm(config.services, { alarmName: 'chat-eu-west-1-5xx', region: undefined })).toHaveLength(1);
  });

  it('maps an alarm by ARN', () => {
    const raw = editableRawConfig();
    raw.services[0]!.endpoints[0]!.signals[1]!.alarm = { arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:composite-health' };
    const config = testConfig(raw);
    expect(
      matchAlarm(config.services, {
        alarmName: 'composite-health',
        alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:composite-health',
        region: 'us-east-1',
      }).map((m) => m.endpoint),
    ).toEqual(['us-east-1']);
  });

  it('evaluates at once with the alarm state as the signal: a fail alarm drains at once (CloudWatch counted its own M of N)', async () => {
    const world = memoryWorld();
    const rt = world.runtime();
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    const result = await onAlarm(rt, { alarmName: 'chat-eu-west-1-5xx', region: 'eu-west-1', state: 'ALARM' });
    expect(result.matched).toBe(true);
    const outcome = result.outcomes[0]!;
    expect(outcome.decision!.verdicts['eu-west-1']!.failing).toBe(true);
    expect(outcome.status).toBe('applied');
    expect(outcome.decision!.changes.find((c) => c.setIdentifier === 'eu-west-1')!.to).toBe(0);
    expect(outcome.decision!.transitions).toContainEqual(expect.objectContaining({ endpoint: 'eu-west-1', to: 'drained' }));
    expect(world.dns.changeLog[0]!.comment).toContain(outcome.decisionId);
    // The event's state was used, not a DescribeAlarms read for that alarm.
    expect(world.metrics.alarmCalls).toBe(1);
  });

  it('ignores an alarm no signal names', async () => {
    const world = memoryWorld();
    const result = await onAlarm(world.runtime(), { alarmName: 'somebody-elses-alarm', region: 'eu-west-1', state: 'ALARM' });
    expect(result).toEqual({ matched: false, matches: [], outcomes: [], failures: [] });
    expect((await world.store.load('chat')).version).toBe(0);
  });
});
