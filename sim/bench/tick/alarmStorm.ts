/**
 * bench:tick --alarm-storm: a region fails under the whole fleet. Every service's error alarm on it
 * goes OK→ALARM at once, and as many alarm events reach the alarm function, delivered
 *  - `direct` (the wiring before the alarm queue, and what CloudWatch's Lambda alarm action still
 *    does): the function is invoked once per event, all at once
 *    (Lambda scales out), each invocation its own warm container with its own pacer at the
 *    function's share of the account's API rates (`shareOf(rates, 0.1)`, as the construct sets
 *    STEER53_API_RATES);
 *  - `queued` (the construct's alarm queue): the events go to an SQS queue, whose event source mapping delivers batches of up to
 *    `batch` messages to at most `maxConcurrency` invocations at once, each container paced at
 *    `shareOf(rates, 0.1 / maxConcurrency)`; when an invocation ends, its container takes the next
 *    batch while messages remain.
 * Each invocation does what functions/handlers/alarm.ts does: `screenAlarmChanges` (DescribeAlarms
 * confirms the states; a state it cannot confirm is ignored), then `onAlarms` for the changes that
 * act, with the function's timeout as the deadline (its pacer's and Route 53 retries' too).
 *
 * The fleet, fakes and runtimes are the tick benchmark's (tickRun.ts), in the outage world
 * (fleet.ts: records with health checks; the first region's metrics missing, its 5xx alarms in
 * ALARM, its health checks failing), which holds from the storm's start: before it, one scheduled
 * tick reads the healthy fleet, so every service has its state, as in a running controller. By
 * default the schedule's ticks do not run during the storm: the alarm function is measured alone.
 * With `tick`, the schedule's tick of the minute fires `tick.atSeconds` after the storm's start
 * (its shards start with the alarm invocations at 0: the worst case), each shard in a container of
 * its own (its own runtime and pacer at its share, as tickRun.ts runs them) on the same fakes, so
 * the tick and the alarm function share the account's buckets (not its Lambda concurrency: not
 * simulated); the next minute's tick fires a minute later while services remain undrained, up to
 * a quiet interval's turns and one more (by then every service has been read by a tick: a quiet
 * service is read on its turn, pollingCadence.ts). Failed invocations are counted, not retried;
 * each delivery runs on a fleet of its own.
 */
import { AwsCallError } from '../../../functions/adapters/aws/errors.js';
import { AwsApiRates, shareOf } from '../../../functions/adapters/aws/pacing.js';
import { healthCheckReadsPerTick } from '../../../functions/app/healthChecks.js';
import { onAlarms, screenAlarmChanges, type ReceivedAlarmChange } from '../../../functions/app/onAlarm.js';
import type { EvaluationOutcome } from '../../../functions/app/evaluateService.js';
import type { Config } from '../../../functions/core/config.js';
import { recordsToDeliverAgain } from '../../../functions/handlers/alarm.js';
import { worthRedelivering } from '../../../functions/handlers/edge.js';
import { Prices } from './awsFigures.js';
import type { FakeAws, FakeWorld } from './fakeAws.js';
import { fleetWorld, REGIONS } from './fleet.js';
import {
  BENCH_ACCOUNT,
  countsSince,
  INVOKE_LAG_MS,
  invocationRuntime,
  ONE_VCPU_MB,
  runOneTick,
  START,
  seededRandom,
  tickFleet,
  tickShards,
  type ShardRun,
  type TickBenchOptions,
} from './tickRun.js';

export type AlarmDelivery = 'direct' | 'queued';
export type AlarmArrival = 'any' | 'by-zone';

/** The alarm function's timeout (lib/handlerFunctions.ts, `asyncSettings.alarm.timeout`): each invocation's deadline. */
export const ALARM_TIMEOUT_SECONDS = 30;
/** The construct's alarm queue (lib/handlerFunctions.ts, `AlarmQueueDelivery`): records a batch, invocations at once. */
export const ALARM_QUEUE_BATCH = 50;
export const ALARM_QUEUE_CONCURRENCY = 2;
/** The alarm function's share of the account's API rates (lib/trafficController.ts: STEER53_API_RATES). */
export const ALARM_RATE_SHARE = 0.1;
/** The storm's start: two and a half minutes after the warm-up tick's minute. */
export const STORM_AT = START + 150_000;

export interface AlarmStormOptions extends Pick<TickBenchOptions, 'services' | 'endpoints' | 'zones' | 'memoryMb' | 'targetSeconds' | 'shardSize'> {
  readonly delivery: AlarmDelivery;
  /** Messages a queued invocation gets at most (the event source mapping's BatchSize). @default ALARM_QUEUE_BATCH */
  readonly batch?: number;
  /** Queued invocations at once at most (the event source mapping's MaximumConcurrency). @default ALARM_QUEUE_CONCURRENCY */
  readonly maxConcurrency?: number;
  /**
   * The order the events arrive in: `any` (a seeded shuffle: alarms fire, and a standard queue
   * delivers, in no particular order, so a batch spans most hosted zones), or `by-zone` (the
   * services' order, a hosted zone's together: the best case for batches). @default 'any'
   */
  readonly arrival?: AlarmArrival;
  /** The schedule's ticks run during the storm, the first `atSeconds` (default 0) after its start. @default none runs */
  readonly tick?: { readonly atSeconds?: number };
}

/** One shard's tick during the storm. */
export interface StormTickShard {
  readonly id: string;
  readonly services: number;
  /** Services it read (due this minute). */
  readonly read: number;
  /** When it started and ended (virtual seconds from the storm's start), and the wait on AWS between. */
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly ioSeconds: number;
  /** Its share of the run's CPU (split by API calls made), as a Lambda of the memory would take it: not on the clock, an estimate. */
  readonly cpuSeconds: number;
  /** 1 when it started after the next tick fired, and skipped its tick. */
  readonly skipped: number;
  readonly calls: Record<string, number>;
  /** The calls of its own that the account refused for a rate. */
  readonly throttled: Record<string, number>;
  /** Evaluations by status, with the decision's mode where it was not normal (`unchanged (fail-static)`). */
  readonly evaluations: Record<string, number>;
  /** Evaluations that first completed a change an earlier one had recorded but not written (its Route 53 write failed). */
  readonly repaired: number;
  /** Services whose evaluation failed, by error. */
  readonly failures: Record<string, number>;
}

/** One minute's tick during the storm: its shards. */
export interface StormTick {
  /** When the schedule fired (virtual seconds from the storm's start; its shards start INVOKE_LAG_MS later). */
  readonly firedSeconds: number;
  /** Services read, over its shards. */
  readonly read: number;
  readonly shards: readonly StormTickShard[];
}

/** The schedule's ticks during the storm, and who drained what. */
export interface StormTickResult {
  /** When the first tick fired, seconds after the storm's start. */
  readonly atSeconds: number;
  /** Ticks at most (the next fires only while services remain undrained). */
  readonly maxTicks: number;
  readonly ticks: readonly StormTick[];
  /** When the last service's down region went to 0 (virtual seconds from the storm's start), and whether that was every service. */
  readonly lastDrainSeconds: number | null;
  readonly allDrained: boolean;
  /** The drains (the down region's record written at 0), by who wrote them. */
  readonly drainsByAlarm: number;
  readonly drainsByTick: number;
  /** The whole account's (the alarm function and the tick): calls answered and refused for a rate. */
  readonly accountCalls: Record<string, number>;
  readonly accountThrottled: Record<string, number>;
  /** The share of the run's CPU put down to the tick (by API calls made); the alarm function's figures get the rest. */
  readonly cpuShare: number;
}

export interface AlarmStormResult {
  readonly delivery: AlarmDelivery;
  readonly arrival: AlarmArrival;
  readonly alarms: number;
  /** Messages per invocation at most (1: direct). */
  readonly batch: number;
  /** Invocations at once at most (direct: as many as events). */
  readonly maxConcurrency: number;
  /** Services whose down region ended at weight 0 in Route 53, and the others. */
  readonly drained: number;
  readonly notDrained: number;
  /** Services whose weights were written, and when (virtual seconds from the storm's start): the first, the median, the last. */
  readonly servicesWritten: number;
  readonly firstWriteSeconds: number | null;
  readonly medianWriteSeconds: number | null;
  readonly lastWriteSeconds: number | null;
  /** When the last invocation ended (virtual seconds from the storm's start). */
  readonly endSeconds: number;
  /**
   * The CPU the virtual clock leaves out, on the critical path: the most any one container spent
   * (its invocations' shares of this machine's CPU, as a Lambda of the memory would take it). The
   * times above are later by up to this much.
   */
  readonly cpuOnCriticalPathSeconds: number;
  readonly invocations: number;
  /** Lambda concurrency taken from the account at the peak. */
  readonly peakConcurrency: number;
  /**
   * Billed time: each invocation's wait on AWS (virtual) plus its share of the CPU (by messages) as
   * a Lambda of the memory would take it.
   */
  readonly invocationSeconds: number;
  /** The longest invocation, the same way. */
  readonly longestInvocationSeconds: number;
  /** Invocations that would still have been running at their timeout, the same way (Lambda would have stopped them there). */
  readonly pastTimeout: number;
  /** Invocations returning records to the queue: an evaluation failed for a reason a redelivery may fix (or it threw, or ran past the timeout). */
  readonly failedInvocations: number;
  /**
   * Alarm events that would be delivered again (not simulated): an event whose service failed for
   * a reason that may pass (direct: Lambda retries the invocation; queued: the handler's partial
   * batch response returns its record), and every event of an invocation that threw or ran past
   * its timeout.
   */
  readonly redelivered: number;
  readonly lambdaCostUsd: number;
  /** What screening made of the changes: acted on, ignored (by why), refused (by code). */
  readonly screening: { readonly acted: number; readonly ignored: Record<string, number>; readonly refused: Record<string, number> };
  /** Evaluations by status (`applied`, `unchanged`, …), with the decision's mode where it was not normal (`unchanged (fail-static)`). */
  readonly evaluations: Record<string, number>;
  /** Services whose evaluation failed, by error (name, and for an AWS call its operation and AWS error). */
  readonly evaluationFailures: Record<string, number>;
  readonly calls: Record<string, number>;
  readonly throttled: Record<string, number>;
  readonly overBatchLimits: number;
  /** Time the invocations' calls waited for their turn under their pacers, summed. */
  readonly pacerWaitSeconds: number;
  /** This machine's CPU for the storm (the fakes' own work left out); with the tick, the tick's too. */
  readonly cpuSeconds: number;
  /** The schedule's ticks during the storm (`AlarmStormOptions.tick`); the fields above are the alarm function's. */
  readonly tick?: StormTickResult;
}

/** The fakes' `caller` of the alarm function's calls; a tick shard's is `tick<n>:<shard>`. */
const ALARM_CALLER = 'alarm';
const tickCaller = (tick: number, shard: string) => `tick${tick}:${shard}`;

/** A change as the alarm handler parses an EventBridge alarm state change. */
type StormChange = ReceivedAlarmChange & { readonly delivery: 'eventbridge'; readonly correlationId: string };

const count = (tally: Record<string, number>, key: string, n = 1) => {
  tally[key] = (tally[key] ?? 0) + n;
};

/** An evaluation by its status, with the decision's mode where it is not normal (fail-static: too much unknown to move anything). */
function evaluationLabel(o: EvaluationOutcome): string {
  return o.decision && o.decision.mode !== 'normal' ? `${o.status} (${o.decision.mode})` : o.status;
}

function errorLabel(error: Error): string {
  return error instanceof AwsCallError ? `${error.name} ${error.operation} ${error.awsErrorName}` : error.name;
}

/** The outage world from the moment `down()` says so, the healthy one before. */
function stormWorld(config: Config, shape: AlarmStormOptions, down: () => boolean): FakeWorld {
  const healthy = fleetWorld(config, { ...shape, incident: 0, outage: false });
  const failed = fleetWorld(config, { ...shape, incident: 0, outage: true });
  const now = () => (down() ? failed : healthy);
  return {
    metric: (query, periodStart) => now().metric(query, periodStart),
    alarmState: (region, name) => now().alarmState(region, name),
    healthCheckHealthy: (id) => now().healthCheckHealthy?.(id) ?? true,
  };
}

/** One alarm change per service: its first region's error alarm, OK→ALARM at the storm's start. */
function stormChanges(config: Config): StormChange[] {
  return config.services.map((service, i) => {
    const endpoint = service.endpoints.find((e) => e.setIdentifier === REGIONS[0])!;
    const signal = endpoint.signals.find((s) => s.source === 'alarm');
    if (signal?.source !== 'alarm' || signal.alarm.name === undefined) throw new Error(`bench: ${service.name} has no alarm signal on ${endpoint.region}`);
    const region = signal.alarm.region ?? endpoint.region;
    return {
      alarmName: signal.alarm.name,
      alarmArn: `arn:aws:cloudwatch:${region}:${BENCH_ACCOUNT}:alarm:${signal.alarm.name}`,
      region,
      account: BENCH_ACCOUNT,
      state: 'ALARM',
      previousState: 'OK',
      at: STORM_AT,
      delivery: 'eventbridge',
      correlationId: `storm-${i}`,
    };
  });
}

/** Fisher–Yates with a seeded random: the alarms fire in no particular order, the same on every run. */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const sumOf = (tally: ReadonlyMap<string, number> | undefined) => [...(tally ?? new Map<string, number>()).values()].reduce((sum, n) => sum + n, 0);

/** Runs the warm-up tick, then the storm through one delivery. */
export async function runAlarmStorm(options: AlarmStormOptions): Promise<AlarmStormResult> {
  let down = false;
  const shape = { ...options, outage: true };
  const fleet = tickFleet(shape, (config) => stormWorld(config, options, () => down));
  const { config, time, fake } = fleet;
  const memoryMb = fleet.memoryMb;
  const withTick = options.tick !== undefined;
  const tickAtMs = (options.tick?.atSeconds ?? 0) * 1000;
  // A quiet service is read on its turn, once in a quiet interval's periods: by the last of these ticks, every one was read.
  const maxTicks = Math.round(Math.max(...config.services.map((s) => s.policy.polling.quietIntervalSeconds / s.policy.evaluationPeriodSeconds))) + 1;

  const warmUp = await runOneTick({ ...fleet.context, minute: 0 });
  if (warmUp.failures > 0 || warmUp.servicesRead !== config.services.length)
    throw new Error(`bench: the warm-up tick read ${warmUp.servicesRead} services with ${warmUp.failures} failures`);

  down = true;
  time.advanceTo(STORM_AT + INVOKE_LAG_MS);
  // The alarms fire, and a standard queue hands them out, in no particular order; `by-zone`, the best case, keeps the services' (and so their zones') order.
  const inOrder = stormChanges(config);
  const changes = options.arrival === 'by-zone' ? inOrder : shuffled(inOrder, seededRandom(53));
  const direct = options.delivery === 'direct';
  const batch = direct ? 1 : (options.batch ?? ALARM_QUEUE_BATCH);
  const maxConcurrency = direct ? changes.length : (options.maxConcurrency ?? ALARM_QUEUE_CONCURRENCY);
  const rates = shareOf(AwsApiRates, direct ? ALARM_RATE_SHARE : ALARM_RATE_SHARE / maxConcurrency);
  const healthCheckReads = healthCheckReadsPerTick(rates.route53.requests.perSecond);

  // When each service's weights were written; whose down region went to 0.
  const serviceOf = new Map(config.services.map((s) => [`${s.dnsName}.`, s.name]));
  const lastWrite = new Map<string, number>();
  /** Each service whose down region is at 0 now: since when, and who wrote it. */
  const drains = new Map<string, { at: number; by: 'alarm' | 'tick' }>();
  fake.onRecordsChanged = (at, _zone, sets, caller) => {
    for (const set of sets) {
      const service = serviceOf.get(set.Name ?? '');
      if (!service) continue;
      // The alarm function's writes (without the tick, every write is).
      if (!withTick || caller === ALARM_CALLER) lastWrite.set(service, at);
      if (set.SetIdentifier !== REGIONS[0]) continue;
      if (set.Weight !== 0) drains.delete(service);
      else if (!drains.has(service)) drains.set(service, { at, by: caller === ALARM_CALLER ? 'alarm' : 'tick' });
    }
  };

  const screening = { acted: 0, ignored: {} as Record<string, number>, refused: {} as Record<string, number> };
  const evaluations: Record<string, number> = {};
  const evaluationFailures: Record<string, number> = {};
  /** Each invocation: its container, its wait on AWS, its messages, and those to deliver again for a retryable failure (-1: all, it threw). */
  const invocations: { container: number; ioMs: number; messages: number; retry: number }[] = [];
  const pacers: { waitedMs: number }[] = [];
  let active = 0;
  let peakConcurrency = 0;
  let seed = 10_000;

  /** A warm container of the alarm function: its runtime, whose deadline is the invocation's in progress. */
  let containers = 0;
  const container = () => {
    const id = containers++;
    let deadline: number | undefined;
    const { runtime, pacer } = invocationRuntime(
      config,
      fake,
      time,
      { rates, healthCheckReads, deadline: () => deadline, account: BENCH_ACCOUNT, caller: ALARM_CALLER },
      ++seed,
    );
    pacers.push(pacer);
    return {
      /** One invocation with these messages, as the alarm handler runs it. */
      async invoke(messages: readonly StormChange[]): Promise<void> {
        const start = time.now();
        deadline = start + ALARM_TIMEOUT_SECONDS * 1000;
        active += 1;
        peakConcurrency = Math.max(peakConcurrency, active);
        let retry = 0;
        try {
          const screened = await screenAlarmChanges(runtime, messages);
          for (const s of screened) {
            if (s.kind === 'act') screening.acted += 1;
            else if (s.kind === 'ignored') count(screening.ignored, s.why);
            else count(screening.refused, s.refusal.code);
          }
          const acting = screened.flatMap((s) => (s.kind === 'act' ? [s.change] : []));
          const outcome = acting.length === 0 ? undefined : await onAlarms(runtime, acting, deadline);
          // What the handler sends back: from the queue, its records to deliver again; invoked directly, the whole event when it throws.
          retry = direct
            ? outcome?.failures.some((f) => worthRedelivering(f.error))
              ? messages.length
              : 0
            : recordsToDeliverAgain(screened, acting, outcome).length;
          if (!outcome) return;
          for (const o of outcome.outcomes) count(evaluations, evaluationLabel(o));
          for (const f of outcome.failures) count(evaluationFailures, errorLabel(f.error));
        } catch (error) {
          // The handler would fail the invocation with it.
          retry = -1;
          count(evaluationFailures, `invocation: ${errorLabel(error instanceof Error ? error : new Error(String(error)))}`);
        } finally {
          active -= 1;
          invocations.push({ container: id, ioMs: time.now() - start, messages: messages.length, retry });
          deadline = undefined;
        }
      },
    };
  };

  const before = {
    calls: Object.fromEntries(fake.calls),
    throttled: Object.fromEntries(fake.throttled),
    over: fake.overBatchLimits,
    fakeCpu: fake.fakeCpuMicros,
  };
  const deliver = async () => {
    if (direct) {
      // EventBridge invokes the function once per event, all at once: a container each.
      await Promise.all(changes.map((change) => container().invoke([change])));
      return;
    }
    // The event source mapping: at most maxConcurrency batches in flight, the next one as one ends.
    const queue = [...changes];
    const pollers = Math.min(maxConcurrency, Math.ceil(queue.length / batch));
    await Promise.all(
      Array.from({ length: pollers }, async () => {
        const warm = container();
        while (queue.length > 0) await warm.invoke(queue.splice(0, batch).map((change) => ({ ...change, messageId: change.correlationId })));
      }),
    );
  };

  /** The schedule's ticks during the storm: each shard of each in a new container, on the same fakes. */
  const tickRuns: { firedAt: number; runs: readonly ShardRun[] }[] = [];
  const ticks = async () => {
    const running: Promise<void>[] = [];
    for (let k = 0; k < maxTicks; k += 1) {
      const firedAt = STORM_AT + tickAtMs + k * 60_000;
      await time.sleep(firedAt + INVOKE_LAG_MS - time.now());
      // The next minute's tick only while services remain undrained.
      if (k > 0 && drains.size === config.services.length) break;
      const runtimes = new Map(
        fleet.shards.map((shard, i) => [
          shard.id,
          invocationRuntime(config, fake, time, { ...fleet.shardShare, caller: tickCaller(k + 1, shard.id) }, 20_000 + 100 * k + i).runtime,
        ]),
      );
      running.push(
        tickShards(fleet.context, firedAt, (shard) => runtimes.get(shard.id)!).then((runs) => {
          tickRuns[k] = { firedAt, runs };
        }),
      );
    }
    await Promise.all(running);
  };

  const cpu = process.cpuUsage();
  let deliveredAt = 0;
  await time.run(() =>
    Promise.all([
      deliver().then(() => {
        deliveredAt = time.now();
      }),
      withTick ? ticks() : Promise.resolve(),
    ]),
  );
  const used = process.cpuUsage(cpu);
  const runCpuSeconds = (used.user + used.system - (fake.fakeCpuMicros - before.fakeCpu)) / 1e6;
  const endSeconds = (deliveredAt - STORM_AT) / 1000;
  fake.onRecordsChanged = undefined;
  // With the tick, the run's CPU is put down to the alarm function and each shard by the API calls they made (answered or refused).
  const callsOf = (caller: string) => sumOf(fake.byCaller.get(caller)?.calls) + sumOf(fake.byCaller.get(caller)?.throttled);
  const tickCallers = tickRuns.flatMap((t, k) => t.runs.map((r) => tickCaller(k + 1, r.shard.id)));
  const allCalls = callsOf(ALARM_CALLER) + tickCallers.reduce((sum, c) => sum + callsOf(c), 0);
  const cpuShareOf = (caller: string) => (allCalls > 0 ? callsOf(caller) / allCalls : 0);
  const cpuSeconds = withTick ? runCpuSeconds * cpuShareOf(ALARM_CALLER) : runCpuSeconds;

  // What Route 53 holds now: the down region's record of each service.
  const byZone = new Map<string, ReturnType<typeof fake.records>>();
  let drained = 0;
  for (const service of config.services) {
    const records = byZone.get(service.hostedZoneId) ?? fake.records(service.hostedZoneId);
    byZone.set(service.hostedZoneId, records);
    const down = records.find((r) => r.Name === `${service.dnsName}.` && r.SetIdentifier === REGIONS[0]);
    if (down?.Weight === 0) drained += 1;
  }
  const writes = [...lastWrite.values()].map((at) => (at - STORM_AT) / 1000).sort((a, b) => a - b);
  // This machine's CPU shared by messages, as a Lambda of the function's memory would take it.
  const lambdaCpu = cpuSeconds * Math.max(1, ONE_VCPU_MB / memoryMb);
  const seconds = invocations.map((i) => i.ioMs / 1000 + (lambdaCpu * i.messages) / changes.length);
  const invocationSeconds = seconds.reduce((sum, s) => sum + s, 0);
  // Every message of one that threw or ran past its timeout comes back; else those of the services that failed for a reason that may pass.
  const again = invocations.map((i, k) => (i.retry < 0 || seconds[k]! > ALARM_TIMEOUT_SECONDS ? i.messages : i.retry));
  const cpuByContainer = new Array<number>(containers).fill(0);
  for (const i of invocations) cpuByContainer[i.container]! += (lambdaCpu * i.messages) / changes.length;
  return {
    delivery: options.delivery,
    arrival: options.arrival ?? 'any',
    alarms: changes.length,
    batch,
    maxConcurrency,
    drained,
    notDrained: config.services.length - drained,
    servicesWritten: writes.length,
    firstWriteSeconds: writes[0] ?? null,
    medianWriteSeconds: writes.length > 0 ? writes[Math.floor((writes.length - 1) / 2)]! : null,
    lastWriteSeconds: writes.at(-1) ?? null,
    endSeconds,
    cpuOnCriticalPathSeconds: Math.max(0, ...cpuByContainer),
    invocations: invocations.length,
    peakConcurrency,
    invocationSeconds,
    longestInvocationSeconds: Math.max(0, ...seconds),
    pastTimeout: seconds.filter((s) => s > ALARM_TIMEOUT_SECONDS).length,
    failedInvocations: again.filter((n) => n > 0).length,
    redelivered: again.reduce((sum, n) => sum + n, 0),
    lambdaCostUsd: invocations.length * Prices.lambdaRequest + invocationSeconds * (memoryMb / 1024) * Prices.lambdaArmGbSecond,
    screening,
    evaluations,
    evaluationFailures,
    calls: withTick ? Object.fromEntries(fake.byCaller.get(ALARM_CALLER)?.calls ?? []) : countsSince(fake.calls, before.calls),
    throttled: withTick ? Object.fromEntries(fake.byCaller.get(ALARM_CALLER)?.throttled ?? []) : countsSince(fake.throttled, before.throttled),
    overBatchLimits: fake.overBatchLimits - before.over,
    pacerWaitSeconds: pacers.reduce((sum, p) => sum + p.waitedMs, 0) / 1000,
    cpuSeconds: runCpuSeconds,
    ...(withTick
      ? {
          tick: stormTickResult({
            atSeconds: tickAtMs / 1000,
            maxTicks,
            tickRuns,
            drains,
            services: config.services.length,
            fake,
            before,
            cpuOf: (caller) => runCpuSeconds * cpuShareOf(caller) * Math.max(1, ONE_VCPU_MB / memoryMb),
            cpuShare: 1 - cpuShareOf(ALARM_CALLER),
          }),
        }
      : {}),
  };
}

/** The ticks' shards, the drains and the account's calls, as StormTickResult reports them. */
function stormTickResult(run: {
  atSeconds: number;
  maxTicks: number;
  tickRuns: readonly { firedAt: number; runs: readonly ShardRun[] }[];
  drains: ReadonlyMap<string, { at: number; by: 'alarm' | 'tick' }>;
  services: number;
  fake: FakeAws;
  before: { calls: Readonly<Record<string, number>>; throttled: Readonly<Record<string, number>> };
  cpuOf: (caller: string) => number;
  cpuShare: number;
}): StormTickResult {
  const fromStorm = (at: number) => (at - STORM_AT) / 1000;
  const ticks = run.tickRuns.map((t, k): StormTick => {
    const shards = t.runs.map((r): StormTickShard => {
      const caller = tickCaller(k + 1, r.shard.id);
      const evaluations: Record<string, number> = {};
      const failures: Record<string, number> = {};
      for (const o of r.tick?.outcomes ?? []) count(evaluations, evaluationLabel(o));
      for (const f of r.tick?.failures ?? []) count(failures, errorLabel(f.error));
      return {
        id: r.shard.id,
        services: r.shard.services.length,
        read: r.read,
        startSeconds: fromStorm(r.startedAt),
        endSeconds: fromStorm(r.startedAt + r.ioMs),
        ioSeconds: r.ioMs / 1000,
        cpuSeconds: run.cpuOf(caller),
        skipped: r.skipped,
        calls: Object.fromEntries(run.fake.byCaller.get(caller)?.calls ?? []),
        throttled: Object.fromEntries(run.fake.byCaller.get(caller)?.throttled ?? []),
        evaluations,
        repaired: (r.tick?.outcomes ?? []).filter((o) => o.repaired !== undefined).length,
        failures,
      };
    });
    return { firedSeconds: fromStorm(t.firedAt), read: shards.reduce((sum, s) => sum + s.read, 0), shards };
  });
  const drains = [...run.drains.values()];
  return {
    atSeconds: run.atSeconds,
    maxTicks: run.maxTicks,
    ticks,
    lastDrainSeconds: drains.length > 0 ? fromStorm(Math.max(...drains.map((d) => d.at))) : null,
    allDrained: run.drains.size === run.services,
    drainsByAlarm: drains.filter((d) => d.by === 'alarm').length,
    drainsByTick: drains.filter((d) => d.by === 'tick').length,
    accountCalls: countsSince(run.fake.calls, run.before.calls),
    accountThrottled: countsSince(run.fake.throttled, run.before.throttled),
    cpuShare: run.cpuShare,
  };
}
