import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIOS, loadScenario, resolveScenario } from '../../sim/scenario.js';
import { parseDurationSeconds } from '../../sim/scenarioSchema.js';
import { problemsOf, SOURCE, endpoint, smallScenario } from './fixtures.js';

describe('Scenario format', () => {
  it.each([
    [90, 90],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1.5h', 5400],
  ])('reads the duration %s as %i seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', 'soon', '10 minutes', '-5m', 'm'])('refuses %j as a duration', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });

  it('accepts the small fixture as it is', async () => {
    expect(await problemsOf(smallScenario())).toEqual([]);
  });

  it('reports every problem at once, each with its path', async () => {
    const raw = {
      ...smallScenario(),
      duration: 'a while',
      regions: [
        { name: 'a', warmRps: 50, warmrps: 3 },
        { name: 'b', warmRps: -1 },
      ],
      incidents: [
        { kind: 'outage', region: 'mars', start: '5m', duration: '5m' },
        { kind: 'earthquake', region: 'a', start: 0, duration: 1 },
      ],
    };
    expect(await problemsOf(raw)).toEqual(
      expect.arrayContaining([
        'duration: must be a duration: seconds, or a string such as 90s, 15m, 2h or 1h30m',
        'regions[0].warmrps: unknown setting (check the spelling)',
        'regions[1].warmRps: Too small: expected number to be >0',
        expect.stringMatching(/^incidents\[1\]\.kind: /),
      ]),
    );
  });

  it('names an incident region that does not exist, and lists the ones that do', async () => {
    const problems = await problemsOf({ ...smallScenario(), incidents: [{ kind: 'outage', region: 'mars', start: '5m', duration: '5m' }] });
    expect(problems).toEqual(['incidents[0].region: unknown region "mars" (regions: a, b)']);
  });

  it('checks the inline policy with the config schema, with the path inside the scenario', async () => {
    const good = endpoint('b', 'eu-west-1', 100, 50);
    const bad = { ...good, signals: [{ ...good.signals[0], clear: 2500 }, good.signals[1], good.signals[2]] };
    const raw = {
      ...smallScenario(),
      service: { name: 'chat', dnsName: 'chat.example.com', hostedZoneId: 'Z0123456789EXAMPLE', endpoints: [endpoint('a', 'us-east-1', 100, 50), bad] },
    };
    expect(await problemsOf(raw)).toEqual(['service.endpoints[1].signals[0].clear: must be below trip (2000)']);
  });

  it('refuses a high-resolution alarm the world cannot publish: steps longer than 10 s, or GPU utilisation', async () => {
    const fast = { metric: 'p99LatencyMs', threshold: 20_000, periodSeconds: 10 } as const;
    expect(await problemsOf(smallScenario({ stepSeconds: 30, alarms: { 'chat-{region}-ttft-fast': fast } }))).toEqual([
      'alarms.chat-{region}-ttft-fast.periodSeconds: a high-resolution alarm needs stepSeconds 5 or 10 (the world publishes 10-second datapoints); stepSeconds is 30',
    ]);
    expect(await problemsOf(smallScenario({ alarms: { gpu: { ...fast, metric: 'gpuUtilization' } } }))).toEqual([
      'alarms.gpu.periodSeconds: gpuUtilization is reported once a minute: its alarm needs periodSeconds 60',
    ]);
    expect(await problemsOf(smallScenario({ alarms: { slow: { ...fast, periodSeconds: 15 as never } } }))).toEqual([
      'alarms.slow.periodSeconds: must be 10, 20, 30 or 60',
    ]);
  });

  it('takes minRequests on an error-rate alarm only', async () => {
    expect(await problemsOf(smallScenario({ alarms: { errors: { metric: 'errorRate', periodSeconds: 10, minRequests: 100 } } }))).toEqual([]);
    expect(await problemsOf(smallScenario({ alarms: { slow: { metric: 'p99LatencyMs', threshold: 20_000, minRequests: 100 } } }))).toEqual([
      'alarms.slow.minRequests: minRequests counts the requests behind an error rate: only an errorRate alarm takes it',
    ]);
  });

  it('reads an alarm named with {region} as one alarm per region', async () => {
    const scenario = await resolveScenario(
      smallScenario({ alarms: { 'chat-{region}-ttft-fast': { metric: 'p99LatencyMs', threshold: 20_000, periodSeconds: 10 as const } } }),
      SOURCE,
    );
    expect([...scenario.alarms.keys()]).toEqual(['chat-a-ttft-fast', 'chat-b-ttft-fast']);
    expect(scenario.alarms.get('chat-b-ttft-fast')).toMatchObject({ periodSeconds: 10, threshold: 20_000, datapointsToAlarm: 2, evaluationPeriods: 3 });
  });

  it("treats an alarm's missing data as missing unless told notBreaching, and refuses what the simulator does not model", async () => {
    const scenario = await resolveScenario(smallScenario({ alarms: { quiet: { treatMissingData: 'notBreaching' }, plain: {} } }), SOURCE);
    expect(scenario.alarms.get('quiet')?.treatMissingData).toBe('notBreaching');
    expect(scenario.alarms.get('plain')?.treatMissingData).toBe('missing');
    expect(await problemsOf(smallScenario({ alarms: { odd: { treatMissingData: 'ignore' as never } } }))).toEqual([
      'alarms.odd.treatMissingData: must be missing or notBreaching',
    ]);
    expect(await problemsOf(smallScenario({ baselines: { alarmHealthCheck: { errorAlarms: 'yes' as never } } }))).toEqual([
      'baselines.alarmHealthCheck.errorAlarms: must be true or false',
    ]);
  });

  it('needs exactly one of an inline policy or a config file', async () => {
    const { service: _omitted, ...withoutPolicy } = smallScenario();
    expect(await problemsOf(withoutPolicy)).toEqual(['service: needs exactly one of service (inline policy) or config (a policy file)']);
  });

  it('requires the policy and the world to fit: every endpoint a region, every region an endpoint', async () => {
    const raw = smallScenario({
      regions: [
        { name: 'a', warmRps: 50 },
        { name: 'c', warmRps: 50 },
      ],
    });
    expect(await problemsOf(raw)).toEqual([
      'service.endpoints[1].setIdentifier: has no region in the scenario (regions: a, c)',
      'regions[1].name: matches no endpoint of the policy (setIdentifiers: a, b)',
    ]);
  });

  it('refuses a metric signal whose meaning it cannot tell, and says how to name it', async () => {
    const base = endpoint('a', 'us-east-1', 100, 50);
    const mystery = {
      name: 'mystery',
      source: 'metric',
      metric: { namespace: 'Test/Inference', metricName: 'Flux', statistic: 'Maximum' },
      unit: '',
      trip: 10,
      clear: 5,
    };
    const odd = { ...base, signals: [base.signals[0], mystery, base.signals[2]] };
    const raw = {
      ...smallScenario(),
      service: { name: 'chat', dnsName: 'chat.example.com', hostedZoneId: 'Z0123456789EXAMPLE', endpoints: [odd, endpoint('b', 'eu-west-1', 100, 50)] },
    };
    const problems = await problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^service\.endpoints\[0\]\.signals\[1\]\.metric\.metricName: the simulator cannot tell what "Flux" measures; name it under measures\.mystery/,
    );
    expect(await problemsOf({ ...raw, measures: { mystery: 'queueDepth' } })).toEqual([]);
  });

  it('reports a file that is not YAML, and an unknown scenario name with the shipped ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-scenario-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    await expect(loadScenario(file)).rejects.toThrow(/\(file\): is not valid YAML/);
    await expect(loadScenario('no-such-scenario')).rejects.toThrow(/no such scenario; shipped: region-outage, gray-failure/);
  });

  it('reports an unreadable or malformed trace at its path in the scenario', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-trace-'));
    const csv = join(dir, 'broken.csv');
    writeFileSync(csv, 'TIMESTAMP,ContextTokens\nsoon,3\n2023-01-01 00:00:00,4\n2023-01-01 00:00:01,4\n');
    const withTrace = (file: string) => ({ ...smallScenario(), demand: { sources: [{ trace: { file }, meanRps: 40 }] } });
    expect(await problemsOf(withTrace(join(dir, 'missing.csv')))).toEqual([
      expect.stringMatching(/^demand\.sources\[0\]\.trace\.file: .*missing\.csv: cannot be read/),
    ]);
    expect(await problemsOf(withTrace(csv))).toEqual([`demand.sources[0].trace.file: ${csv} line 2.TIMESTAMP: is not a timestamp: "soon"`]);
  });

  it.each(DEFAULT_SCENARIOS)('ships %s as a valid scenario', async (name) => {
    const scenario = await loadScenario(name);
    expect(scenario.spec.name).toBe(name);
    expect(scenario.spec.description.length).toBeGreaterThan(40);
  });
});

describe('Scenario history', () => {
  it('builds the world before the scenario: ending at its start, with its regions and no incidents', async () => {
    const scenario = await resolveScenario(
      smallScenario({
        startTime: '2025-03-03T12:00:00Z',
        incidents: [{ kind: 'outage', region: 'a', start: '5m', duration: '5m' }],
        history: { duration: '2h', demand: { sources: [{ curve: { kind: 'diurnal' }, meanRps: 30 }] } },
      }),
      SOURCE,
    );
    const history = scenario.history!;
    expect(history.spec.startTime).toBe('2025-03-03T10:00:00.000Z');
    expect(history.spec.duration).toBe(7200);
    expect(history.incidents).toEqual([]);
    expect(history.hasIncident).toBe(false);
    expect(history.endpoints).toEqual(scenario.endpoints);
    expect(history.spec.demand.sources[0]!.meanRps).toBe(30);
    // Without its own demand it has the scenario's.
    const same = await resolveScenario(smallScenario({ history: { duration: '1h' } }), SOURCE);
    expect(same.history!.spec.demand).toEqual(same.spec.demand);
  });

  it('reports a history too short or too long, and an unknown setting in it, at their paths', async () => {
    expect(await problemsOf(smallScenario({ history: { duration: '5m' } }))).toEqual(['history.duration: must be between 10m and 7 days']);
    expect(await problemsOf(smallScenario({ history: { duration: '8d', seed: 3 } as never }))).toEqual(
      expect.arrayContaining([
        'history.duration: must be a duration: seconds, or a string such as 90s, 15m, 2h or 1h30m',
        'history.seed: unknown setting (check the spelling)',
      ]),
    );
  });

  it('lets a trace follow a daily swing, and still needs a trace or a curve', async () => {
    const trace = { file: 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_conv.csv' };
    const flat = await resolveScenario(smallScenario({ duration: '6h', demand: { sources: [{ trace, meanRps: 40 }] } }), SOURCE);
    const swung = await resolveScenario(
      smallScenario({ duration: '6h', demand: { sources: [{ trace, curve: { kind: 'diurnal', amplitude: 0.5, peakAt: '15h' }, meanRps: 40 }] } }),
      SOURCE,
    );
    const hourly = (s: typeof flat, h: number) => s.demand.arrivals.slice(h * 360, (h + 1) * 360).reduce((a, b) => a + b, 0);
    // The start is noon and the peak at 15h: the swung trace runs above the flat one through the afternoon.
    expect(hourly(swung, 3) / hourly(flat, 3)).toBeCloseTo(1.5, 1);
    expect(await problemsOf(smallScenario({ demand: { sources: [{ meanRps: 40 }] } }))).toEqual(['demand.sources[0]: needs a trace or a curve']);
  });
});
