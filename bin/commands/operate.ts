/**
 * The operator's hands on a running controller:
 *
 *   steer53 plan <service>                                      the decision it would take now; writes nothing
 *   steer53 freeze <service> --reason "…" [--for 2h]            no automatic changes (alarms still notify)
 *   steer53 unfreeze <service> [--reason "…"]
 *   steer53 override <service> --weights a=10,b=90 --for 1h --reason "…"   pin the weights
 *   steer53 override <service> --clear [--reason "…"]
 *   steer53 drain <service> <endpoint> --for 2h --reason "…"    take an endpoint out for maintenance
 *   steer53 undrain <service> <endpoint> [--reason "…"]
 *   steer53 drill <service> <endpoint> --for 15m --guard-alarm <name> --reason "…"   a practice failover
 *
 * Overrides are written to the controller's state (functions/app/overrides.ts), audited with the
 * caller's IAM identity, carried out by the next evaluation and ended by the engine at their time.
 */
import { randomUUID } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Route53Client } from '@aws-sdk/client-route-53';
import { STSClient } from '@aws-sdk/client-sts';
import type { ServiceConfig, ValidationProblem } from '../../functions/core/config.js';
import { ValidationError } from '../../functions/core/errors.js';
import type { Weights } from '../../functions/core/types.js';
import { CloudWatchClients } from '../../functions/adapters/aws/cloudWatchClients.js';
import { CloudWatchMetrics } from '../../functions/adapters/aws/cloudWatchMetrics.js';
import { Route53Weights } from '../../functions/adapters/aws/route53Weights.js';
import { Route53HealthChecks } from '../../functions/adapters/aws/route53HealthChecks.js';
import { BoundedRetryStrategy, Route53RetryPolicy } from '../../functions/adapters/aws/retryStrategy.js';
import { AwsCallError } from '../../functions/adapters/aws/errors.js';
import { planEvaluation } from '../../functions/app/evaluateService.js';
import { awsCapacityProvider } from '../../functions/handlers/awsRuntime.js';
import { RecordNotFoundError, StateVersionConflictError } from '../../functions/ports/errors.js';
import { alarmText, formatMeasure, peerTailText } from '../../functions/app/noticeText.js';
import { ownValue } from '../../functions/app/weightRecords.js';
import { setOverride, type OverrideAction } from '../../functions/app/overrides.js';
import type { Runtime } from '../../functions/app/runtime.js';
import { parseDurationSeconds } from '../../sim/scenarioSchema.js';
import { awsFailure, callerOf, OPS_USAGE_TAIL, tableRegionReady, parseOps, serviceOf, stateStoreOf, tableOf, usageError, type OpsIo } from './ops.js';

export const OPERATE_USAGE = {
  plan: `steer53 plan <service> ${OPS_USAGE_TAIL}`,
  freeze: `steer53 freeze <service> --reason "<why>" [--for <duration>] ${OPS_USAGE_TAIL}`,
  unfreeze: `steer53 unfreeze <service> [--reason "<why>"] ${OPS_USAGE_TAIL}`,
  override: `steer53 override <service> (--weights <endpoint>=<weight>,... --for <duration> | --clear) --reason "<why>" ${OPS_USAGE_TAIL}`,
  drain: `steer53 drain <service> <endpoint> --for <duration> --reason "<why>" ${OPS_USAGE_TAIL}`,
  undrain: `steer53 undrain <service> <endpoint> [--reason "<why>"] ${OPS_USAGE_TAIL}`,
  drill: `steer53 drill <service> <endpoint> --for <duration> --guard-alarm <name> [--guard-region <r>] --reason "<why>" ${OPS_USAGE_TAIL}`,
} as const;
export type OperateCommand = keyof typeof OPERATE_USAGE;

/** The ports a plan reads besides the state (the tests pass in-memory ones). */
export interface PlanIo extends OpsIo {
  /** @default Route 53 and CloudWatch through the AWS SDK */
  readonly readPorts?: () => Pick<Runtime, 'dns' | 'metrics' | 'capacity' | 'healthChecks'>;
}

/** Longest override: a week. Anything longer is a config change, not an override. */
const MAX_OVERRIDE_SECONDS = 7 * 24 * 3600;

export async function runOperate(command: OperateCommand, args: string[], io: PlanIo): Promise<number> {
  const usage = OPERATE_USAGE[command];
  const parsed = parseOps(
    args,
    {
      reason: { type: 'string' },
      for: { type: 'string' },
      weights: { type: 'string' },
      clear: { type: 'boolean', default: false },
      'guard-alarm': { type: 'string' },
      'guard-region': { type: 'string' },
    },
    io,
    usage,
  );
  if (!parsed) return 2;
  const v = parsed.values;
  if (v.help) {
    io.out(`usage: ${usage}`);
    return 0;
  }
  const problems: ValidationProblem[] = [];
  const wantsEndpoint = command === 'drain' || command === 'undrain' || command === 'drill';
  const [serviceName, endpoint, ...extra] = parsed.positionals;
  if (serviceName === undefined) problems.push({ path: '<service>', message: 'is required' });
  if (wantsEndpoint && endpoint === undefined) problems.push({ path: '<endpoint>', message: 'is required' });
  const unexpected = wantsEndpoint ? extra : parsed.positionals.slice(1);
  if (unexpected.length > 0) problems.push({ path: '(arguments)', message: `unexpected ${unexpected.map((p) => `"${p}"`).join(' ')}` });
  for (const flag of ['reason', 'for', 'weights', 'clear', 'guard-alarm', 'guard-region'] as const) {
    if (v[flag] !== undefined && v[flag] !== false && !allows(command, flag)) problems.push({ path: `--${flag}`, message: `is not an option of ${command}` });
  }
  const table = tableOf(v, io, problems);
  const now = (io.now ?? Date.now)();
  const action = command === 'plan' ? undefined : actionOf(command, v, endpoint ?? '', now, problems);
  if (problems.length > 0) return usageError(io, usage, problems);

  const service = await serviceOf(v.config as string, serviceName!);
  // A guard alarm's region defaults to the drilled endpoint's.
  const endpointRegion = service.endpoints.find((e) => e.setIdentifier === endpoint)?.region ?? '';
  const request = action?.kind === 'drain' && action.guard?.region === '' ? { ...action, guard: { ...action.guard, region: endpointRegion } } : action;
  const region = v.region as string | undefined;
  if (!(await tableRegionReady(io, command, region))) return 1;
  const store = stateStoreOf(io, table, region);
  if (command === 'plan') return plan(io, service, store, region, v.json === true, now);

  const by = await callerOf(io, region, command);
  if (by === undefined) return 1;
  let outcome: Awaited<ReturnType<typeof setOverride>>;
  try {
    outcome = await setOverride({ store, clock: { now: () => now }, newId: randomUUID }, service, {
      action: request!,
      by,
      reason: (v.reason as string | undefined) ?? 'by hand',
    });
  } catch (error) {
    if (error instanceof ValidationError)
      return usageError(
        io,
        usage,
        error.problems.map((p) => ({ path: flagOf(p.path), message: p.message })),
      );
    if (error instanceof StateVersionConflictError)
      return awsFailure(io, command, `write the override: evaluations kept writing the state first; try again`, error);
    // The store turns every SDK failure into an AwsCallError; anything else is a bug, not an outage.
    if (!(error instanceof AwsCallError)) throw error;
    return awsFailure(io, command, `write the override to table ${table}`, error);
  }
  if (v.json === true) {
    io.out(JSON.stringify(outcome, null, 2));
    return 0;
  }
  io.out(`${service.name}: ${outcome.summary}`);
  io.out(outcome.changed ? 'The next evaluation (within a minute) carries it out; it is in the audit log (steer53 history).' : 'Nothing to change.');
  return 0;
}

function allows(command: OperateCommand, flag: 'reason' | 'for' | 'weights' | 'clear' | 'guard-alarm' | 'guard-region'): boolean {
  switch (command) {
    case 'plan':
      return false;
    case 'drill':
      return flag === 'reason' || flag === 'for' || flag === 'guard-alarm' || flag === 'guard-region';
    case 'freeze':
      return flag === 'reason' || flag === 'for';
    case 'override':
      return true;
    case 'drain':
      return flag === 'reason' || flag === 'for';
    case 'unfreeze':
    case 'undrain':
      return flag === 'reason';
  }
}

function actionOf(
  command: Exclude<OperateCommand, 'plan'>,
  v: Record<string, string | boolean | undefined>,
  endpoint: string,
  now: number,
  problems: ValidationProblem[],
): OverrideAction | undefined {
  const needsReason = command === 'freeze' || command === 'drain' || command === 'drill' || (command === 'override' && v.clear !== true);
  if (needsReason && (v.reason === undefined || String(v.reason).trim() === ''))
    problems.push({ path: '--reason', message: 'is required: say why (it goes in the audit log and the notices)' });
  const until = (required: boolean): number | null => {
    if (v.for === undefined) {
      if (required) problems.push({ path: '--for', message: 'is required: every override ends on its own (e.g. --for 2h)' });
      return null;
    }
    const seconds = parseDurationSeconds(String(v.for));
    if (seconds === undefined || seconds <= 0 || seconds > MAX_OVERRIDE_SECONDS) {
      problems.push({ path: '--for', message: `must be a duration such as 30m, 2h or 1h30m, at most ${MAX_OVERRIDE_SECONDS / 3600}h` });
      return null;
    }
    return now + seconds * 1000;
  };
  switch (command) {
    case 'freeze':
      return { kind: 'freeze', until: until(false) };
    case 'unfreeze':
      return { kind: 'unfreeze' };
    case 'drain':
      return { kind: 'drain', endpoint, until: until(true) ?? now };
    case 'undrain':
      return { kind: 'undrain', endpoint };
    case 'drill': {
      const name = v['guard-alarm'] as string | undefined;
      if (name === undefined || name.trim() === '')
        problems.push({ path: '--guard-alarm', message: 'is required: the CloudWatch alarm that aborts the drill the moment it fires' });
      return { kind: 'drain', endpoint, until: until(true) ?? now, guard: { name: name ?? '', region: (v['guard-region'] as string | undefined) ?? '' } };
    }
    case 'override': {
      if (v.clear === true) {
        if (v.weights !== undefined || v.for !== undefined) problems.push({ path: '--clear', message: 'removes the pin: give it without --weights and --for' });
        return { kind: 'unpin' };
      }
      if (v.weights === undefined) problems.push({ path: '--weights', message: 'is required (or --clear to remove the pin)' });
      return { kind: 'pin', weights: weightsOf(String(v.weights ?? ''), problems), until: until(true) ?? now };
    }
  }
}

/** `a=10,b=90` → { a: 10, b: 90 }; each malformed entry is a problem. */
function weightsOf(text: string, problems: ValidationProblem[]): Weights {
  const weights: Weights = {};
  if (text === '') return weights;
  for (const part of text.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!match) {
      problems.push({ path: '--weights', message: `"${part}" is not <endpoint>=<weight>` });
      continue;
    }
    weights[match[1]!] = Number(match[2]);
  }
  return weights;
}

function flagOf(path: string): string {
  if (path.startsWith('weights')) return `--weights ${path.slice('weights.'.length)}`.trim();
  if (path === 'until') return '--for';
  if (path === 'endpoint') return '<endpoint>';
  return `--${path}`;
}

async function plan(
  io: PlanIo,
  service: ServiceConfig,
  store: ReturnType<typeof stateStoreOf>,
  region: string | undefined,
  json: boolean,
  now: number,
): Promise<number> {
  const ports = io.readPorts?.() ?? awsReadPorts(region, service, now);
  let outcome: Awaited<ReturnType<typeof planEvaluation>>;
  try {
    outcome = await planEvaluation({ ...ports, store, clock: { now: () => now } }, service);
  } catch (error) {
    if (!(error instanceof AwsCallError) && !(error instanceof RecordNotFoundError)) throw error;
    return awsFailure(io, 'plan', 'observe and decide', error);
  }
  if (json) {
    io.out(JSON.stringify(outcome, null, 2));
    return 0;
  }
  const d = outcome.decision;
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const show = (w: Weights) => ids.map((id) => `${id}=${w[id] ?? '-'}`).join(' ');
  io.out(`plan for ${service.name} (${service.dnsName}), state version ${outcome.stateVersion}, at ${new Date(d.at).toISOString()}: nothing is written`);
  io.out(`mode:         ${d.mode}`);
  io.out(`weights now:  ${show(d.currentWeights)}`);
  io.out(d.changes.length > 0 ? `would become: ${show(d.targetWeights)}${d.emergency ? ' (emergency)' : ''}` : 'would become: (no change)');
  for (const id of ids) {
    const verdict = d.verdicts[id];
    if (!verdict) continue;
    const signals = verdict.signals
      .map(
        (s) =>
          `${s.signal} ${s.trip === null && s.statistic === null ? alarmText(s) : s.value === null ? 'missing' : formatMeasure(s.value, s.unit)} ${s.verdict}`,
      )
      .join(', ');
    const check = ownValue(outcome.healthChecks, id);
    const peers = peerTailText(verdict);
    io.out(
      `  ${id}: ${verdict.verdict}${verdict.failing ? ' (failing)' : ''} — ${signals}${peers ? `; ${peers}` : ''}${check ? `; Route 53 health check ${check}` : ''}`,
    );
  }
  for (const r of d.reasons) io.out(`why:     [${r.code}]${r.endpoint ? ` ${r.endpoint}:` : ''} ${r.message}`);
  for (const b of d.blocked) io.out(`blocked: [${b.code}]${b.endpoint ? ` ${b.endpoint}:` : ''} ${b.message}`);
  for (const c of d.capacityRequests)
    io.out(
      `capacity: would ask ${c.endpoint} to hold ${c.to} instances (${c.direction === 'out' ? 'more' : 'giving back'}; ${c.from} held, ${c.inService} in service) [${c.reason}]`,
    );
  if (outcome.pending)
    io.out(
      `pending: change ${outcome.pending.decisionId} to ${show(outcome.pending.to)} is recorded but not confirmed; the next evaluation completes it first`,
    );
  if (outcome.drift) io.out(`drift:   Route 53 holds ${show(outcome.drift.actual)}, not the ${show(outcome.drift.expected)} steer53 last wrote`);
  for (const gap of outcome.gaps) io.out(`gap:     ${gap}`);
  return 0;
}

function awsReadPorts(region: string | undefined, service: ServiceConfig, now: number): Pick<Runtime, 'dns' | 'metrics' | 'capacity' | 'healthChecks'> {
  const sts = new STSClient(region ? { region } : {});
  const metrics = new CloudWatchMetrics({ clients: new CloudWatchClients({ sts, createClient: (c) => new CloudWatchClient(c) }) });
  // The dry run reads the capacity providers and asks nothing of them: nothing is ever published.
  const events = { publish: async () => Promise.reject(new Error('steer53 plan publishes nothing')) };
  const capacity = awsCapacityProvider({ services: [service] }, { metrics, events, clock: { now: () => now }, trace: (client) => client });
  const route53 = new Route53Client({
    ...(region ? { region } : {}),
    maxAttempts: Route53RetryPolicy.maxAttempts,
    retryStrategy: new BoundedRetryStrategy(Route53RetryPolicy),
  });
  return {
    dns: new Route53Weights({ client: route53 }),
    metrics,
    ...(capacity ? { capacity } : {}),
    // The records' health checks, as the functions read them: a read that fails is a gap of the plan.
    healthChecks: new Route53HealthChecks({ client: route53 }),
  };
}
