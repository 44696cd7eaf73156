/**
 * `steer53 emit deployment` (a pipeline tells steer53 it deploys an endpoint) and
 * `steer53 rollout abort|promote` (an operator ends a rollout): both put a steer53 deployment
 * event on EventBridge with the AWS SDK and the normal credential chain. The event is built and
 * checked with the same zod schemas the deployment handler parses with, so what is sent is what
 * the handler accepts. `--dry-run` prints the exact PutEvents entry and needs no credentials.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { STSClient } from '@aws-sdk/client-sts';
import { problemsOf, type ValidationProblem } from '../../functions/core/config.js';
import type { DeploymentPhase } from '../../functions/core/types.js';
import { DEPLOYMENT_EVENT_SOURCE, deploymentDetailSchema, detailTypeOfPhase, operatorDetailSchema } from '../../functions/events/deploymentEvent.js';
import { callerOf, hasRegion, noRegionMessage, usageError } from './ops.js';

export const EMIT_USAGE =
  'steer53 emit deployment --service <s> --endpoint <e> --phase started|succeeded|failed|rolled-back --version <v> ' +
  '[--pipeline-execution-id <id>] [--idempotency-key <k>] [--event-bus <name>] [--region <r>] [--dry-run]';
export const ROLLOUT_USAGE =
  'steer53 rollout abort|promote --service <s> --endpoint <e> --reason "<why>" [--version <v>] [--idempotency-key <k>] [--event-bus <name>] [--region <r>] [--dry-run]';

const PIPELINE_PHASES = ['started', 'succeeded', 'failed', 'rolled-back'] as const;
const OPERATOR_ACTIONS = ['abort', 'promote'] as const;

/** Where the command writes, and the AWS clients it uses (the tests pass mocked ones). */
export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** @default new EventBridgeClient({ region }) */
  readonly eventBridge?: (region: string | undefined) => EventBridgeClient;
  /** @default new STSClient({ region }) */
  readonly sts?: (region: string | undefined) => STSClient;
  /** @default crypto.randomUUID */
  readonly newId?: () => string;
}

const commonOptions = {
  service: { type: 'string' },
  endpoint: { type: 'string' },
  version: { type: 'string' },
  'idempotency-key': { type: 'string' },
  'event-bus': { type: 'string', default: 'default' },
  region: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  io: CommandIo,
  usage: string,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | undefined {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    // Unknown or malformed options (node:util's ERR_PARSE_ARGS_*): a usage error.
    usageError(io, usage, [{ path: '(arguments)', message: (error as Error).message }]);
    return undefined;
  }
}

/** Problems as the CLI names them: the detail's `pipelineExecutionId` is `--pipeline-execution-id`. */
function asFlags(problems: readonly ValidationProblem[]): ValidationProblem[] {
  return problems.map((p) => ({
    path: p.path === 'by' ? '(caller identity)' : `--${p.path.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    message: p.message,
  }));
}

export async function runEmit(args: string[], io: CommandIo): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'deployment')
    return usageError(io, EMIT_USAGE, [
      { path: '(command)', message: what === undefined ? 'say what to emit: deployment' : `cannot emit "${what}" (only: deployment)` },
    ]);
  const parsed = parse(rest, { ...commonOptions, phase: { type: 'string' }, 'pipeline-execution-id': { type: 'string' } }, io, EMIT_USAGE);
  if (!parsed) return 2;
  const v = parsed.values;
  if (v.help) {
    io.out(`usage: ${EMIT_USAGE}`);
    return 0;
  }
  const problems: ValidationProblem[] = [];
  if (parsed.positionals.length > 0) problems.push({ path: '(arguments)', message: `unexpected ${parsed.positionals.map((p) => `"${p}"`).join(' ')}` });
  for (const required of ['service', 'endpoint', 'phase', 'version'] as const)
    if (v[required] === undefined) problems.push({ path: `--${required}`, message: 'is required' });
  const phase = v.phase as string | undefined;
  if (phase !== undefined && !(PIPELINE_PHASES as readonly string[]).includes(phase))
    problems.push({ path: '--phase', message: `must be one of ${PIPELINE_PHASES.join(', ')} (got "${phase}")` });
  if (problems.length > 0) return usageError(io, EMIT_USAGE, problems);

  const executionId = v['pipeline-execution-id'] as string | undefined;
  // One key per pipeline run, endpoint and phase: a retried pipeline step is applied once. Without
  // a run id, every call is its own event (a redeploy of the same version is news, not a duplicate).
  const idempotencyKey =
    (v['idempotency-key'] as string | undefined) ?? (executionId ? `${executionId}/${v.endpoint as string}/${phase!}` : (io.newId ?? randomUUID)());
  const detail = deploymentDetailSchema.safeParse({
    service: v.service,
    endpoint: v.endpoint,
    version: v.version,
    ...(executionId !== undefined ? { pipelineExecutionId: executionId } : {}),
    idempotencyKey,
  });
  if (!detail.success) return usageError(io, EMIT_USAGE, asFlags(problemsOf(detail.error)));
  const entry = entryOf(detailTypeOfPhase(phase as DeploymentPhase), detail.data, v['event-bus'] as string);
  return send(entry, v, io, 'emit deployment', `${entry.DetailType} for ${detail.data.service}/${detail.data.endpoint} ${detail.data.version}`);
}

export async function runRollout(args: string[], io: CommandIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === '--help' || action === '-h') {
    io.out(`usage: ${ROLLOUT_USAGE}`);
    return 0;
  }
  if (action === undefined || !(OPERATOR_ACTIONS as readonly string[]).includes(action)) {
    return usageError(io, ROLLOUT_USAGE, [
      { path: '(command)', message: action === undefined ? 'say abort or promote' : `unknown rollout action "${action}" (abort or promote)` },
    ]);
  }
  const parsed = parse(rest, { ...commonOptions, reason: { type: 'string' } }, io, ROLLOUT_USAGE);
  if (!parsed) return 2;
  const v = parsed.values;
  if (v.help) {
    io.out(`usage: ${ROLLOUT_USAGE}`);
    return 0;
  }
  const problems: ValidationProblem[] = [];
  if (parsed.positionals.length > 0) problems.push({ path: '(arguments)', message: `unexpected ${parsed.positionals.map((p) => `"${p}"`).join(' ')}` });
  for (const required of ['service', 'endpoint', 'reason'] as const)
    if (v[required] === undefined) problems.push({ path: `--${required}`, message: 'is required' });
  if (problems.length > 0) return usageError(io, ROLLOUT_USAGE, problems);

  const dryRun = v['dry-run'] === true;
  let by: string;
  if (dryRun) {
    by = '<your caller identity (sts get-caller-identity), looked up when sent>';
  } else {
    // Who: the operator's IAM principal, as AWS knows it, for the audit log and the notification.
    const caller = await callerOf(io, v.region as string | undefined, `rollout ${action}`);
    if (caller === undefined) return 1;
    by = caller;
  }
  const detail = operatorDetailSchema.safeParse({
    service: v.service,
    endpoint: v.endpoint,
    ...(v.version !== undefined ? { version: v.version } : {}),
    reason: v.reason,
    by,
    idempotencyKey: (v['idempotency-key'] as string | undefined) ?? (io.newId ?? randomUUID)(),
  });
  if (!detail.success) return usageError(io, ROLLOUT_USAGE, asFlags(problemsOf(detail.error)));
  const entry = entryOf(detailTypeOfPhase(action as DeploymentPhase), detail.data, v['event-bus'] as string);
  return send(entry, v, io, 'rollout', `${entry.DetailType} for ${detail.data.service}/${detail.data.endpoint} by ${by}`);
}

function entryOf(detailType: string, detail: object, eventBusName: string): PutEventsRequestEntry {
  return { Source: DEPLOYMENT_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: eventBusName };
}

async function send(
  entry: PutEventsRequestEntry,
  v: Record<string, string | boolean | undefined>,
  io: CommandIo,
  command: string,
  what: string,
): Promise<number> {
  if (v['dry-run'] === true) {
    io.out(JSON.stringify({ Entries: [entry] }, null, 2));
    return 0;
  }
  const region = v.region as string | undefined;
  let response: PutEventsCommandOutput;
  const client = io.eventBridge?.(region) ?? new EventBridgeClient(region ? { region } : {});
  if (!(await hasRegion(client))) {
    io.err(noRegionMessage(command));
    return 1;
  }
  try {
    response = await client.send(new PutEventsCommand({ Entries: [entry] }));
  } catch (error) {
    io.err(`could not put the event: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
  const result = response.Entries?.[0];
  if ((response.FailedEntryCount ?? 0) > 0 || result?.ErrorCode) {
    io.err(`EventBridge refused the event: ${result?.ErrorCode ?? 'unknown'}: ${result?.ErrorMessage ?? ''}`);
    return 1;
  }
  io.out(`put ${what} on event bus ${entry.EventBusName}: event id ${result?.EventId ?? '?'}`);
  return 0;
}
