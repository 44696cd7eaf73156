import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAwsRuntime, loadJsonConfig, once, readEnvironment } from '../../../functions/handlers/awsRuntime.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { rawConfig, collectingLog } from '../app/runtimeFixtures.js';

const env = {
  LAMBDA_TASK_ROOT: '/var/task',
  STEER53_TABLE_NAME: 'steer53-state',
  STEER53_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:steer53',
};

describe('Function: readEnvironment', () => {
  it('defaults the config path next to the bundle and the bus to "default"', () => {
    expect(readEnvironment(env)).toEqual({
      configPath: '/var/task/steer53.config.json',
      tableName: 'steer53-state',
      topicArn: env.STEER53_TOPIC_ARN,
      eventBusName: 'default',
    });
  });

  it('takes STEER53_CONFIG_PATH and STEER53_EVENT_BUS_NAME when set', () => {
    expect(readEnvironment({ ...env, STEER53_CONFIG_PATH: '/opt/c.json', STEER53_EVENT_BUS_NAME: 'ops' })).toMatchObject({
      configPath: '/opt/c.json',
      eventBusName: 'ops',
    });
  });

  it('lists every missing or malformed variable at once', () => {
    const error = (() => {
      try {
        readEnvironment({ STEER53_TOPIC_ARN: 'not-an-arn' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      { path: 'STEER53_CONFIG_PATH', message: 'is not set (and LAMBDA_TASK_ROOT is not set to default it)' },
      { path: 'STEER53_TABLE_NAME', message: 'is not set' },
      { path: 'STEER53_TOPIC_ARN', message: '"not-an-arn" is not an SNS topic ARN' },
    ]);
  });
});

describe('Function: loadJsonConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer53-config-'));

  it('loads and validates the JSON config', async () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify(rawConfig));
    const config = await loadJsonConfig(path);
    expect(config.services[0]!.policy.changeBudget.maxChangesPerHour).toBe(12);
  });

  it.each([
    ['missing.json', null, '(file): cannot be read'],
    ['broken.json', '{ "version": 1,', '(file): is not valid JSON'],
    ['invalid.json', JSON.stringify({ version: 1, services: [] }), 'services: needs at least one service'],
  ])('refuses %s, saying why', async (name, content, message) => {
    const path = join(dir, name);
    if (content !== null) writeFileSync(path, content);
    await expect(loadJsonConfig(path)).rejects.toThrow(message);
  });
});

describe('Function: createAwsRuntime', () => {
  it('builds every port from the environment and the validated config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-runtime-'));
    writeFileSync(join(dir, 'steer53.config.json'), JSON.stringify(rawConfig));
    const rt = await createAwsRuntime(readEnvironment({ ...env, LAMBDA_TASK_ROOT: dir }), { log: collectingLog() });
    expect(rt.config.services.map((s) => s.name)).toEqual(['chat']);
    expect([rt.dns, rt.metrics, rt.store, rt.notifier, rt.events].map((p) => p.constructor.name)).toEqual([
      'Route53Weights',
      'CloudWatchMetrics',
      'DynamoStateStore',
      'SnsNotifier',
      'EventBridgePublisher',
    ]);
    expect(rt.newId()).not.toBe(rt.newId());
  });
});

describe('Function: once', () => {
  it('builds once, and tries again after a failure', async () => {
    let calls = 0;
    const get = once(async () => {
      calls += 1;
      if (calls === 1) throw new Error('first fails');
      return calls;
    });
    await expect(get()).rejects.toThrow('first fails');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(calls).toBe(2);
  });
});
