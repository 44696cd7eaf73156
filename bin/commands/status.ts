/**
 * `steer53 status <service>`: what the controller holds for one service, read from its DynamoDB
 * table: the weights it last applied, each endpoint's state, overrides, rollouts, fail static and
 * a change recorded but not yet confirmed written. Read-only.
 */
import type { ServiceConfig, ValidationProblem } from '../../functions/core/config.js';
import type { EndpointState, Override, ServiceState, Weights } from '../../functions/core/types.js';
import type { StoredServiceState } from '../../functions/ports/stateStore.js';
import { AwsCallError } from '../../functions/adapters/aws/errors.js';
import { CorruptStateError } from '../../functions/ports/errors.js';
import { awsFailure, checkOneService, OPS_USAGE_TAIL, tableRegionReady, parseOps, serviceOf, stateStoreOf, tableOf, usageError, type OpsIo } from './ops.js';

export const STATUS_USAGE = `steer53 status <service> ${OPS_USAGE_TAIL}`;

export async function runStatus(args: string[], io: OpsIo): Promise<number> {
  const parsed = parseOps(args, {}, io, STATUS_USAGE);
  if (!parsed) return 2;
  const v = parsed.values;
  if (v.help) {
    io.out(`usage: ${STATUS_USAGE}`);
    return 0;
  }
  const problems: ValidationProblem[] = [];
  checkOneService(parsed.positionals, problems);
  const table = tableOf(v, io, problems);
  if (problems.length > 0) return usageError(io, STATUS_USAGE, problems);

  const service = await serviceOf(v.config as string, parsed.positionals[0]!);
  if (!(await tableRegionReady(io, 'status', v.region as string | undefined))) return 1;
  let stored: StoredServiceState;
  try {
    stored = await stateStoreOf(io, table, v.region as string | undefined).load(service.name);
  } catch (error) {
    // The store turns every SDK failure into an AwsCallError; anything else is a bug, not an outage.
    if (!(error instanceof AwsCallError || error instanceof CorruptStateError)) throw error;
    return awsFailure(io, 'status', `read the state of ${service.name} from table ${table}`, error);
  }

  if (v.json) {
    io.out(JSON.stringify(stored, null, 2));
    return 0;
  }
  io.out(`${service.name} (${service.dnsName}) in table ${table}`);
  if (stored.state === undefined) {
    io.out('never evaluated: no state stored yet (the controller writes it at its first evaluation)');
    return 0;
  }
  for (const line of statusLines(service, stored, stored.state)) io.out(line);
  return 0;
}

function statusLines(service: ServiceConfig, stored: StoredServiceState, state: ServiceState): string[] {
  const lines = [
    `state version ${stored.version}, last evaluated ${iso(state.lastEvaluatedAt)}`,
    `weights applied: ${state.appliedWeights ? weightsText(service, state.appliedWeights) : 'none yet'}`,
    'endpoints:',
  ];
  const width = Math.max(...service.endpoints.map((e) => e.setIdentifier.length));
  for (const { setIdentifier } of service.endpoints) {
    const endpoint = state.endpoints[setIdentifier];
    // An endpoint added to the config since the last evaluation has no state until the next one.
    lines.push(`  ${setIdentifier.padEnd(width)}  ${endpoint ? endpointText(service, endpoint) : 'no state yet (new in the config)'}`);
  }

  const { freeze, pin, drains = {} } = state.overrides;
  const overrides = [
    ...(freeze ? [`freeze ${overrideText(freeze)}`] : []),
    ...(pin ? [`pin ${weightsText(service, pin.weights)} ${overrideText(pin)}`] : []),
    ...Object.entries(drains).map(
      ([id, drain]) => `${drain.guard ? `drill of ${id} (guard alarm ${drain.guard.name} in ${drain.guard.region})` : `drain ${id}`} ${overrideText(drain)}`,
    ),
  ];
  lines.push(overrides.length > 0 ? 'overrides:' : 'overrides: none', ...overrides.map((o) => `  ${o}`));

  const rollouts = Object.entries(state.rollouts);
  const steps = service.policy.rollout.canary.steps;
  lines.push(rollouts.length > 0 ? 'rollouts:' : 'rollouts: none');
  for (const [id, r] of rollouts)
    lines.push(`  ${id} ${r.version} ${r.phase}, step ${r.step + 1} of ${steps.length} (${pct(steps[r.step] ?? 1)} of baseline) since ${iso(r.stepSince)}`);

  if (state.failStaticSince !== null) lines.push(`fail static since ${iso(state.failStaticSince)}`);
  const pending = stored.pending;
  // `to` holds only the records that change; `from` holds them all, as Route 53 did.
  lines.push(
    pending
      ? `pending change ${pending.decisionId}, recorded ${iso(pending.recordedAt)}: ${weightsText(service, { ...pending.from, ...pending.to }, pending.from)}`
      : 'pending change: none',
  );
  return lines;
}

function endpointText(service: ServiceConfig, e: EndpointState): string {
  const head = `${e.status.padEnd(10)}  since ${iso(e.since)}`;
  if (e.status === 'degraded') return `${head}  shed ${pct(e.shed)} of its baseline`;
  if (e.status === 'drained' && e.failed) return `${head}  (failing)`;
  if (e.status === 'recovering') {
    const steps = service.policy.recovery.steps;
    return `${head}  recovery step ${e.recoveryStep + 1} of ${steps.length} (${pct(steps[e.recoveryStep] ?? 1)} of baseline)`;
  }
  return head;
}

function overrideText(o: Override): string {
  return `by ${o.by}, ${o.until === null ? 'no end' : `until ${iso(o.until)}`}: ${o.reason}`;
}

/** Record names in the config's order, then any the config no longer has. */
function idsOf(service: ServiceConfig, weights: readonly Weights[]): string[] {
  const ids = service.endpoints.map((e) => e.setIdentifier);
  for (const w of weights) for (const id of Object.keys(w)) if (!ids.includes(id)) ids.push(id);
  return ids.filter((id) => weights.some((w) => id in w));
}

/** `us-east-1 100, eu-west-1 100->70`: each record's weight, with an arrow where it changed from `before`. */
export function weightsText(service: ServiceConfig, after: Weights, before?: Weights): string {
  return idsOf(service, before ? [before, after] : [after])
    .map((id) => {
      const from = before?.[id];
      const to = after[id];
      if (before === undefined || from === to) return `${id} ${to ?? '-'}`;
      return `${id} ${from ?? '-'}->${to ?? '-'}`;
    })
    .join(', ');
}

export function iso(at: number | null): string {
  return at === null ? 'never' : new Date(at).toISOString();
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
