/**
 * `steer53 history <service>`: the service's audit log, newest first, read from the controller's
 * DynamoDB table: every decision, drift, repair and deployment, who or what acted, and the
 * weights before and after. Read-only.
 */
import type { ValidationProblem } from '../../functions/core/config.js';
import type { AuditEntry } from '../../functions/ports/stateStore.js';
import { AwsCallError } from '../../functions/adapters/aws/errors.js';
import { awsFailure, checkOneService, OPS_USAGE_TAIL, tableRegionReady, parseOps, serviceOf, stateStoreOf, tableOf, usageError, type OpsIo } from './ops.js';
import { iso, weightsText } from './status.js';

export const HISTORY_USAGE = `steer53 history <service> [--limit N] ${OPS_USAGE_TAIL}`;

const DEFAULT_LIMIT = 20;
/** Enough for an incident; more is a job for a DynamoDB export, not a terminal. */
const MAX_LIMIT = 500;

export async function runHistory(args: string[], io: OpsIo): Promise<number> {
  const parsed = parseOps(args, { limit: { type: 'string' } }, io, HISTORY_USAGE);
  if (!parsed) return 2;
  const v = parsed.values;
  if (v.help) {
    io.out(`usage: ${HISTORY_USAGE}`);
    return 0;
  }
  const problems: ValidationProblem[] = [];
  checkOneService(parsed.positionals, problems);
  const limitText = v.limit as string | undefined;
  const limit = limitText === undefined ? DEFAULT_LIMIT : /^\d+$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    problems.push({ path: '--limit', message: `must be a whole number from 1 to ${MAX_LIMIT} (got "${limitText}")` });
  }
  const table = tableOf(v, io, problems);
  if (problems.length > 0) return usageError(io, HISTORY_USAGE, problems);

  const service = await serviceOf(v.config as string, parsed.positionals[0]!);
  if (!(await tableRegionReady(io, 'history', v.region as string | undefined))) return 1;
  let entries: AuditEntry[];
  try {
    entries = await stateStoreOf(io, table, v.region as string | undefined).listAudit(service.name, { limit });
  } catch (error) {
    // The store turns every SDK failure into an AwsCallError; anything else is a bug, not an outage.
    if (!(error instanceof AwsCallError)) throw error;
    return awsFailure(io, 'history', `read the audit log of ${service.name} from table ${table}`, error);
  }

  if (v.json) {
    io.out(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    io.out(`no history for ${service.name} in table ${table}`);
    return 0;
  }
  const widthOf = (field: 'kind' | 'status' | 'actor') => Math.max(...entries.map((e) => e[field].length));
  const [kind, status, actor] = [widthOf('kind'), widthOf('status'), widthOf('actor')];
  for (const e of entries) {
    io.out(`${iso(e.at)}  ${e.kind.padEnd(kind)}  ${e.status.padEnd(status)}  ${e.actor.padEnd(actor)}  ${e.summary}`);
    if (e.after) io.out(`    weights ${weightsText(service, e.after, e.before)}`);
    else if (e.before) io.out(`    weights before ${weightsText(service, e.before)}`);
  }
  return 0;
}
