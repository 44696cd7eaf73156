/**
 * Held-out worlds: scenarios drawn at random, which no rule of the engine was tuned on.
 *
 * The shipped scenarios are few, and each was looked at closely while the engine grew: a rule can
 * fit them and fail on the next world. These worlds are drawn from broad families instead — two to
 * five regions of random sizes and distances, weights set roughly by capacity (as a team sets
 * them, off by up to a quarter), either Azure trace (the conversation trace at 30–55% of the fleet's warm capacity, the
 * code trace, whose bursts of long prompts need twice the room, at 15–30%), and
 * one incident of a random kind, strength, place and length:
 *
 * | kind | what happens |
 * |---|---|
 * | calm | nothing: the trace's own bursts (every move is a false alarm) |
 * | outage | one region hard down for 3–50 minutes |
 * | gray | one region 1.5–5× slower for 10–50 minutes |
 * | capacity-loss | one region loses 30–75% of its warm capacity |
 * | errors | one region fails 5–100% of requests (log-uniform) |
 * | surge | the demand rises 1.3–2× for 10–30 minutes |
 * | relapse | one region 2–4× slower, recovers, and is slow again 10–25 minutes later |
 *
 * Every world runs the policy of policies/chat-3-regions.yaml, written for its regions. A world is
 * a pure function of (family seed, index): `heldOutWorld(1, 17)` is the same world on every machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hashString, Rng, streamSeed } from './random.js';
import { SCENARIO_DIR } from './scenario.js';
import type { ScenarioInput } from './scenarioSchema.js';

export const HELD_OUT_KINDS = ['calm', 'outage', 'gray', 'capacity-loss', 'errors', 'surge', 'relapse'] as const;
export type HeldOutKind = (typeof HELD_OUT_KINDS)[number];

/** Regions a world picks from, with their distance from the clients' centre of mass (ms, before jitter). */
const REGIONS: readonly (readonly [string, number])[] = [
  ['us-east-1', 40],
  ['us-west-2', 70],
  ['eu-west-1', 80],
  ['eu-central-1', 90],
  ['ap-northeast-1', 120],
  ['ap-southeast-2', 150],
];

const TRACES = {
  conv: 'traces/azure-llm-2023-AzureLLMInferenceTrace_conv.csv',
  code: 'traces/azure-llm-2023-AzureLLMInferenceTrace_code.csv',
} as const;

/** How long each world runs: 40 minutes before the incident can start, room after it ends. */
export const HELD_OUT_DURATION_SECONDS = 2.5 * 3600;

export interface HeldOutWorld {
  readonly familySeed: number;
  readonly index: number;
  readonly kind: HeldOutKind;
  /** One line: the regions, the demand and the incident. */
  readonly summary: string;
  /** The scenario, as a scenario file would hold it (paths relative to scenarios/). */
  readonly raw: ScenarioInput;
}

/** World `index` of family `familySeed`; kinds take turns, so any run of 7 worlds holds each once. */
export function heldOutWorld(familySeed: number, index: number, kinds: readonly HeldOutKind[] = HELD_OUT_KINDS): HeldOutWorld {
  if (kinds.length === 0) throw new RangeError('a held-out world needs at least one kind');
  const rng = new Rng(streamSeed(familySeed, hashString('held-out'), index));
  const kind = kinds[index % kinds.length]!;
  const regions = drawRegions(rng);
  const capacity = regions.reduce((sum, r) => sum + r.warmRps, 0);
  const trace = rng.next() < 0.7 ? 'conv' : 'code';
  // Sized as a team sizes for its trace: the code trace's bursts of long prompts need twice the room.
  const meanRps = Math.round(capacity * (trace === 'conv' ? uniform(rng, 0.3, 0.55) : uniform(rng, 0.15, 0.3)));
  const target = regions[rng.int(regions.length)]!.name;
  const incident = drawIncident(rng, kind, target);
  const name = `held-out-${familySeed}-${index}`;
  const raw: ScenarioInput = {
    name,
    description: `Held-out world ${index} of family ${familySeed} (sim/heldOut.ts): ${incident.summary}.`,
    duration: HELD_OUT_DURATION_SECONDS,
    seed: streamSeed(familySeed, hashString('held-out-seed'), index),
    demand: { sources: [{ name: `${trace} trace`, trace: { file: TRACES[trace] }, meanRps, ...(incident.shapes ? { shapes: incident.shapes } : {}) }] },
    regions: regions.map((r) => ({ name: r.name, warmRps: r.warmRps, networkLatencyMs: r.networkLatencyMs })),
    incidents: incident.incidents,
    alarms: { [FAST_ALARM]: FAST_ALARM_MODEL, [FAST_ERROR_ALARM]: FAST_ERROR_ALARM_MODEL },
    service: service(regions),
  };
  const fleet = regions.map((r) => `${r.name} ${r.warmRps} req/s w${r.weight}`).join(', ');
  return { familySeed, index, kind, summary: `${fleet}; ${trace} trace at ${meanRps} req/s; ${incident.summary}`, raw };
}

interface DrawnRegion {
  readonly name: string;
  readonly warmRps: number;
  readonly networkLatencyMs: number;
  readonly weight: number;
}

function uniform(rng: Rng, from: number, to: number): number {
  return from + (to - from) * rng.next();
}

/** Two to five regions, 20–120 req/s of warm capacity each, weighted by capacity ± 25%. */
function drawRegions(rng: Rng): DrawnRegion[] {
  const pool = [...REGIONS];
  const count = 2 + rng.int(4);
  const drawn: DrawnRegion[] = [];
  for (let i = 0; i < count; i++) {
    const [name, latency] = pool.splice(rng.int(pool.length), 1)[0]!;
    const warmRps = 5 * Math.round(uniform(rng, 20, 120) / 5);
    drawn.push({
      name,
      warmRps,
      networkLatencyMs: Math.round(latency * uniform(rng, 0.7, 1.3)),
      weight: Math.max(1, Math.round(warmRps * uniform(rng, 0.75, 1.25))),
    });
  }
  return drawn;
}

interface DrawnIncident {
  readonly summary: string;
  readonly incidents: NonNullable<ScenarioInput['incidents']>;
  readonly shapes?: NonNullable<NonNullable<ScenarioInput['demand']>['sources'][number]['shapes']>;
}

const minutes = (rng: Rng, from: number, to: number) => Math.round(uniform(rng, from, to)) * 60;

function drawIncident(rng: Rng, kind: HeldOutKind, region: string): DrawnIncident {
  const start = minutes(rng, 40, 60);
  const duration = minutes(rng, 10, 50);
  const ramp = minutes(rng, 0, 5);
  const at = `at ${start / 60}m for ${duration / 60}m (ramp ${ramp / 60}m)`;
  switch (kind) {
    case 'calm':
      return { summary: 'no incident', incidents: [] };
    case 'outage': {
      // 3–50 minutes: the same draw stretched, so short blips (a crash, a bad deploy rolled back) are in.
      const down = Math.round(3 + ((duration / 60 - 10) * 47) / 40) * 60;
      return { summary: `${region} down at ${start / 60}m for ${down / 60}m`, incidents: [{ kind: 'outage', region, start, duration: down, ramp: 0 }] };
    }
    case 'gray': {
      const latencyFactor = round2(uniform(rng, 1.5, 5));
      return { summary: `${region} ${latencyFactor}× slower ${at}`, incidents: [{ kind: 'gray-failure', region, start, duration, ramp, latencyFactor }] };
    }
    case 'capacity-loss': {
      const capacityFactor = round2(uniform(rng, 0.25, 0.7));
      return {
        summary: `${region} keeps ${Math.round(capacityFactor * 100)}% of its capacity ${at}`,
        incidents: [{ kind: 'capacity-loss', region, start, duration, ramp, capacityFactor }],
      };
    }
    case 'errors': {
      const errorRate = round2(Math.exp(uniform(rng, Math.log(0.05), 0)));
      return {
        summary: `${region} fails ${Math.round(errorRate * 100)}% of requests ${at}`,
        incidents: [{ kind: 'errors', region, start, duration, ramp, errorRate }],
      };
    }
    case 'surge': {
      const factor = round2(uniform(rng, 1.3, 2));
      const hold = minutes(rng, 10, 30);
      const rise = minutes(rng, 2, 10);
      const decay = minutes(rng, 10, 20);
      const after = round2(uniform(rng, 1, 1.2));
      return {
        summary: `demand ×${factor} from ${start / 60}m (rise ${rise / 60}m, hold ${hold / 60}m, then ×${after})`,
        incidents: [],
        shapes: [{ kind: 'surge', start, ramp: rise, factor, hold, decay, after }],
      };
    }
    case 'relapse': {
      const latencyFactor = round2(uniform(rng, 2, 4));
      const first = minutes(rng, 15, 30);
      const gap = minutes(rng, 10, 25);
      const second = minutes(rng, 15, 25);
      return {
        summary: `${region} ${latencyFactor}× slower at ${start / 60}m for ${first / 60}m, again ${gap / 60}m later for ${second / 60}m`,
        incidents: [
          { kind: 'gray-failure', region, start, duration: first, ramp: 180, latencyFactor },
          { kind: 'gray-failure', region, start: start + 360 + first + gap, duration: second, ramp: 180, latencyFactor },
        ],
      };
    }
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The shipped chat service as scenarios/policies/chat-3-regions.yaml holds it (read once): its policy is every world's. */
let chat: { readonly name: string; readonly dnsName: string; readonly recordType: string; readonly hostedZoneId: string; readonly policy: unknown } | undefined;

function chatService(): NonNullable<typeof chat> {
  chat ??= (parseYaml(readFileSync(join(SCENARIO_DIR, 'policies', 'chat-3-regions.yaml'), 'utf8')) as { services: NonNullable<typeof chat>[] }).services[0]!;
  return chat;
}

/** The high-resolution alarm behind each region's `ttft-fast` signal, as the shipped scenarios declare it. */
const FAST_ALARM = 'chat-{region}-ttft-fast';
const FAST_ALARM_MODEL = { metric: 'p99LatencyMs', threshold: 20_000, periodSeconds: 10, datapointsToAlarm: 2, evaluationPeriods: 3 } as const;
/** The high-resolution alarm behind each region's `error-fast` signal, as the shipped scenarios declare it. */
const FAST_ERROR_ALARM = 'chat-{region}-5xx-fast';
const FAST_ERROR_ALARM_MODEL = {
  metric: 'errorRate',
  threshold: 0.1,
  minRequests: 100,
  periodSeconds: 10,
  datapointsToAlarm: 2,
  evaluationPeriods: 3,
} as const;

/** policies/chat-3-regions.yaml, written for these regions: its policy, and its signals on each region. */
function service(regions: readonly DrawnRegion[]): ScenarioInput['service'] {
  const { name, dnsName, recordType, hostedZoneId, policy } = chatService();
  return {
    name,
    dnsName,
    recordType,
    hostedZoneId,
    policy,
    endpoints: regions.map((r) => {
      const dimensions = { Region: r.name };
      return {
        setIdentifier: r.name,
        region: r.name,
        baselineWeight: r.weight,
        capacity: { warmRps: r.warmRps, targetUtilization: 0.85 },
        load: { namespace: 'Chat/Inference', metricName: 'RequestCount', dimensions, statistic: 'Sum' },
        signals: [
          { name: 'p99-ttft', source: 'time-to-first-token', namespace: 'Chat/Inference', dimensions, scale: 1000, trip: 2000, clear: 1500 },
          {
            name: 'gpu-utilization',
            source: 'metric',
            metric: { namespace: 'Chat/Inference', metricName: 'GPUUtilization', dimensions, statistic: 'Average' },
            unit: '%',
            trip: 95,
            clear: 80,
          },
          {
            name: 'error-rate',
            source: 'metric',
            metric: { namespace: 'Chat/Inference', metricName: 'Error', dimensions, statistic: 'Average' },
            perRequest: true,
            unit: '%',
            scale: 100,
            trip: 5,
            clear: 1,
            severity: 'fail',
          },
          { name: 'error-alarm', source: 'alarm', alarm: { name: `chat-${r.name}-5xx` }, severity: 'fail' },
          { name: 'ttft-fast', source: 'alarm', alarm: { name: FAST_ALARM.replace('{region}', r.name) }, excess: 9 },
          { name: 'error-fast', source: 'alarm', alarm: { name: FAST_ERROR_ALARM.replace('{region}', r.name) }, severity: 'fail' },
        ],
      };
    }),
  } as ScenarioInput['service'];
}
