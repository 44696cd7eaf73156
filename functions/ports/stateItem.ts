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
 *   3. A recent change says which way it moved each endpoint (`moved`), for the flap guard. A
 *      layout-2 item's changes say nothing of it: the guard has nothing to hold them against.
 *   4. The capacity handshake of each endpoint with a capacity provider (`capacity`); a layout-3
 *      item asked for no capacity, so it migrates with none.
 *   5. An endpoint may hold the utilisation it was last too slow at (`learnedLimit`); a layout-4
 *      item learned none, so it reads as it is.
 *   6. An endpoint may hold what its record's health check said of its failure
 *      (`healthCheckFailed`, `alarmLagUntil`); a layout-5 item read none, so it reads as it is.
 *   7. A recovering endpoint may hold a failed step it has not yet gone back from
 *      (`recoveryFailed`); a layout-6 item held none, so it reads as it is.
 *   8. A load profile says what it was learned on (`basis`: signal and statistic); a layout-7
 *      item's say nothing (they were learned on the signal's own statistic), so it reads as it is.
 *   9. An endpoint drained for failing may hold that its record's health check was read as passing
 *      when it was drained (`checkPassedAtDrain`); a layout-8 item read none, so it reads as it is.
 *  10. The state may hold its last fail static and whether operators were told of it
 *      (`failStaticNotice`); a layout-9 item holds none, so it reads as it is (one failing static
 *      then was told at its start).
 *  11. A period in an endpoint's history may hold its percentile signals' counts (`tails`), which
 *      a recovering endpoint pools; a layout-10 item kept none, so it reads as it is (its
 *      recovering endpoints pool from their next period on).
 *  12. An endpoint drained for failing may hold that its record's health checkers were read
 *      failing while it was (`checkersSawFailure`); a layout-11 item read none, so it reads as it is
 *      (such an endpoint waits for its error alarm, as before).
 * A layout change adds a version, a schema for it, and a migration from the one before.
 */
import * as z from 'zod/mini';
import '../events/zodMessages.js';
import { formatPath } from '../core/validationProblems.js';
import type { Decision, EndpointCapacity, EndpointState, LoadProfile, Override, Overrides, RolloutState, ServiceState, Weights } from '../core/types.js';
import type { RecordSetRef } from './dnsWeights.js';
import { CorruptStateError, UnsupportedStateVersionError } from './errors.js';
import type { PendingChange, StateWrite, StoredServiceState } from './stateStore.js';

/** The layout this steer53 writes. */
export const STATE_SCHEMA_VERSION = 12;

const epochMs = z.number();
const count = z.int().check(z.minimum(0));
const share = z.number().check(z.minimum(0), z.maximum(1));
const weightsSchema: z.ZodMiniType<Weights> = z.record(z.string(), z.number());

const verdictRecordShapeV10 = {
  periodStart: epochMs,
  verdict: z.enum(['breach', 'clear', 'hold', 'unknown', 'fail']),
  severe: z.exactOptional(z.boolean()),
};
const nonNegative = z.number().check(z.minimum(0));
const periodTailSchema = z.strictObject({ samples: nonNegative, worse: nonNegative, allowed: z.number().check(z.minimum(0), z.maximum(1)) });

const endpointStateShape = {
  status: z.enum(['healthy', 'degraded', 'drained', 'recovering']),
  since: epochMs,
  history: z.array(z.strictObject(verdictRecordShapeV10)),
  shed: share,
  failed: z.exactOptional(z.boolean()),
  shedFrom: z.exactOptional(z.number()),
  shedSince: z.exactOptional(epochMs),
  recoveryStep: count,
  recoveryFrom: z.exactOptional(z.number()),
  stepSince: epochMs,
  dwellSeconds: z.number().check(z.minimum(0)),
  failedRecoveries: count,
};
/** An endpoint's state before layout 5 (no learned limit). */
const endpointStateSchemaV4: z.ZodMiniType<EndpointState> = z.strictObject(endpointStateShape);
const endpointStateShapeV5 = {
  ...endpointStateShape,
  learnedLimit: z.exactOptional(z.strictObject({ utilisation: z.number().check(z.minimum(0)), at: epochMs })),
};
/** An endpoint's state before layout 6 (nothing from its health check). */
const endpointStateSchemaV5: z.ZodMiniType<EndpointState> = z.strictObject(endpointStateShapeV5);
const endpointStateShapeV6 = {
  ...endpointStateShapeV5,
  healthCheckFailed: z.exactOptional(z.boolean()),
  alarmLagUntil: z.exactOptional(epochMs),
};
/** An endpoint's state before layout 7 (no failed recovery step held). */
const endpointStateSchemaV6: z.ZodMiniType<EndpointState> = z.strictObject(endpointStateShapeV6);
const endpointStateShapeV7 = {
  ...endpointStateShapeV6,
  recoveryFailed: z.exactOptional(z.strictObject({ at: epochMs, until: epochMs, backTo: z.number().check(z.minimum(0)) })),
};
/** An endpoint's state before layout 9 (its health check at the drain not kept). */
const endpointStateSchemaV8: z.ZodMiniType<EndpointState> = z.strictObject(endpointStateShapeV7);
const endpointStateShapeV9 = { ...endpointStateShapeV7, checkPassedAtDrain: z.exactOptional(z.boolean()) };
/** An endpoint's state before layout 11 (no counts kept with its history). */
const endpointStateSchemaV10: z.ZodMiniType<EndpointState> = z.strictObject(endpointStateShapeV9);
const endpointStateShapeV11 = {
  ...endpointStateShapeV9,
  history: z.array(z.strictObject({ ...verdictRecordShapeV10, tails: z.exactOptional(z.record(z.string(), periodTailSchema)) })),
};
/** An endpoint's state before layout 12 (its checkers' failures while drained not kept). */
const endpointStateSchemaV11: z.ZodMiniType<EndpointState> = z.strictObject(endpointStateShapeV11);
const endpointStateSchema: z.ZodMiniType<EndpointState> = z.strictObject({ ...endpointStateShapeV11, checkersSawFailure: z.exactOptional(z.boolean()) });

const overrideShape = { by: z.string(), reason: z.string(), setAt: epochMs, until: z.nullable(epochMs), announced: z.exactOptional(z.boolean()) };
const overrideSchema: z.ZodMiniType<Override> = z.strictObject(overrideShape);

const overridesSchema: z.ZodMiniType<Overrides> = z.strictObject({
  freeze: z.exactOptional(overrideSchema),
  pin: z.exactOptional(z.strictObject({ ...overrideShape, weights: weightsSchema })),
  drains: z.exactOptional(
    z.record(z.string(), z.strictObject({ ...overrideShape, guard: z.exactOptional(z.strictObject({ name: z.string(), region: z.string() })) })),
  ),
  lifted: z.exactOptional(
    z.array(
      z.strictObject({
        what: z.enum(['freeze', 'pin', 'drain']),
        endpoint: z.exactOptional(z.string()),
        by: z.string(),
        reason: z.string(),
        at: epochMs,
      }),
    ),
  ),
});

const loadProfileShapeV7 = {
  n: z.number(),
  u: z.number(),
  uu: z.number(),
  y: z.number(),
  yy: z.number(),
  uy: z.number(),
  at: epochMs,
};
const loadProfileSchema: z.ZodMiniType<LoadProfile> = z.strictObject({ ...loadProfileShapeV7, basis: z.exactOptional(z.string()) });
const loadProfilesSchema = z.record(z.string(), loadProfileSchema);
/** A load profile before layout 8 (no basis: it was learned on the signal's own statistic). */
const loadProfilesSchemaV7 = z.record(z.string(), z.strictObject(loadProfileShapeV7));

const rolloutShape = {
  version: z.string(),
  phase: z.enum(['deploying', 'canary', 'rolling-back']),
  since: epochMs,
  lastEventAt: epochMs,
  step: count,
  stepSince: epochMs,
  judgeAt: z.exactOptional(epochMs),
  extensions: count,
  errorFails: z.exactOptional(count),
  loadReference: z.exactOptional(loadProfilesSchema),
  ratios: z.exactOptional(z.strictObject({ n: z.number(), sum: z.number(), sumSquares: z.number() })),
  preDeployFactor: z.number(),
  pipelineExecutionId: z.exactOptional(z.string()),
};
const rolloutStateSchema: z.ZodMiniType<RolloutState> = z.strictObject(rolloutShape);
const rolloutShapeV7 = { ...rolloutShape, loadReference: z.exactOptional(loadProfilesSchemaV7) };

const endpointCapacitySchema: z.ZodMiniType<EndpointCapacity> = z.strictObject({
  base: count,
  asked: z.nullable(count),
  askedAt: z.nullable(epochMs),
  timedOut: z.boolean(),
  perInstanceRps: z.nullable(z.number().check(z.positive())),
  requests: z.array(epochMs),
  lastInService: z.nullable(count),
  releasedAt: z.nullable(epochMs),
});

const stateShape = {
  endpoints: z.record(z.string(), endpointStateSchema),
  appliedWeights: z.nullable(weightsSchema),
  recentChanges: z.array(
    z.strictObject({ at: epochMs, emergency: z.boolean(), moved: z.exactOptional(z.record(z.string(), z.union([z.literal(1), z.literal(-1)]))) }),
  ),
  overrides: overridesSchema,
  failStaticSince: z.nullable(epochMs),
  failStaticNotice: z.exactOptional(
    z.strictObject({ since: epochMs, told: z.boolean(), endedAt: z.exactOptional(epochMs), endTold: z.exactOptional(z.boolean()) }),
  ),
  lastPeriodStart: z.nullable(epochMs),
  lastEvaluatedAt: z.nullable(epochMs),
  rollouts: z.record(z.string(), rolloutStateSchema),
  demandHistory: z.array(z.number()),
  deploymentKeys: z.array(z.string()),
  drillStarts: z.record(z.string(), epochMs),
  loadProfiles: loadProfilesSchema,
  capacity: z.record(z.string(), endpointCapacitySchema),
};
const serviceStateSchema: z.ZodMiniType<ServiceState> = z.strictObject(stateShape);

/**
 * The decision an intent carries, as it was recorded — by this steer53 or an older one. It is
 * only read to record and tell the change once it is completed, so only what that reads is checked.
 */
const recordedDecisionSchema = z.pipe(
  z.looseObject({
    service: z.string(),
    at: epochMs,
    mode: z.string(),
    currentWeights: weightsSchema,
    changes: z.array(z.strictObject({ setIdentifier: z.string(), from: z.number(), to: z.number() })),
    reasons: z.array(z.looseObject({ code: z.string(), message: z.string() })),
    blocked: z.array(z.looseObject({ code: z.string(), message: z.string() })),
    transitions: z.array(z.looseObject({ endpoint: z.string(), message: z.string() })),
    notifications: z.array(z.looseObject({ severity: z.string(), summary: z.string() })),
  }),
  z.transform((decision) => decision as unknown as Decision),
);

const recordSetSchema: z.ZodMiniType<RecordSetRef> = z.strictObject({ hostedZoneId: z.string(), dnsName: z.string(), recordType: z.string() });

const pendingChangeSchema = z.strictObject({
  decisionId: z.string(),
  recordedAt: epochMs,
  leaseUntil: z.exactOptional(epochMs),
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
  version: z.int().check(z.minimum(1, { error: 'must be a positive integer' })),
  pending: z.exactOptional(pendingChangeSchema),
  driftSignature: z.exactOptional(z.string()),
  blockedSignature: z.exactOptional(z.string()),
  updatedAt: epochMs,
  engineWeights: z.exactOptional(weightsSchema),
};
const stateItemSchema = z.looseObject({ ...itemShape, state: serviceStateSchema });
/** The state's fields before layout 12 (no endpoint's checkers' failures kept). */
const stateShapeV11 = { ...stateShape, endpoints: z.record(z.string(), endpointStateSchemaV11) };
/** The state's fields before layout 11 (no counts kept with the endpoints' histories). */
const stateShapeV10 = { ...stateShape, endpoints: z.record(z.string(), endpointStateSchemaV10) };
/** The state's fields before layout 10 (no fail static notice kept). */
const { failStaticNotice: _notice, ...stateShapeV9 } = stateShapeV10;
/** The state's fields before layout 9 (no endpoint's health check at its drain). */
const stateShapeV8 = { ...stateShapeV9, endpoints: z.record(z.string(), endpointStateSchemaV8) };
/** The state's fields before layout 8 (load profiles without their basis). */
const stateShapeV7 = { ...stateShapeV8, loadProfiles: loadProfilesSchemaV7, rollouts: z.record(z.string(), z.strictObject(rolloutShapeV7)) };
/** The state's fields before layout 7 (no failed recovery step held). */
const stateShapeV6 = { ...stateShapeV7, endpoints: z.record(z.string(), endpointStateSchemaV6) };
/** The state's fields before layout 6 (nothing from health checks). */
const stateShapeV5 = { ...stateShapeV7, endpoints: z.record(z.string(), endpointStateSchemaV5) };
/** The state's fields before layout 5 (no learned limits). */
const stateShapeV4 = { ...stateShapeV7, endpoints: z.record(z.string(), endpointStateSchemaV4) };
/** The state's fields before layout 4 (no capacity handshake). */
const { capacity: _capacity, ...stateShapeV3 } = stateShapeV4;
type StateItem = z.output<typeof stateItemSchema>;

/** Layout 1: the state's later fields absent when empty; each rollout with the idempotency keys it had applied. */
const stateItemV1Schema = z.looseObject({
  ...itemShape,
  state: z.strictObject({
    ...stateShapeV3,
    rollouts: z.exactOptional(z.record(z.string(), z.strictObject({ ...rolloutShapeV7, seen: z.array(z.string()) }))),
    demandHistory: z.exactOptional(stateShape.demandHistory),
    deploymentKeys: z.exactOptional(stateShape.deploymentKeys),
    drillStarts: z.exactOptional(stateShape.drillStarts),
    loadProfiles: z.exactOptional(stateShapeV7.loadProfiles),
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
      capacity: {},
      overrides: announced(state.overrides),
    },
  };
}

/** Overrides of layout 1 were set before overrides were told: taken as told, so the migrated state decides as before. */
function announced(overrides: Overrides): Overrides {
  const told = <T extends Override>(o: T): T => ({ ...o, announced: true });
  return {
    ...(overrides.freeze ? { freeze: told(overrides.freeze) } : {}),
    ...(overrides.pin ? { pin: told(overrides.pin) } : {}),
    ...(overrides.drains ? { drains: Object.fromEntries(Object.entries(overrides.drains).map(([id, d]) => [id, told(d)])) } : {}),
  };
}

/** Layout 2: recent changes without the way they moved each endpoint. */
const stateItemV2Schema = z.looseObject({
  ...itemShape,
  state: z.strictObject({ ...stateShapeV3, recentChanges: z.array(z.strictObject({ at: epochMs, emergency: z.boolean() })) }),
});

/** Layout 2 to 3 to 4: nothing to add for the flap guard (a change that does not say which way it moved holds nothing back), and no capacity asked. */
function fromV2(item: z.output<typeof stateItemV2Schema>): StateItem {
  return { ...item, schemaVersion: STATE_SCHEMA_VERSION, state: { ...item.state, capacity: {} } };
}

/** Layout 3: no capacity handshake. */
const stateItemV3Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV3) });

/** Layout 3 to 4: no capacity was asked for. */
function fromV3(item: z.output<typeof stateItemV3Schema>): StateItem {
  return { ...item, schemaVersion: STATE_SCHEMA_VERSION, state: { ...item.state, capacity: {} } };
}

/** Layout 4: no learned limits; it reads as it is. */
const stateItemV4Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV4) });

/** Layout 5: nothing from health checks; it reads as it is. */
const stateItemV5Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV5) });

/** Layout 6: no failed recovery step held; it reads as it is. */
const stateItemV6Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV6) });

/** Layout 7: load profiles without their basis (learned on the signal's own statistic: core/canaryLatency.ts `onBasis`); it reads as it is. */
const stateItemV7Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV7) });

/** Layout 8: no endpoint's health check at its drain; it reads as it is. */
const stateItemV8Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV8) });

/** Layout 9: no fail static notice kept; it reads as it is. */
const stateItemV9Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV9) });

/** Layout 10: no counts kept with the endpoints' histories; it reads as it is. */
const stateItemV10Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV10) });

/** Layout 11: no endpoint's checkers' failures kept; it reads as it is. */
const stateItemV11Schema = z.looseObject({ ...itemShape, state: z.strictObject(stateShapeV11) });

/** How an item of each layout is read: parsed with its own schema, then migrated to the current one. */
const READERS: Readonly<Record<number, (service: string, raw: unknown) => StateItem>> = {
  1: (service, raw) => fromV1(parsed(service, stateItemV1Schema, raw)),
  2: (service, raw) => fromV2(parsed(service, stateItemV2Schema, raw)),
  3: (service, raw) => fromV3(parsed(service, stateItemV3Schema, raw)),
  4: (service, raw) => ({ ...parsed(service, stateItemV4Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  5: (service, raw) => ({ ...parsed(service, stateItemV5Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  6: (service, raw) => ({ ...parsed(service, stateItemV6Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  7: (service, raw) => ({ ...parsed(service, stateItemV7Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  8: (service, raw) => ({ ...parsed(service, stateItemV8Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  9: (service, raw) => ({ ...parsed(service, stateItemV9Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  10: (service, raw) => ({ ...parsed(service, stateItemV10Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  11: (service, raw) => ({ ...parsed(service, stateItemV11Schema, raw), schemaVersion: STATE_SCHEMA_VERSION }),
  12: (service, raw) => parsed(service, stateItemSchema, raw),
};

function parsed<T extends z.ZodMiniType>(service: string, schema: T, raw: unknown): z.output<T> {
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
    ...(item.engineWeights ? { engineWeights: item.engineWeights } : {}),
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
    ...(write.engineWeights ? { engineWeights: write.engineWeights } : {}),
  };
}
