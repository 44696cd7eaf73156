import { describe, expect, it } from 'vitest';
import { defineConfig, formatPath, parseConfig, type ConfigInput } from '../../../functions/core/config.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { presets } from '../../../functions/core/presets.js';

type ServiceInput = ConfigInput['services'][number];

function service(overrides: Partial<ServiceInput> = {}): ServiceInput {
  return {
    name: 'chat',
    dnsName: 'chat.example.com',
    hostedZoneId: 'Z0123456789ABC',
    endpoints: [
      {
        setIdentifier: 'eu',
        region: 'eu-west-1',
        baselineWeight: 100,
        signals: [{ name: 'p99', source: 'sagemaker-model-latency', endpointName: 'x', trip: 2000, clear: 1500 }],
      },
      {
        setIdentifier: 'us',
        region: 'us-east-1',
        baselineWeight: 100,
        signals: [{ name: 'p99', source: 'sagemaker-model-latency', endpointName: 'y', trip: 2000, clear: 1500 }],
      },
    ],
    ...overrides,
  };
}

function problems(input: unknown): string[] {
  const result = parseConfig(input);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

function parsed(input: ConfigInput) {
  const result = parseConfig(input);
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.value;
}

describe('parseConfig: problems, each with its path', () => {
  // Deliberately malformed input: typed loosely, as a YAML or JSON file would arrive.
  const endpoint = (signals: unknown[], extra: object = {}) => ({ setIdentifier: 'eu', region: 'eu-west-1', baselineWeight: 100, signals, ...extra }) as never;
  const metric = { namespace: 'N', metricName: 'M', statistic: 'p99' };

  it.each<[string, unknown, string[]]>([
    [
      'a clear threshold on the wrong side of trip',
      { services: [service({ endpoints: [endpoint([{ name: 'p99', source: 'sagemaker-model-latency', endpointName: 'x', trip: 2000, clear: 2500 }])] })] },
      ['services[0].endpoints[0].signals[0].clear: must be below trip (2000)'],
    ],
    [
      'a lower-is-worse clear threshold below trip',
      { services: [service({ endpoints: [endpoint([{ name: 'tps', source: 'metric', metric, direction: 'lower-is-worse', trip: 10, clear: 5 }])] })] },
      ['services[0].endpoints[0].signals[0].clear: must be above trip (10)'],
    ],
    [
      'misspelled settings, at any depth',
      { services: [service({ policy: { detection: { breachesToDegrde: 3 } } as never, dnsNmae: 'x' } as never)] },
      ['services[0].policy.detection.breachesToDegrde: unknown setting (check the spelling)', 'services[0].dnsNmae: unknown setting (check the spelling)'],
    ],
    [
      'a weight outside Route 53’s 0–255',
      { services: [service({ endpoints: [endpoint([{ name: 'e', source: 'metric', metric, trip: 2, clear: 1 }], { baselineWeight: 256 })] })] },
      ['services[0].endpoints[0].baselineWeight: must be 0–255'],
    ],
    [
      'an endpoint without signals and a duplicate signal name',
      {
        services: [
          service({
            endpoints: [
              endpoint([]),
              endpoint(
                [
                  { name: 'a', source: 'metric', metric, trip: 2, clear: 1 },
                  { name: 'a', source: 'metric', metric, trip: 2, clear: 1 },
                ],
                { setIdentifier: 'us' },
              ),
            ],
          }),
        ],
      },
      ['services[0].endpoints[0].signals: needs at least one signal', 'services[0].endpoints[1].signals[1].name: duplicate signal name "a"'],
    ],
    [
      'an alarm signal with neither name nor arn',
      { services: [service({ endpoints: [endpoint([{ name: 'a', source: 'alarm', alarm: {} }])] })] },
      ['services[0].endpoints[0].signals[0].alarm: needs a name or an arn'],
    ],
    [
      'an alarm signal that stands for a negative excess',
      { services: [service({ endpoints: [endpoint([{ name: 'a', source: 'alarm', alarm: { name: 'fast' }, excess: -1 }])] })] },
      ['services[0].endpoints[0].signals[0].excess: Too small: expected number to be >=0'],
    ],
    [
      'recovery steps that do not climb to 1',
      { services: [service({ policy: { recovery: { steps: [0.5, 0.25, 0.9] } } })] },
      ['services[0].policy.recovery.steps: must end at 1 (full baseline)', 'services[0].policy.recovery.steps[1]: must be larger than the step before'],
    ],
    [
      'detection counts larger than the window, and inverted limits',
      {
        services: [
          service({
            policy: {
              detection: { window: 2, breachesToDegrade: 3, breachesToDrain: 3 },
              shedding: { minStep: 0.5, maxStep: 0.2 },
              dwell: { minSeconds: 600, maxSeconds: 300 },
            },
          }),
        ],
      },
      [
        'services[0].policy.detection.breachesToDegrade: must be at most window (2)',
        'services[0].policy.detection.breachesToDrain: must be at most window (2)',
        'services[0].policy.shedding.minStep: must be at most maxStep (0.2)',
        'services[0].policy.dwell.maxSeconds: must be at least minSeconds (600)',
      ],
    ],
    [
      'an impaired shed or load share outside (0, 1]',
      { services: [service({ policy: { shedding: { impairedStep: 0, impairedLoadShare: 1.5 } } })] },
      [
        'services[0].policy.shedding.impairedStep: Too small: expected number to be >0',
        'services[0].policy.shedding.impairedLoadShare: Too big: expected number to be <=1',
      ],
    ],
    [
      'a quiet polling interval that is not a whole number of periods',
      { services: [service({ policy: { evaluationPeriodSeconds: 60, polling: { quietIntervalSeconds: 90 } } })] },
      ['services[0].policy.polling.quietIntervalSeconds: must be a multiple of evaluationPeriodSeconds (60)'],
    ],
    [
      'duplicate endpoints, all-zero baselines and too many required healthy endpoints',
      {
        services: [
          service({
            policy: { safety: { minHealthyEndpoints: 3 } },
            endpoints: [
              endpoint([{ name: 'a', source: 'metric', metric, trip: 2, clear: 1 }], { baselineWeight: 0 }),
              endpoint([{ name: 'a', source: 'metric', metric, trip: 2, clear: 1 }], { baselineWeight: 0 }),
            ],
          }),
        ],
      },
      [
        'services[0].endpoints[1].setIdentifier: duplicate setIdentifier "eu"',
        'services[0].endpoints: at least one endpoint needs a baseline weight above 0',
        'services[0].policy.safety.minHealthyEndpoints: must be at most the number of endpoints (2)',
      ],
    ],
    [
      'two services with one name or one record',
      { services: [service(), service({ dnsName: 'CHAT.example.com.' })] },
      ['services[1].name: duplicate service name "chat"', 'services[1].dnsName: another service already manages chat.example.com A in Z0123456789ABC'],
    ],
    ['no services at all', { services: [] }, ['services: needs at least one service']],
    [
      'canary steps that do not reach 1 and a judged signal no endpoint has',
      { services: [service({ policy: { rollout: { mode: 'canary', canary: { steps: [0.5, 0.25], latencySignal: 'p95' } } } })] },
      [
        'services[0].policy.rollout.canary.steps: must end at 1 (full baseline)',
        'services[0].policy.rollout.canary.steps[1]: must be larger than the step before',
        'services[0].policy.rollout.canary.latencySignal: endpoint 0 (eu) has no metric signal named "p95"',
        'services[0].policy.rollout.canary.latencySignal: endpoint 1 (us) has no metric signal named "p95"',
      ],
    ],
    [
      'names every JavaScript object already has',
      { services: [service({ endpoints: [endpoint([{ name: 'toString', source: 'metric', metric, trip: 2, clear: 1 }], { setIdentifier: '__proto__' })] })] },
      [
        'services[0].endpoints[0].setIdentifier: "__proto__" is reserved; choose another name',
        'services[0].endpoints[0].signals[0].name: "toString" is reserved; choose another name',
      ],
    ],
    [
      'bad names, zones and regions',
      { services: [service({ name: '-x', hostedZoneId: 'nope', dnsName: 'no spaces.com' })] },
      [
        'services[0].name: must be 1–64 letters, digits, dots, dashes or underscores',
        'services[0].dnsName: must be a DNS name such as chat.example.com',
        'services[0].hostedZoneId: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ',
      ],
    ],
  ])('reports %s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });
});

describe('parseConfig: defaults and normalisation', () => {
  it('fills every policy default', () => {
    const config = parsed({ services: [service()] });
    expect(config.version).toBe(1);
    expect(config.services[0]!.policy).toEqual({
      evaluationPeriodSeconds: 60,
      detection: {
        breachesToDegrade: 3,
        breachesToDrain: 2,
        window: 5,
        severeExcess: 1,
        breachesToDegradeSevere: 2,
        extremeExcess: 9,
        clearsToRecover: 5,
        confidence: 0.99,
        severeTailShare: 5,
      },
      dwell: { minSeconds: 600, growthFactor: 2, maxSeconds: 3600 },
      shedding: { gain: 1, minStep: 0.1, maxStep: 0.3, impairedStep: 0.6, impairedLoadShare: 0.75, intervalSeconds: 180, extremeIntervalSeconds: 120 },
      recovery: { steps: [0.1, 0.25, 0.5, 1], holdSeconds: 300 },
      safety: { minHealthyEndpoints: 1, maxShiftPerEvaluation: 0.5, failStaticFraction: 0.5, failStaticAction: 'hold', failStaticNoticeSeconds: 180 },
      deadbandWeight: 3,
      rebalanceMinShare: 0.05,
      drift: { action: 'revert', adoptSeconds: 1800 },
      changeBudget: { maxChangesPerHour: 12 },
      capacityBudget: { maxRequestsPerHour: 12 },
      rollout: {
        mode: 'none',
        canary: {
          steps: [0.05, 0.25, 0.5, 1],
          holdSeconds: 300,
          statistic: 'p50',
          maxLatencyRatio: 1.1,
          maxErrorDelta: 0.01,
          minSamples: 100,
          maxExtensions: 2,
          onInconclusive: 'fail',
        },
        onFailure: 'drain',
        timeoutSeconds: 3600,
      },
      polling: { quietIntervalSeconds: 300 },
    });
  });

  it('normalises DNS names and hosted zone ids, and gives signals their endpoint’s region', () => {
    const config = parsed({
      services: [
        service({
          dnsName: 'Chat.Example.com.',
          hostedZoneId: '/hostedzone/Z0123456789ABC',
          endpoints: [
            {
              setIdentifier: 'eu',
              region: 'eu-west-1',
              baselineWeight: 1,
              load: { namespace: 'AWS/SageMaker', metricName: 'Invocations', statistic: 'Sum' },
              signals: [
                { name: 'a', source: 'alarm', alarm: { name: 'x' } },
                { name: 'b', source: 'metric', metric: { namespace: 'N', metricName: 'M', statistic: 'Average', region: 'us-east-1' }, trip: 2, clear: 1 },
              ],
            },
          ],
        }),
      ],
    });
    const s = config.services[0]!;
    expect(s.dnsName).toBe('chat.example.com');
    expect(s.hostedZoneId).toBe('Z0123456789ABC');
    expect(s.endpoints[0]!.load?.region).toBe('eu-west-1');
    expect(s.endpoints[0]!.signals.map((x) => (x.source === 'alarm' ? x.alarm.region : x.metric.region))).toEqual(['eu-west-1', 'us-east-1']);
  });
});

describe('presets', () => {
  const expand = (signal: object) =>
    parsed({ services: [service({ endpoints: [{ setIdentifier: 'eu', region: 'eu-west-1', baselineWeight: 1, signals: [signal as never] }] })] }).services[0]!
      .endpoints[0]!.signals[0]!;

  it.each<[string, object, object]>([
    [
      'SageMaker ModelLatency, reported in microseconds, as milliseconds',
      presets.sagemakerModelLatency({ name: 'p99', endpointName: 'llm', trip: 2000, clear: 1500 }),
      {
        metric: expect.objectContaining({
          namespace: 'AWS/SageMaker',
          metricName: 'ModelLatency',
          statistic: 'p99',
          dimensions: { EndpointName: 'llm', VariantName: 'AllTraffic' },
        }),
        unit: 'ms',
        scale: 0.001,
      },
    ],
    [
      'SageMaker GPUUtilization, summed over GPUs, per GPU',
      presets.sagemakerGpuUtilization({ name: 'gpu', endpointName: 'llm', gpuCount: 8, trip: 95, clear: 80 }),
      {
        metric: expect.objectContaining({ namespace: '/aws/sagemaker/Endpoints', metricName: 'GPUUtilization', statistic: 'Average' }),
        unit: '%',
        scale: 0.125,
        // Busy time, not a share of throughput: it does not predict a recovery step's headroom.
        scalesWithLoad: false,
      },
    ],
    [
      'SageMaker Invocation5XXErrors (1 per 5xx, 0 otherwise), its Average in percent of invocations, judged on its count, failing',
      presets.sagemakerErrorRate({ name: 'errors', endpointName: 'llm', trip: 5, clear: 1 }),
      {
        metric: expect.objectContaining({
          namespace: 'AWS/SageMaker',
          metricName: 'Invocation5XXErrors',
          statistic: 'Average',
          dimensions: { EndpointName: 'llm', VariantName: 'AllTraffic' },
        }),
        unit: '%',
        scale: 100,
        perRequest: true,
        severity: 'fail',
      },
    ],
    [
      'ALB TargetResponseTime in seconds, per target group',
      presets.albTargetResponseTime({ name: 'alb', loadBalancer: 'app/chat/0123abcd', targetGroup: 'targetgroup/llm/89abcdef', trip: 2, clear: 1.5 }),
      {
        metric: expect.objectContaining({
          namespace: 'AWS/ApplicationELB',
          metricName: 'TargetResponseTime',
          dimensions: { LoadBalancer: 'app/chat/0123abcd', TargetGroup: 'targetgroup/llm/89abcdef' },
        }),
        unit: 's',
        scale: 1,
      },
    ],
    [
      'ALB TargetResponseTime for the whole load balancer',
      presets.albTargetResponseTime({ name: 'alb', loadBalancer: 'app/chat/0123abcd', trip: 2, clear: 1.5 }),
      { metric: expect.objectContaining({ dimensions: { LoadBalancer: 'app/chat/0123abcd' } }) },
    ],
    [
      'time to first token from a model server, seconds to ms',
      presets.timeToFirstToken({ name: 'ttft', namespace: 'vLLM', scale: 1000, trip: 2000, clear: 1000 }),
      { metric: expect.objectContaining({ namespace: 'vLLM', metricName: 'TimeToFirstToken', statistic: 'p99' }), unit: 'ms', scale: 1000 },
    ],
    [
      'queue depth',
      presets.queueDepth({ name: 'q', namespace: 'vLLM', trip: 64, clear: 16 }),
      { metric: expect.objectContaining({ metricName: 'QueueDepth', statistic: 'Maximum' }), unit: 'requests' },
    ],
    [
      'KV-cache usage',
      presets.kvCacheUsage({ name: 'kv', namespace: 'vLLM', trip: 95, clear: 80, severity: 'degrade' }),
      { metric: expect.objectContaining({ metricName: 'KVCacheUsage' }), unit: '%', scalesWithLoad: true },
    ],
  ])('expands %s', (_name, signal, expected) => {
    expect(expand(signal)).toMatchObject({ source: 'metric', direction: 'higher-is-worse', ...expected });
  });

  it('refuses a SageMaker error rate whose trip is not a percent of invocations, saying where', () => {
    const signal = { source: 'sagemaker-error-rate', name: 'e', endpointName: 'llm', trip: 100, clear: 1 };
    const found = problems({
      services: [service({ endpoints: [{ setIdentifier: 'eu', region: 'eu-west-1', baselineWeight: 1, signals: [signal as never] }] })],
    });
    expect(found).toEqual([expect.stringMatching(/^services\[0\]\.endpoints\[0\]\.signals\[0\]\.trip: /)]);
  });
});

describe('helpers', () => {
  it('defineConfig returns the config unchanged, typed', () => {
    const input = { services: [service()] };
    expect(defineConfig(input)).toBe(input);
  });

  it('formats paths the way people read them', () => {
    expect(formatPath(['services', 0, 'endpoints', 1, 'baselineWeight'])).toBe('services[0].endpoints[1].baselineWeight');
    expect(formatPath([])).toBe('(root)');
  });

  it('ValidationError lists every problem under its source', () => {
    const error = new ValidationError('steer53.config.ts', [{ path: 'services', message: 'needs at least one service' }]);
    expect(error.message).toBe('steer53.config.ts is not valid:\n  services: needs at least one service');
    expect(error.name).toBe('ValidationError');
    expect(error).toBeInstanceOf(Error);
  });
});

describe('drills', () => {
  const guardAlarm = { name: 'chat-global-5xx' };
  it("defaults the duration to 15 minutes and the guard alarm's region to the endpoint's", () => {
    const config = parsed({ version: 1, services: [service({ drills: [{ endpoint: 'eu', schedule: '0 10 * * 2', guardAlarm }] })] });
    expect(config.services[0]!.drills).toEqual([
      { endpoint: 'eu', schedule: '0 10 * * 2', durationMinutes: 15, guardAlarm: { name: 'chat-global-5xx', region: 'eu-west-1' } },
    ]);
    expect(parsed({ version: 1, services: [service()] }).services[0]!.drills).toEqual([]);
  });

  it('names an unknown endpoint, a schedule that is not five-field cron, and a duration out of range', () => {
    const input = {
      version: 1,
      services: [
        service({
          drills: [
            { endpoint: 'mars', schedule: '0 10 * * 2', guardAlarm },
            { endpoint: 'eu', schedule: '0 0 10 * * 2', guardAlarm },
            { endpoint: 'eu', schedule: 'tuesdays', durationMinutes: 0, guardAlarm: { name: '' } },
          ],
        }),
      ],
    };
    expect(problems(input)).toEqual(
      expect.arrayContaining([
        'services[0].drills[0].endpoint: "mars" is not an endpoint of this service (endpoints: eu, us)',
        'services[0].drills[1].schedule: must be a cron expression in UTC such as "0 10 * * 2" (minute hour day-of-month month day-of-week)',
        'services[0].drills[2].schedule: must be a cron expression in UTC such as "0 10 * * 2" (minute hour day-of-month month day-of-week)',
        expect.stringMatching(/^services\[0\]\.drills\[2\]\.durationMinutes: /),
        expect.stringMatching(/^services\[0\]\.drills\[2\]\.guardAlarm\.name: /),
      ]),
    );
  });
});
