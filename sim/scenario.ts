/**
 * Loading a scenario: read the file (YAML or JSON), validate it against the schema (every problem
 * with its path), resolve its policy (inline, a config file, or `--config`), check that the policy
 * and the world fit together (every endpoint has a region, every metric signal measures something
 * the world models), then build what every controller run shares: demand, region models and the
 * conditions of every region at every step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { formatPath, problemsOf, type MetricSignal, type ServiceConfig, type ValidationProblem } from '../functions/core/config.js';
import { ValidationError } from '../functions/core/errors.js';
import { loadConfigFile } from '../functions/config/loadConfig.js';
import { type PolicySetting, withPolicySettings } from './policySettings.js';
import { buildDemand, loadSourceTraces, type Demand, type SourceTraces } from './demand.js';
import { fitCalibration, loadCalibration, missProblems } from './calibration.js';
import { DEFAULT_UNIT, HEALTHY, unitCapacityRps, unitGoodputRps, type RegionCondition } from './latencyModel.js';
import type { UnitModel, Workload } from './loadTest.js';
import {
  scenarioSchema,
  type AlarmModel,
  type IncidentSpec,
  type Measure,
  type RegionScalingSpec,
  type RegionSpec,
  type ScenarioSpec,
} from './scenarioSchema.js';
import { resolveDeployment, type Deployment, type DeploymentSpec } from './deployments.js';
import { expectProblems } from './expectations.js';
import type { RegionScaling } from './fleet.js';

/** Where the shipped scenarios and traces live. */
export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));
export const DEFAULT_TOKEN_TRACE = join(SCENARIO_DIR, 'traces', 'azure-llm-2023-AzureLLMInferenceTrace_conv.csv');

/** The shipped scenarios, in the order `npm start` and the benchmark run them. */
export const DEFAULT_SCENARIOS = [
  'region-outage',
  'gray-failure',
  'gpu-saturation-surge',
  'noisy-near-threshold',
  'metric-outage',
  'all-regions-degraded',
  'relapse-during-recovery',
  'capacity-constrained-failover',
  'capacity-scale-up',
  'capacity-unobtainable',
  'canary-regression',
  'canary-success',
  'small-region',
  'mild-gray-failure',
  'code-completion-outage',
  'region-outage-on-the-minute',
  'partial-errors',
  'background-errors',
] as const;

export interface RegionModel {
  readonly spec: RegionSpec;
  /** The serving unit every replica runs (the default fit, or the region's own calibration). */
  readonly unit: UnitModel;
  readonly replicas: number;
  /** Requests per second one replica serves within the SLO, for the scenario's request mix (its warm capacity). */
  readonly unitCapacityRps: number;
  /** Requests per second one replica sustains at all (its queue stops growing), for the mix. */
  readonly unitSaturationRps: number;
  /** How it scales when asked (the scenario's `scaling`, resolved); null: it holds `replicas` throughout. */
  readonly scaling: RegionScaling | null;
}

/** An incident with its times resolved and the regions it hits as endpoint indexes (deployments are apart). */
export interface Incident {
  readonly spec: Exclude<IncidentSpec, DeploymentSpec>;
  readonly label: string;
  readonly regions: readonly number[];
  /** Seconds from the start: ramp in from `start`, full from `fullFrom` to `fullUntil`, gone at `end`. */
  readonly start: number;
  readonly fullFrom: number;
  readonly fullUntil: number;
  readonly end: number;
  /** Harms the world (every kind but metric-outage). */
  readonly harmful: boolean;
}

/** How the simulator reads one metric signal from the world. */
export interface SignalBinding {
  readonly signal: MetricSignal;
  readonly measure: Measure;
  /** Display value (ms, %, fraction…) → the signal's own unit before its `scale`. */
  readonly toUnit: number;
}

export interface Scenario {
  readonly spec: ScenarioSpec;
  /** The world before the scenario (`history` in the spec): run first, so steer53 starts warm. */
  readonly history?: Scenario;
  readonly source: string;
  readonly service: ServiceConfig;
  /** SetIdentifiers in the service's order; regions are indexed the same way. */
  readonly endpoints: readonly string[];
  readonly regions: readonly RegionModel[];
  readonly baselineWeights: readonly number[];
  readonly demand: Demand;
  readonly incidents: readonly Incident[];
  /** Deployments (the `deployment` incidents): what the endpoint serves depends on each run's rollbacks. */
  readonly deployments: readonly Deployment[];
  /** Conditions per step, per region (shared object when nothing happens). */
  readonly conditions: readonly (readonly RegionCondition[])[];
  readonly bindings: readonly ReadonlyMap<string, SignalBinding>[];
  readonly alarms: ReadonlyMap<string, AlarmModel>;
  readonly startMs: number;
  readonly steps: number;
  /** Does the scenario hold an incident that harms the world (the benefit targets apply)? */
  readonly hasIncident: boolean;
  /** First harm begins / last harm ends (seconds), incidents and demand shapes alike; null if none. */
  readonly harmStart: number | null;
  readonly harmEnd: number | null;
}

export interface LoadOptions {
  /** A policy config file that replaces the scenario's own policy. */
  readonly configPath?: string;
  readonly seed?: number;
  /** Overrides the scenario duration (seconds): smoke tests and quick looks. */
  readonly durationSeconds?: number;
  /** Policy settings (`--policy path=value`) applied to the scenario's service, after `configPath`. */
  readonly policySettings?: readonly PolicySetting[];
}

/** A scenario name (`region-outage`) or a path → the file to read. */
export function scenarioPath(nameOrPath: string): string {
  if (/[\\/]/.test(nameOrPath) || /\.(ya?ml|json)$/i.test(nameOrPath)) return resolve(nameOrPath);
  for (const ext of ['.yaml', '.yml', '.json']) {
    const candidate = join(SCENARIO_DIR, `${nameOrPath}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  throw new ValidationError(`scenario ${nameOrPath}`, [
    { path: '(name)', message: `no such scenario; shipped: ${DEFAULT_SCENARIOS.join(', ')} (or give a file path)` },
  ]);
}

/** Reads, validates and resolves a scenario; throws ValidationError listing every problem. */
export async function loadScenario(nameOrPath: string, options: LoadOptions = {}): Promise<Scenario> {
  const path = scenarioPath(nameOrPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }], { cause: error });
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text, { merge: true });
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}` }], {
      cause: error,
    });
  }
  return resolveScenario(raw, path, options);
}

/** Validates an already-read scenario value (paths in it are relative to `source`'s folder). */
export async function resolveScenario(raw: unknown, source: string, options: LoadOptions = {}): Promise<Scenario> {
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(source, problemsOf(parsed.error));
  let spec = parsed.data;
  if (options.seed !== undefined) spec = { ...spec, seed: options.seed };
  if (options.durationSeconds !== undefined) spec = { ...spec, duration: options.durationSeconds };
  const baseDir = dirname(resolve(source));

  let service: ServiceConfig;
  let servicePath: string;
  if (options.configPath !== undefined) {
    service = await serviceFromConfig(options.configPath, spec.config?.service ?? spec.service?.name, options.configPath);
    servicePath = options.configPath;
  } else if (spec.config !== undefined) {
    const file = isAbsolute(spec.config.file) ? spec.config.file : join(baseDir, spec.config.file);
    service = await serviceFromConfig(file, spec.config.service, `${source} config.file`);
    servicePath = 'config';
  } else {
    service = spec.service!;
    servicePath = 'service';
  }

  service = withPolicySettings(service, options.policySettings ?? [], source);
  const problems = crossCheck(spec, service, servicePath);
  if (problems.length > 0) throw new ValidationError(source, problems);
  const scenario = build(spec, service, source, baseDir);
  const expectations = expectProblems(scenario);
  if (expectations.length > 0) throw new ValidationError(source, expectations);
  return scenario;
}

async function serviceFromConfig(file: string, name: string | undefined, what: string): Promise<ServiceConfig> {
  const config = await loadConfigFile(file);
  if (name !== undefined) {
    const match = config.services.find((s) => s.name === name);
    if (match) return match;
    if (config.services.length !== 1) {
      throw new ValidationError(what, [{ path: 'services', message: `has no service "${name}" (services: ${config.services.map((s) => s.name).join(', ')})` }]);
    }
  }
  if (config.services.length !== 1) {
    throw new ValidationError(what, [{ path: 'services', message: `holds ${config.services.length} services; name one with config.service` }]);
  }
  return config.services[0]!;
}

/** What a metric signal measures, from its metric name (or the scenario's `measures`). */
export function inferMeasure(signal: MetricSignal): Measure | undefined {
  const name = signal.metric.metricName.toLowerCase();
  if (/latency|responsetime|timetofirsttoken|ttft|duration/.test(name)) return 'latency';
  if (/gpuutil/.test(name)) return 'gpuUtilization';
  if (/queue/.test(name)) return 'queueDepth';
  if (/kvcache|cacheusage/.test(name)) return 'kvCacheUsage';
  if (/5xx|error|fault/.test(name)) return signal.metric.statistic === 'Sum' || signal.metric.statistic === 'SampleCount' ? 'errorCount' : 'errorRate';
  if (/invocations|requestcount|requests/.test(name)) return 'requestCount';
  return undefined;
}

/** Display value → the signal's unit: latency is modelled in ms, rates as fractions. */
function unitFactor(measure: Measure, unit: string): number | undefined {
  const u = unit.trim().toLowerCase();
  if (measure === 'latency')
    return u === 'ms' || u === 'milliseconds' ? 1 : u === 's' || u === 'seconds' ? 0.001 : u === 'µs' || u === 'us' || u === 'microseconds' ? 1000 : undefined;
  if (measure === 'errorRate') return u === '%' || u === 'percent' ? 100 : 1;
  return 1;
}

function crossCheck(spec: ScenarioSpec, service: ServiceConfig, servicePath: string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const regionNames = new Set(spec.regions.map((r) => r.name));
  const endpointIds = new Set(service.endpoints.map((e) => e.setIdentifier));
  service.endpoints.forEach((endpoint, i) => {
    if (!regionNames.has(endpoint.setIdentifier)) {
      problems.push({
        path: formatPath([servicePath, 'endpoints', i, 'setIdentifier']),
        message: `has no region in the scenario (regions: ${[...regionNames].join(', ')})`,
      });
    }
    problems.push(...scalingProblems(spec, endpoint, i, servicePath));
    endpoint.signals.forEach((signal, j) => {
      if (signal.source !== 'metric') return;
      const measure = spec.measures[signal.name] ?? inferMeasure(signal);
      const where = formatPath([servicePath, 'endpoints', i, 'signals', j, 'metric', 'metricName']);
      if (measure === undefined) {
        problems.push({
          path: where,
          message: `the simulator cannot tell what "${signal.metric.metricName}" measures; name it under measures.${signal.name} (latency, gpuUtilization, queueDepth, kvCacheUsage, errorRate, errorCount, requestCount)`,
        });
      } else if (unitFactor(measure, signal.unit) === undefined) {
        problems.push({
          path: formatPath([servicePath, 'endpoints', i, 'signals', j, 'unit']),
          message: `a latency signal needs unit ms, s or µs (got "${signal.unit}")`,
        });
      }
    });
  });
  spec.regions.forEach((region, i) => {
    if ((region.warmRps === undefined) === (region.replicas === undefined)) {
      problems.push({ path: formatPath(['regions', i, 'warmRps']), message: 'give exactly one of warmRps (the capacity; replicas follow) or replicas' });
    }
    if (!endpointIds.has(region.name))
      problems.push({
        path: formatPath(['regions', i, 'name']),
        message: `matches no endpoint of the policy (setIdentifiers: ${[...endpointIds].join(', ')})`,
      });
  });
  return problems;
}

/** An endpoint that names a capacity provider needs a region that can scale, as far as the policy may ask. */
function scalingProblems(spec: ScenarioSpec, endpoint: ServiceConfig['endpoints'][number], i: number, servicePath: string): ValidationProblem[] {
  const scaling = endpoint.capacity.scaling;
  const j = spec.regions.findIndex((r) => r.name === endpoint.setIdentifier);
  if (scaling === undefined || j < 0) return [];
  const region = spec.regions[j]!;
  if (region.scaling === undefined) {
    return [
      {
        path: formatPath([servicePath, 'endpoints', i, 'capacity', 'scaling']),
        message: `names a capacity provider, but region ${region.name} cannot scale in this world: give regions[${j}].scaling`,
      },
    ];
  }
  if (scaling.maxInstances > region.scaling.maxReplicas) {
    return [
      {
        path: formatPath([servicePath, 'endpoints', i, 'capacity', 'scaling', 'maxInstances']),
        message: `${scaling.maxInstances} is above what region ${region.name} can hold (regions[${j}].scaling.maxReplicas: ${region.scaling.maxReplicas})`,
      },
    ];
  }
  return [];
}

function resolveIncident(spec: Exclude<IncidentSpec, DeploymentSpec>, endpoints: readonly string[]): Incident {
  const names = spec.region === 'all' ? endpoints : typeof spec.region === 'string' ? [spec.region] : spec.region;
  const fullFrom = spec.start + spec.ramp;
  const fullUntil = fullFrom + spec.duration;
  return {
    spec,
    label: spec.label ?? spec.kind,
    regions: names.map((n) => endpoints.indexOf(n)),
    start: spec.start,
    fullFrom,
    fullUntil,
    end: fullUntil + spec.ramp,
    harmful: spec.kind !== 'metric-outage',
  };
}

/** 0 → 1 → 0 over an incident's ramp in, full strength and ramp out. */
export function intensity(incident: Incident, t: number): number {
  if (t < incident.start || t >= incident.end) return 0;
  if (t < incident.fullFrom) return (t - incident.start) / (incident.fullFrom - incident.start);
  if (t < incident.fullUntil) return 1;
  return (incident.end - t) / (incident.end - incident.fullUntil);
}

/** The condition of region `r` at time t under every incident active then. */
export function conditionAt(incidents: readonly Incident[], r: number, t: number): RegionCondition {
  let condition: RegionCondition | undefined;
  for (const incident of incidents) {
    if (!incident.regions.includes(r)) continue;
    const x = intensity(incident, t);
    if (x <= 0) continue;
    const c = condition ?? { ...HEALTHY };
    const spec = incident.spec;
    switch (spec.kind) {
      case 'outage':
        c.errorRate = 1 - (1 - c.errorRate) * (1 - x);
        if (x >= 1) c.down = true;
        break;
      case 'errors':
        c.errorRate = 1 - (1 - c.errorRate) * (1 - spec.errorRate * x);
        break;
      case 'gray-failure':
        c.latencyFactor *= 1 + (spec.latencyFactor - 1) * x;
        c.capacityFactor *= 1 - (1 - (spec.capacityFactor ?? 1 / spec.latencyFactor)) * x;
        c.addedLatencyMs += spec.addedLatencyMs * x;
        break;
      case 'capacity-loss':
        c.capacityFactor *= 1 - (1 - spec.capacityFactor) * x;
        break;
      case 'metric-outage':
        c.metricsMissing = true;
        break;
    }
    condition = c;
  }
  return condition ?? HEALTHY;
}

function build(spec: ScenarioSpec, service: ServiceConfig, source: string, baseDir: string): Scenario {
  const endpoints = service.endpoints.map((e) => e.setIdentifier);
  const byName = new Map(spec.regions.map((r) => [r.name, r]));

  // A trace that cannot be read or parsed is a problem of the scenario, reported at its path.
  const traces = loadSourceTraces(spec.demand.sources, baseDir, DEFAULT_TOKEN_TRACE, source);
  const startMs = Date.parse(spec.startTime);
  const demand = buildDemand({
    sources: spec.demand.sources,
    traces,
    durationSeconds: spec.duration,
    stepSeconds: spec.stepSeconds,
    seed: spec.seed,
    startSecondOfDay: (((startMs / 1000) % 86400) + 86400) % 86400,
  });

  const regions = regionModels(
    spec,
    endpoints.map((id) => byName.get(id)!),
    requestMix(spec, traces),
    source,
    baseDir,
  );

  const incidents: Incident[] = [];
  const deployments: Deployment[] = [];
  spec.incidents.forEach((incident, index) => {
    if (incident.kind === 'deployment') deployments.push(resolveDeployment(incident, index, endpoints, spec.name));
    else incidents.push(resolveIncident(incident, endpoints));
  });
  const conditions: RegionCondition[][] = [];
  for (let s = 0; s < demand.steps; s++) {
    const t = (s + 0.5) * spec.stepSeconds;
    conditions.push(endpoints.map((_, r) => conditionAt(incidents, r, t)));
  }

  const bindings = service.endpoints.map((endpoint) => {
    const map = new Map<string, SignalBinding>();
    for (const signal of endpoint.signals) {
      if (signal.source !== 'metric') continue;
      const measure = spec.measures[signal.name] ?? inferMeasure(signal)!;
      map.set(signal.name, { signal, measure, toUnit: unitFactor(measure, signal.unit)! });
    }
    return map;
  });

  const harmful = incidents.filter((i) => i.harmful);
  const shapes = spec.demand.sources.flatMap((s) => s.shapes);
  // A deployment harms from its start; a bad version until it is rolled back, which depends on
  // the controller: the scenario's harm window runs to the end (each run knows its own rollback).
  const harmfulDeployments = deployments.filter((d) => d.harmful);
  const starts = [...harmful.map((i) => i.start), ...shapes.map((s) => s.start), ...harmfulDeployments.map((d) => d.start)];
  const ends = [
    ...harmful.map((i) => i.end),
    ...shapes.map((s) => s.start + s.ramp + s.hold + s.decay),
    ...harmfulDeployments.map((d) => (d.badVersion ? spec.duration : d.outcomeAt)),
  ];
  const hasIncident = spec.incident ?? starts.length > 0;
  const history = spec.history
    ? build(
        {
          ...spec,
          name: `${spec.name}-history`,
          incident: false,
          duration: spec.history.duration,
          startTime: new Date(startMs - spec.history.duration * 1000).toISOString(),
          demand: spec.history.demand ?? spec.demand,
          incidents: [],
          history: undefined,
        },
        service,
        source,
        baseDir,
      )
    : undefined;
  return {
    spec,
    source,
    service,
    endpoints,
    regions,
    baselineWeights: service.endpoints.map((e) => e.baselineWeight),
    demand,
    incidents,
    deployments,
    conditions,
    bindings,
    alarms: alarmModels(spec),
    startMs,
    steps: demand.steps,
    hasIncident,
    harmStart: starts.length > 0 ? Math.min(...starts) : null,
    harmEnd: ends.length > 0 ? Math.max(...ends) : null,
    ...(history ? { history } : {}),
  };
}

/**
 * Each region's serving unit (its calibration, or the default) and how many replicas it runs:
 * `replicas`, or enough for `warmRps` at the scenario's request mix. A calibration that cannot be
 * fitted within tolerance is a problem of the scenario, reported with the rows it misses.
 */
function regionModels(
  spec: ScenarioSpec,
  regions: readonly RegionSpec[],
  mix: { prompts: Float32Array; outputs: Float32Array },
  source: string,
  baseDir: string,
): RegionModel[] {
  const workload = { promptTokens: mean(mix.prompts), outputTokens: mean(mix.outputs), samples: mix };
  const problems: ValidationProblem[] = [];
  const models = regions.map((region) => {
    const i = spec.regions.indexOf(region);
    let unit = DEFAULT_UNIT;
    if (region.calibration !== undefined) {
      const fitted = calibratedUnit(isAbsolute(region.calibration) ? region.calibration : join(baseDir, region.calibration));
      if (fitted.problems.length > 0)
        for (const p of fitted.problems) problems.push({ path: formatPath(['regions', i, 'calibration']), message: `${p.path}: ${p.message}` });
      unit = fitted.unit;
    }
    // A region's normal latencyFactor slows every prefill and decode of its units.
    const slowed = region.latencyFactor === 1 ? unit : slowerUnit(unit, region.latencyFactor);
    const capacity = goodput(slowed, workload, spec.slo.latencyMs, region.networkLatencyMs);
    const saturation = unitCapacityRps(slowed, workload);
    if (region.warmRps !== undefined && capacity < 0.05 * saturation) {
      problems.push({
        path: formatPath(['regions', i, region.latencyFactor !== 1 ? 'latencyFactor' : 'warmRps']),
        message: `a replica of this region meets the ${spec.slo.latencyMs} ms SLO only below ${capacity.toFixed(3)} requests/s (it sustains ${saturation.toFixed(2)}): warm capacity within the SLO means nothing here; give replicas instead`,
      });
    }
    const replicas = region.replicas ?? Math.max(1, Math.round(region.warmRps! / capacity));
    const scaling = region.scaling === undefined ? null : resolveScaling(region.scaling, replicas, i, problems);
    return { spec: region, unit: slowed, replicas, unitCapacityRps: capacity, unitSaturationRps: saturation, scaling };
  });
  if (problems.length > 0) throw new ValidationError(source, problems);
  return models;
}

/** A region's scaling with its defaults; a bound that contradicts the region's replicas is a problem at its path. */
function resolveScaling(spec: RegionScalingSpec, replicas: number, i: number, problems: ValidationProblem[]): RegionScaling {
  if (spec.maxReplicas < replicas) {
    problems.push({ path: formatPath(['regions', i, 'scaling', 'maxReplicas']), message: `must be at least the region's replicas (${replicas})` });
  }
  const room = Math.max(0, spec.maxReplicas - replicas);
  if (spec.obtainable !== undefined && spec.obtainable > room) {
    problems.push({
      path: formatPath(['regions', i, 'scaling', 'obtainable']),
      message: `must be at most maxReplicas − replicas (${spec.maxReplicas} − ${replicas} = ${room})`,
    });
  }
  return { maxReplicas: spec.maxReplicas, obtainable: Math.min(room, spec.obtainable ?? room), provisioning: spec.provisioning };
}

/** One simulated bisection per unit, mix, SLO and network: cached for the process. */
const goodputs = new Map<string, number>();
function goodput(unit: UnitModel, workload: Workload & { samples: { prompts: Float32Array } }, sloMs: number, networkMs: number): number {
  const key = JSON.stringify([unit, workload.promptTokens, workload.outputTokens, workload.samples.prompts.length, sloMs, networkMs]);
  let value = goodputs.get(key);
  if (value === undefined) {
    value = unitGoodputRps(unit, workload, sloMs, networkMs);
    goodputs.set(key, value);
  }
  return value;
}

/**
 * The scenario's request mix, from its traces' token counts in proportion to each source's rate:
 * what sizes its regions. It depends on the traces, not on the run's length, so a shortened run
 * sizes its regions exactly as the full one does.
 */
function requestMix(spec: ScenarioSpec, traces: readonly SourceTraces[]): { prompts: Float32Array; outputs: Float32Array } {
  const size = 4096;
  const prompts = new Float32Array(size);
  const outputs = new Float32Array(size);
  const total = spec.demand.sources.reduce((sum, s) => sum + s.meanRps, 0);
  for (let k = 0; k < size; k++) {
    let pick = ((k + 0.5) / size) * total;
    let si = 0;
    while (si < traces.length - 1 && pick >= spec.demand.sources[si]!.meanRps) pick -= spec.demand.sources[si++]!.meanRps;
    const tokens = traces[si]!.tokens;
    // A fixed spread of rows (golden-ratio stride), so the mix is the same on every load.
    const row = Math.floor(((k * 0.6180339887498949) % 1) * tokens.promptTokens.length);
    prompts[k] = tokens.promptTokens[row]!;
    outputs[k] = tokens.outputTokens[row]!;
  }
  return { prompts, outputs };
}

function slowerUnit(unit: UnitModel, factor: number): UnitModel {
  const p = unit.params;
  return { ...unit, params: { ...p, prefillIdleMs: p.prefillIdleMs * factor, prefillBusyMs: p.prefillBusyMs * factor, decodeBaseMs: p.decodeBaseMs * factor } };
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length > 0 ? sum / values.length : 0;
}

/** Fits are deterministic and take seconds: once per file and process. */
const fits = new Map<string, { unit: UnitModel; problems: ValidationProblem[] }>();
function calibratedUnit(path: string): { unit: UnitModel; problems: ValidationProblem[] } {
  const hit = fits.get(path);
  if (hit) return hit;
  let result: { unit: UnitModel; problems: ValidationProblem[] };
  try {
    const table = loadCalibration(path);
    const fit = fitCalibration(table);
    result = { unit: fit.model, problems: missProblems(fit, table.kind) };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    result = { unit: DEFAULT_UNIT, problems: [...error.problems] };
  }
  fits.set(path, result);
  return result;
}

/** The scenario's alarms by name; a name with `{region}` stands for one alarm per region, named with it. */
function alarmModels(spec: ScenarioSpec): ReadonlyMap<string, AlarmModel> {
  const models = new Map<string, AlarmModel>();
  for (const [name, model] of Object.entries(spec.alarms)) {
    if (!name.includes('{region}')) models.set(name, model);
    else for (const region of spec.regions) models.set(name.replaceAll('{region}', region.name), model);
  }
  return models;
}
