/** Small scenarios for the simulator tests: short, two or three regions, an inline policy. */
import { steer53Controller } from '../../sim/controllers/steer53.js';
import { steer53RuntimeController } from '../../sim/controllers/steer53Runtime.js';
import type { CliIo } from '../../sim/cli.js';
import { ValidationError } from '../../functions/core/errors.js';
import { resolveScenario } from '../../sim/scenario.js';
import type { ScenarioInput } from '../../sim/scenarioSchema.js';
import type { ControllerFactory } from '../../sim/world.js';

export function endpoint(id: string, region: string, baselineWeight: number, warmRps: number) {
  return {
    setIdentifier: id,
    region,
    baselineWeight,
    capacity: { warmRps },
    load: { namespace: 'Test/Inference', metricName: 'RequestCount', dimensions: { Region: id }, statistic: 'Sum' },
    signals: [
      {
        name: 'p99-ttft',
        source: 'time-to-first-token' as const,
        namespace: 'Test/Inference',
        dimensions: { Region: id },
        scale: 1000,
        trip: 2000,
        clear: 1500,
      },
      {
        name: 'gpu',
        source: 'metric' as const,
        metric: { namespace: 'Test/Inference', metricName: 'GPUUtilization', dimensions: { Region: id }, statistic: 'Average' },
        unit: '%',
        trip: 95,
        clear: 80,
      },
      { name: 'errors', source: 'alarm' as const, alarm: { name: `${id}-5xx` }, severity: 'fail' as const },
    ],
  };
}

/** Two regions at 40% utilisation on a constant curve; 40 minutes. */
export function smallScenario(overrides: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    name: 'small',
    duration: '40m',
    seed: 7,
    demand: { sources: [{ curve: { kind: 'constant' }, meanRps: 40 }] },
    regions: [
      { name: 'a', warmRps: 50 },
      { name: 'b', warmRps: 50 },
    ],
    service: {
      name: 'chat',
      dnsName: 'chat.example.com',
      hostedZoneId: 'Z0123456789EXAMPLE',
      endpoints: [endpoint('a', 'us-east-1', 100, 50), endpoint('b', 'eu-west-1', 100, 50)],
    },
    ...overrides,
  };
}

/** smallScenario's service on three regions (a, b, c) of 50 requests/s each, at equal baselines. */
export function threeRegions(): Pick<ScenarioInput, 'regions' | 'service'> {
  return {
    regions: ['a', 'b', 'c'].map((name) => ({ name, warmRps: 50 })),
    service: {
      name: 'chat',
      dnsName: 'chat.example.com',
      hostedZoneId: 'Z0123456789EXAMPLE',
      endpoints: [endpoint('a', 'us-east-1', 100, 50), endpoint('b', 'eu-west-1', 100, 50), endpoint('c', 'ap-northeast-1', 100, 50)],
    },
  };
}

/** steer53 through both of its readers of the simulated CloudWatch: the use case's, and the simulator's own. */
export const BOTH_READERS: readonly [string, ControllerFactory][] = [
  ['the use case (functions/app/observe.ts)', steer53RuntimeController],
  ['the engine with the simulator’s reader (sim/controllers/observe.ts)', steer53Controller],
];

/** The source name tests pass to resolveScenario: relative paths resolve against the repository root. */
export const SOURCE = `${process.cwd()}/test-scenario.yaml`;

/** A CLI's io that keeps what it prints (stdout and stderr, line by line), on a clock that stands still. */
export function collectingIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), clock: () => 0 };
}

/** The problems a scenario (as a file would hold it) is refused with, as `path: message`; none when it loads. */
export async function problemsOf(raw: unknown): Promise<string[]> {
  try {
    await resolveScenario(raw, SOURCE);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}
