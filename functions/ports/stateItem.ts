/**
 * A service's state item as a store keeps it (DynamoDB, or memory), its schema, and the migration
 * of items an older steer53 wrote. Every store reads through `readStateItem`, so the engine only
 * ever sees a state of the current layout, and an item this steer53 cannot read fails, naming the
 * field, rather than being decided from.
 *
 * Layouts, by `schemaVersion`:
 *   1. The first. The state's later fields (rollouts, deploymentKeys, demandHistory, loadProfiles,
 *      drillStarts) are absent when empty.
 *   2. Every field of the state is present, empty when there is nothing in it. The state's
 *      deploymentKeys are the only memory of the deployment events applied (a rollout no longer
 *      keeps its own `seen`).
 * A layout change adds a version, a schema for it, and a migration from the one before.
 */
import * as z from 'zod';
import { formatPath } from '../core/config.js';
import type { Decision, EndpointState, LoadProfile, Override, Overrides, RolloutState, ServiceState, Weights } from '../core/types.js';
import type { RecordSetRef } from './dnsWeights.js';
import { CorruptStateError, UnsupportedStateVersionError } from './errors.js';
import type { PendingChange, StateWrite, StoredServiceState } from './stateStore.js';

/** The layout this steer53 writes. */
export const STATE_SCHEMA_VERSION = 2;

const epochMs = z.number().finite();
const weightsSchema: z.ZodType<Weights> = z.record(z.string(), z.number().finite());

const endpointStateSchema: z.ZodType<EndpointState> = z.strictObject({
  status: z.enum(['healthy', 'degraded', 'drained', 'recovering']),
  since: epochMs,
  history: z.array(
    z.strictObject({
      periodStart: epochMs,
      verdict: z.enum(['breach', 'clear', 'hold', 'unknown', 'fail']),
      severe: z.boolean().exactOptional(),
    }),
  ),
  shed: z.number().min(0).max(1),
  failed: z.boolean().exactOptional(),
  shedFrom: z.number().exactOptional(),
  shedSince: epochMs.exactOptional(),
  recoveryStep: z.number().int().min(0),
  recoveryFrom: z.number().exactOptional(),
  stepSince: epochMs,
  dwellSeconds: z.number().min(0),
  failedRecoveries: z.number().int().min(0),
});

const overrideShape = { by: z.string(), reason: z.string(), setAt: epochMs, until: epochMs.nullable() };
const overrideSchema: z.ZodType<Override> = z.strictObject(overrideShape);

const overridesSchema: z.ZodType<Overrides> = z.strictObject({
  freeze: overrideSchema.exactOptional(),
  pin: z.strictObject({ ...overrideShape, weights: weightsSchema }).exactOptional(),
  drains: z
    .record(z.string(), z.strictObject({ ...overrideShape, guard: z.strictObject({ name: z.string(), region: z.string() }).exactOptional() }))
    .exactOptional(),
});

const loadProfileSchema: z.ZodType<LoadProfile> = z.strictObject({
  n: z.number(),
  u: z.number(),
  uu: z.number(),
  y: z.number(),
  yy: z.number(),
  uy: z.number(),
  at: epochMs,
});
const loadProfilesSchema = z.record(z.string(), loadProfileSchema);

const rolloutShape = {
  version: z.string(),
  phase: z.enum(['deploying', 'canary', 'rolling-back']),
  since: epochMs,
  lastEventAt: epochMs,
  step: z.number().int().min(0),
  stepSince: epochMs,
  judgeAt: epochMs.exactOptional(),
  extensions: z.number().int().min(0),
  errorFails: z.number().int().min(0).exactOptional(),
  loadReference: loadProfilesSchema.exactOptional(),
  ratios: z.strictObject({ n: z.number(), sum: z.number(), sumSquares: z.number() }).exactOptional(),
  preDeployFactor: z.number(),
  pipelineExecutionId: z.string().exactOptional(),
};
const rolloutStateSchema: z.ZodType<RolloutState> = z.strictObject(rolloutShape);

const stateShape = {
  endpoints: z.record(z.string(), endpointStateSchema),
  appliedWeights: weightsSchema.nullable(),
  recentChanges: z.array(z.strictObject({ at: epochMs, emergency: z.boolean() })),
  overrides: overridesSchema,
  failStaticSince: epochMs.nullable(),
  lastPeriodStart: epochMs.nullable(),
  lastEvaluatedAt: epochMs.nullable(),
  rollouts: z.record(z.string(), rolloutStateSchema),
  demandHistory: z.array(z.number()),
  deploymentKeys: z.array(z.string()),
  drillStarts: z.record(z.string(), epochMs),
  loadProfiles: loadProfilesSchema,
};
const serviceStateSchema: z.ZodType<ServiceState> = z.strictObject(stateShape);

/**
 * The decision an intent carries, as it was recorded — by this steer53 or an older one. It is
 * only read to record and tell the change once it is completed, so only what that reads is checked.
 */
const recordedDecisionSchema = z
  .looseObject({
    service: z.string(),
    at: epochMs,
    mode: z.string(),
    currentWeights: weightsSchema,
    changes: z.array(z.strictObject({ setIdentifier: z.string(), from: z.number(), to: z.number() })),
    reasons: z.array(z.looseObject({ code: z.string(), message: z.string() })),
    blocked: z.array(z.looseObject({ code: z.string(), message: z.string() })),
    transitions: z.array(z.looseObject({ endpoint: z.string(), message: z.string() })),
    notifications: z.array(z.looseObject({ severity: z.string(), summary: z.string() })),
  })
  .transform((decision) => decision as unknown as Decision);

const recordSetSchema: z.ZodType<RecordSetRef> = z.strictObject({ hostedZoneId: z.string(), dnsName: z.string(), recordType: z.string() });

const pendingChangeSchema = z.strictObject({
  decisionId: z.string(),
  recordedAt: epochMs,
  leaseUntil: epochMs.exactOptional(),
  record: recordSetSchema,
  from: weightsSchema,
  to: weightsSchema,
  decision: recordedDecisionSchema,
  trigger: z.string(),
});

/** What every layout's item holds besides the state. DynamoDB's keys (`pk`, `sk`) and any attribute added by hand are left alone. */
const itemShape = {
  service: z.string(),
  schemaVersion: z.number(),
  version: z.number().int().min(1, { error: 'must be a positive integer' }),
  pending: pendingChangeSchema.exactOptional(),
  driftSignature: z.string().exactOptional(),
  blockedSignature: z.string().exactOptional(),
  updatedAt: epochMs,
};
const stateItemSchema = z.looseObject({ ...itemShape, state: serviceStateSchema });
type StateItem = z.output<typeof stateItemSchema>;

/** Layout 1: the state's later fields absent when empty; each rollout with the idempotency keys it had applied. */
const stateItemV1Schema = z.looseObject({
  ...itemShape,
  state: z.strictObject({
    ...stateShape,
    rollouts: z.record(z.string(), z.strictObject({ ...rolloutShape, seen: z.array(z.string()) })).exactOptional(),
    demandHistory: stateShape.demandHistory.exactOptional(),
    deploymentKeys: stateShape.deploymentKeys.exactOptional(),
    drillStarts: stateShape.drillStarts.exactOptional(),
    loadProfiles: stateShape.loadProfiles.exactOptional(),
  }),
});

/**
 * Layout 1 to 2: the absent fields empty, and the keys each rollout remembered joined to the
 * state's own (as older: they go first when the memory is full), which is now the only memory of them.
 */
function fromV1(item: z.output<typeof stateItemV1Schema>): StateItem {
  const { state } = item;
  const rollouts = Object.entries(state.rollouts ?? {}).map(([id, { seen: _seen, ...rollout }]) => [id, rollout] as const);
  const known = state.deploymentKeys ?? [];
  const onlyInRollouts = [...new Set(Object.values(state.rollouts ?? {}).flatMap((r) => r.seen))].filter((key) => !known.includes(key));
  return {
    ...item,
    schemaVersion: STATE_SCHEMA_VERSION,
    state: {
      ...state,
      rollouts: Object.fromEntries(rollouts),
      demandHistory: state.demandHistory ?? [],
      deploymentKeys: [...onlyInRollouts, ...known],
      drillStarts: state.drillStarts ?? {},
      loadProfiles: state.loadProfiles ?? {},
    },
  };
}

/** How an item of each layout is read: parsed with its own schema, then migrated to the current one. */
const READERS: Readonly<Record<number, (service: string, raw: unknown) => StateItem>> = {
  1: (service, raw) => fromV1(parsed(service, stateItemV1Schema, raw)),
  2: (service, raw) => parsed(service, stateItemSchema, raw),
};

function parsed<T extends z.ZodType>(service: string, schema: T, raw: unknown): z.output<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'not an attribute steer53 writes' }))
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
  const [first, ...more] = problems;
  const others = more.length > 0 ? ` (and ${more.length} more: ${more.map((p) => p.path).join(', ')})` : '';
  throw new CorruptStateError(service, first!.path, `${first!.message}${others}`, { cause: result.error });
}

/** Reads a stored state item of any layout this steer53 knows, migrated to the current one. */
export function readStateItem(service: string, raw: unknown): StoredServiceState {
  if (typeof raw !== 'object' || raw === null) throw new CorruptStateError(service, '(root)', 'the item is not an object');
  const { schemaVersion } = raw as { schemaVersion?: unknown };
  const read = typeof schemaVersion === 'number' ? READERS[schemaVersion] : undefined;
  if (!read) throw new UnsupportedStateVersionError(service, schemaVersion, STATE_SCHEMA_VERSION);
  const item = read(service, raw);
  return {
    service,
    version: item.version,
    state: item.state,
    pending: (item.pending as PendingChange | undefined) ?? null,
    driftSignature: item.driftSignature ?? null,
    blockedSignature: item.blockedSignature ?? null,
    updatedAt: item.updatedAt,
  };
}

/** The item to store for a write at `version`, in the current layout. */
export function toStateItem(service: string, version: number, write: StateWrite): Record<string, unknown> {
  return {
    service,
    schemaVersion: STATE_SCHEMA_VERSION,
    version,
    state: write.state,
    ...(write.pending ? { pending: write.pending } : {}),
    ...(write.driftSignature ? { driftSignature: write.driftSignature } : {}),
    ...(write.blockedSignature ? { blockedSignature: write.blockedSignature } : {}),
    updatedAt: write.updatedAt,
  };
}
