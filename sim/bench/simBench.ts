/**
 * `npm run bench:sim`: simulator speed. 24 simulated hours of 50 services × 4 endpoints, each
 * service evaluated every minute by the real engine (`--path use-case`: through the
 * evaluateService use case over the in-memory ports, as `npm start` does; the decisions are the
 * same, see test/sim/useCase.test.ts), on trace-driven demand, with a gray failure in every fifth
 * service and an outage in every fifth but one. Prints the wall-clock seconds (target: under 20 s)
 * and the throughput; `--json` prints one JSON document instead.
 */
import { parseArgs } from 'node:util';
import { runWorld } from '../world.js';
import { steer53Controller } from '../controllers/steer53.js';
import { steer53RuntimeController } from '../controllers/steer53Runtime.js';
import { DEFAULT_TOKEN_TRACE, resolveScenario } from '../scenario.js';
import type { ScenarioInput } from '../scenarioSchema.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-west-2'] as const;

function serviceScenario(i: number, hours: number): ScenarioInput {
  const meanRps = 40 + (i % 5) * 10;
  const endpoints = REGIONS.map((region, r) => ({
    setIdentifier: region,
    region,
    baselineWeight: r === 3 ? 50 : 100,
    capacity: { warmRps: r === 3 ? meanRps * 0.4 : meanRps * 0.8 },
    load: { namespace: 'Bench/Inference', metricName: 'RequestCount', dimensions: { Service: `svc-${i}`, Region: region }, statistic: 'Sum' },
    signals: [
      {
        name: 'p99-ttft',
        source: 'time-to-first-token' as const,
        namespace: 'Bench/Inference',
        dimensions: { Service: `svc-${i}`, Region: region },
        scale: 1000,
        trip: 2000,
        clear: 1500,
      },
      {
        name: 'gpu',
        source: 'metric' as const,
        metric: { namespace: 'Bench/Inference', metricName: 'GPUUtilization', dimensions: { Service: `svc-${i}`, Region: region }, statistic: 'Average' },
        unit: '%',
        trip: 95,
        clear: 80,
      },
      { name: 'errors', source: 'alarm' as const, alarm: { name: `svc-${i}-${region}-5xx` }, severity: 'fail' as const },
    ],
  }));
  return {
    name: `bench-svc-${i}`,
    duration: hours * 3600,
    seed: 1000 + i,
    demand: { sources: [{ trace: { file: DEFAULT_TOKEN_TRACE }, meanRps }] },
    regions: REGIONS.map((name, r) => ({ name, warmRps: r === 3 ? meanRps * 0.4 : meanRps * 0.8 })),
    incidents:
      i % 5 === 0
        ? [{ kind: 'gray-failure', region: REGIONS[i % 4]!, start: (3 + (i % 7)) * 3600, duration: '45m', ramp: '5m', latencyFactor: 3, capacityFactor: 0.5 }]
        : i % 5 === 1
          ? [{ kind: 'outage', region: REGIONS[(i + 1) % 4]!, start: (5 + (i % 11)) * 3600, duration: '30m' }]
          : [],
    service: { name: `svc-${i}`, dnsName: `svc-${i}.example.com`, hostedZoneId: 'Z0123456789EXAMPLE', endpoints },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      services: { type: 'string', default: '50' },
      hours: { type: 'string', default: '24' },
      /**
       * `engine`: decide() alone, state carried in memory (the default: the simulator and the engine);
       * `use-case`: evaluateService over the in-memory ports, as npm start runs steer53 (adds the
       * state store's copies, audit entries, notices and events to every evaluation).
       */
      path: { type: 'string', default: 'engine' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const services = Number(values.services);
  const hours = Number(values.hours);
  if (values.path !== 'use-case' && values.path !== 'engine') throw new Error('--path must be use-case or engine');
  const controller = values.path === 'engine' ? steer53Controller : steer53RuntimeController;
  const started = performance.now();
  let evaluations = 0;
  let changes = 0;
  let regionMinutes = 0;
  for (let i = 0; i < services; i++) {
    const scenario = await resolveScenario(serviceScenario(i, hours), `bench service ${i}`);
    const run = await runWorld(scenario, controller);
    evaluations += run.evaluations.length;
    changes += run.writes.length;
    regionMinutes += run.minutes * scenario.endpoints.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const result = {
    path: values.path,
    services,
    endpointsPerService: REGIONS.length,
    simulatedHours: hours,
    evaluations,
    dnsChanges: changes,
    regionMinutes,
    seconds: Math.round(seconds * 100) / 100,
    targetSeconds: 20,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    [
      `bench:sim — ${services} services × ${REGIONS.length} endpoints, ${hours} simulated hours, one-minute evaluations through ${values.path === 'engine' ? 'the engine alone' : 'evaluateService + in-memory ports'}`,
      `  ${evaluations.toLocaleString('en')} engine evaluations, ${regionMinutes.toLocaleString('en')} region-minutes, ${changes} DNS changes`,
      `  ${seconds.toFixed(2)} s wall clock (target < 20 s): ${seconds < 20 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
