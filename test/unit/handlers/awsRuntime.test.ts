import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { createAwsRuntime, loadJsonConfig, once, powertoolsLog, readEnvironment } from '../../../functions/handlers/awsRuntime.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { validateConfig } from '../../../functions/config/loadConfig.js';
import { rawConfig, collectingLog, editableRawConfig } from '../app/runtimeFixtures.js';
import { AwsApiRates, shareOf } from '../../../functions/adapters/aws/pacing.js';

/** The config as the CDK app bundles it: validated in full, presets expanded, defaults applied. */
const resolvedConfig = validateConfig(rawConfig, 'rawConfig');

const env = {
  LAMBDA_TASK_ROOT: '/var/task',
  STEER53_TABLE_NAME: 'steer53-state',
  STEER53_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:steer53',
  STEER53_ACCOUNT_ID: '123456789012',
};

describe('Function: readEnvironment', () => {
  it('defaults the config path next to the bundle and the bus to "default"', () => {
    expect(readEnvironment(env)).toEqual({
      configPath: '/var/task/steer53.config.json',
      tableName: 'steer53-state',
      topicArn: env.STEER53_TOPIC_ARN,
      eventBusName: 'default',
      apiRates: AwsApiRates,
      accountId: '123456789012',
    });
  });

  it("takes the function's share of the API rates from STEER53_API_RATES, and says what is wrong with a bad one", () => {
    const share = shareOf(AwsApiRates, 0.1);
    expect(readEnvironment({ ...env, STEER53_API_RATES: JSON.stringify(share) }).apiRates).toEqual(share);
    const bad = { ...share, route53: { ...share.route53, changes: { perSecond: 0, burst: 1 } } };
    expect(() => readEnvironment({ ...env, STEER53_API_RATES: JSON.stringify(bad) })).toThrow(
      'STEER53_API_RATES route53.changes.perSecond: must be a number above 0',
    );
    expect(() => readEnvironment({ ...env, STEER53_API_RATES: '{' })).toThrow('STEER53_API_RATES (root): is not JSON');
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
        readEnvironment({ STEER53_TOPIC_ARN: 'not-an-arn', STEER53_ACCOUNT_ID: '1234' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      { path: 'STEER53_CONFIG_PATH', message: 'is not set (and LAMBDA_TASK_ROOT is not set to default it)' },
      { path: 'STEER53_TABLE_NAME', message: 'is not set' },
      { path: 'STEER53_TOPIC_ARN', message: '"not-an-arn" is not an SNS topic ARN' },
      { path: 'STEER53_ACCOUNT_ID', message: '"1234" is not a 12-digit AWS account id' },
    ]);
  });
});

describe('Function: loadJsonConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer53-config-'));

  it('loads the resolved config the CDK app bundled', async () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify(resolvedConfig, null, 2));
    const config = await loadJsonConfig(path);
    expect(config).toEqual(JSON.parse(JSON.stringify(resolvedConfig)));
    expect(config.services[0]!.policy.changeBudget.maxChangesPerHour).toBe(12);
  });

  /** The bundled config with the value at `path` set by hand (breaking its type on purpose). */
  const resolvedWith = (path: readonly (string | number)[], value: unknown) => {
    const config = JSON.parse(JSON.stringify(resolvedConfig)) as Record<string | number, unknown>;
    let at = config;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
    at[path.at(-1)!] = value;
    return JSON.stringify(config);
  };

  it.each([
    ['missing.json', null, '(file): cannot be read'],
    ['broken.json', '{ "version": 1,', '(file): is not valid JSON'],
    ['invalid.json', JSON.stringify({ version: 1, services: [] }), 'services: needs at least one service'],
    // The typed config as written, not as the CDK app resolves it: defaults and presets missing.
    ['raw.json', JSON.stringify(rawConfig), 'services[0].policy.evaluationPeriodSeconds: Invalid input: expected number, received undefined'],
    // A setting this version of steer53 does not know (a config from another version).
    ['newer.json', resolvedWith(['services', 0, 'policy', 'surgeGuard'], true), 'services[0].policy.surgeGuard: unknown setting (check the spelling)'],
    [
      'retyped.json',
      resolvedWith(['services', 0, 'endpoints', 0, 'baselineWeight'], '100'),
      'services[0].endpoints[0].baselineWeight: Invalid input: expected number, received string',
    ],
    ['unsigned.json', resolvedWith(['services', 0, 'endpoints', 0, 'signals'], []), 'services[0].endpoints[0].signals: needs at least one signal'],
    ['other-version.json', resolvedWith(['version'], 2), 'version: Invalid input: expected 1'],
  ])('refuses %s, saying why', async (name, content, message) => {
    const path = join(dir, name);
    if (content !== null) writeFileSync(path, content);
    await expect(loadJsonConfig(path)).rejects.toThrow(message);
  });
});

describe('Function: createAwsRuntime', () => {
  it('builds every port from the environment and the validated config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-runtime-'));
    writeFileSync(join(dir, 'steer53.config.json'), JSON.stringify(resolvedConfig));
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
    expect(rt.tickClaims?.constructor.name).toBe('DynamoTickClaims');
    // Always: the ids come with the records read, and a quiet service asks for none.
    expect(rt.healthChecks?.constructor.name).toBe('Route53HealthChecks');
    expect(rt.account).toBe('123456789012');
    // Five seconds of the whole account's 10 Route 53 requests a second.
    expect(rt.options?.healthCheckReadsPerTick).toBe(50);
  });

  it("sizes a tick's health-check reads from the function's share of Route 53's rate", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-runtime-'));
    writeFileSync(join(dir, 'steer53.config.json'), JSON.stringify(resolvedConfig));
    const share = { ...AwsApiRates, route53: { ...AwsApiRates.route53, requests: { perSecond: 0.8, burst: 4 } } };
    const rt = await createAwsRuntime(readEnvironment({ ...env, LAMBDA_TASK_ROOT: dir, STEER53_API_RATES: JSON.stringify(share) }), { log: collectingLog() });
    expect(rt.options?.healthCheckReadsPerTick).toBe(4);
  });
});

describe('Tracing', () => {
  it('has the tracer capture every AWS client built at cold start (CloudWatch clients as they are created), so each AWS call is an X-Ray subsegment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-runtime-'));
    writeFileSync(join(dir, 'steer53.config.json'), JSON.stringify(resolvedConfig));
    const captured: string[] = [];
    const capture = <T>(client: T): T => {
      captured.push((client as object).constructor.name);
      return client;
    };
    const tracer = { captureAWSv3Client: capture } as unknown as Tracer;
    await createAwsRuntime(readEnvironment({ ...env, LAMBDA_TASK_ROOT: dir }), { log: collectingLog(), tracer });
    expect(captured.sort()).toEqual(['DynamoDBClient', 'EventBridgeClient', 'Route53Client', 'SNSClient', 'STSClient']);
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

describe('Function: powertoolsLog', () => {
  it('keeps the steer53 service as steer53Service next to Powertools’ own service, without warnings', () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const logger = new Logger({ serviceName: 'steer53', logLevel: 'DEBUG' });
      powertoolsLog(logger).info('evaluated', { service: 'chat', status: 'applied' });
    } finally {
      process.stdout.write = original;
    }
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'INFO', message: 'evaluated', service: 'steer53', steer53Service: 'chat', status: 'applied' });
  });
});

describe('Capacity providers', () => {
  /** The bundled config, with a SageMaker variant's capacity handshake on the eu-west-1 endpoint. */
  const scaledConfig = () => {
    const raw = editableRawConfig();
    raw.services[0]!.endpoints[1]!.capacity = {
      warmRps: 40,
      scaling: { provider: { kind: 'sagemaker-variant', endpointName: 'chat-eu-west-1' }, maxInstances: 8 },
    };
    return validateConfig(raw, 'scaled config');
  };
  const runtimeWith = async (config: unknown, tracer?: Tracer) => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-runtime-'));
    writeFileSync(join(dir, 'steer53.config.json'), JSON.stringify(config));
    return createAwsRuntime(readEnvironment({ ...env, LAMBDA_TASK_ROOT: dir }), { log: collectingLog(), ...(tracer ? { tracer } : {}) });
  };

  it('builds no capacity provider when no endpoint names one', async () => {
    expect((await runtimeWith(resolvedConfig)).capacity).toBeUndefined();
  });

  it("builds one when an endpoint names a provider, and its clients only when first called, in the endpoint's region, traced", async () => {
    const sageMaker = mockClient(SageMakerClient);
    const scaling = mockClient(ApplicationAutoScalingClient);
    sageMaker.on(DescribeEndpointCommand).resolves({
      EndpointStatus: 'InService',
      ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 3, DesiredInstanceCount: 3 }],
    } as never);
    scaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    const captured: { name: string; region: () => Promise<string> }[] = [];
    const tracer = {
      captureAWSv3Client: <T>(client: T): T => {
        const c = client as { constructor: { name: string }; config: { region: () => Promise<string> } };
        captured.push({ name: c.constructor.name, region: c.config.region });
        return client;
      },
    } as unknown as Tracer;
    const config = scaledConfig();
    const rt = await runtimeWith(config, tracer);
    expect(rt.capacity?.constructor.name).toBe('AwsCapacityProvider');
    expect(captured.map((c) => c.name).sort()).toEqual(['DynamoDBClient', 'EventBridgeClient', 'Route53Client', 'SNSClient', 'STSClient']);
    const atColdStart = captured.length;
    const endpoint = config.services[0]!.endpoints[1]!;
    const target = { service: 'chat', endpoint: endpoint.setIdentifier, region: endpoint.region, scaling: endpoint.capacity.scaling! };
    expect(await rt.capacity!.read(target)).toEqual({ inService: 3, desired: 3 });
    const built = await Promise.all(captured.slice(atColdStart).map(async (c) => ({ name: c.name, region: await c.region() })));
    expect(built).toEqual([
      { name: 'SageMakerClient', region: 'eu-west-1' },
      { name: 'ApplicationAutoScalingClient', region: 'eu-west-1' },
    ]);
    expect(sageMaker.commandCalls(DescribeEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: 'chat-eu-west-1' });
    sageMaker.restore();
    scaling.restore();
  });
});
