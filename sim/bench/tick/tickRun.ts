/**
 * One run of the tick benchmark: a fleet, its shards as the construct plans them, and each
 * shard's tick through the real use case (runScheduledTick → onTick → evaluateService) and the
 * real AWS adapters over real SDK clients answered by the in-process fakes, on virtual time. The
 * shards of a tick start together, as the schedule's targets fire together, each with its own
 * runtime (a warm Lambda container: its own pacer, with its share of the account's rates), and
 * share the fakes (one account). The first tick reads every service (nothing is known yet: the
 * worst tick); the next ones, a whole quiet cycle, are the steady state.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SNSClient } from '@aws-sdk/client-sns';
import { CloudWatchClients } from '../../../functions/adapters/aws/cloudWatchClients.js';
import { CloudWatchMetrics } from '../../../functions/adapters/aws/cloudWatchMetrics.js';
import { DynamoStateStore } from '../../../functions/adapters/aws/dynamoStateStore.js';
import { DynamoTickClaims } from '../../../functions/adapters/aws/dynamoTickClaims.js';
import { EventBridgePublisher } from '../../../functions/adapters/aws/eventBridgePublisher.js';
import { pacedClient, route53Costs } from '../../../functions/adapters/aws/pacedClients.js';
import { AwsApiRates, Pacer, shareOf, type ApiRates } from '../../../functions/adapters/aws/pacing.js';
import { BoundedRetryStrategy, Route53RetryPolicy, type BoundedRetryStrategyOptions, type RetryPolicy } from '../../../functions/adapters/aws/retryStrategy.js';
import { Route53HealthChecks } from '../../../functions/adapters/aws/route53HealthChecks.js';
import { Route53Weights } from '../../../functions/adapters/aws/route53Weights.js';
import { SnsNotifier } from '../../../functions/adapters/aws/snsNotifier.js';
import { healthCheckReadsPerTick } from '../../../functions/app/healthChecks.js';
import type { Runtime } from '../../../functions/app/runtime.js';
import type { TickOutcome } from '../../../functions/app/onTick.js';
import { runScheduledTick } from '../../../functions/app/scheduledTick.js';
import { DefaultTickCostModel, planShards, shardSizeFor, type Shard } from '../../../functions/app/shardPlan.js';
import type { Config } from '../../../functions/core/config.js';
import { silentLog } from '../../../functions/ports/log.js';
import { FakeAws, type FakeWorld } from './fakeAws.js';
import { fleetConfig, fleetWorld, zoneRecords, type FleetShape } from './fleet.js';
import { VirtualTime } from './virtualTime.js';

/** 2026-01-01T00:00Z: the first tick's minute. */
export const START = Date.UTC(2026, 0, 1, 0, 0, 0);
/** How long after its minute a shard's invocation starts (EventBridge, Lambda). */
export const INVOKE_LAG_MS = 1_000;
/** A Lambda function gets one vCPU at this memory, a share of one below it. */
export const ONE_VCPU_MB = 1769;
/** The account the fakes stand for. */
export const BENCH_ACCOUNT = '123456789012';
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };

export interface TickBenchOptions extends FleetShape {
  /** Memory of the schedule function, MB. @default 512 */
  readonly memoryMb?: number;
  /** What shard sizing aims at, s. @default 20 */
  readonly targetSeconds?: number;
  /** A shard size instead of the sizing. */
  readonly shardSize?: number;
  /** Health checks a tick may read (`RuntimeOptions.healthCheckReadsPerTick`). @default as the AWS runtime sizes it from the shard's Route 53 rate */
  readonly healthCheckReadsPerTick?: number;
}

export interface ShardResult {
  readonly id: string;
  readonly services: number;
  readonly zones: number;
  readonly read: number;
  /** Time spent waiting on AWS (latency, pacing, retries), on the virtual clock. */
  readonly ioSeconds: number;
  /** Its share of the tick's CPU, as a Lambda of the function's memory would take it. */
  readonly cpuSeconds: number;
  /** Both: no overlap of CPU and I/O is assumed, so this errs long. */
  readonly simulatedSeconds: number;
}

export interface TickResult {
  readonly minute: number;
  readonly calls: Record<string, number>;
  readonly throttled: Record<string, number>;
  readonly overBatchLimits: number;
  readonly metricsRequested: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly servicesRead: number;
  readonly failures: number;
  /** Shards whose tick started after the next tick had fired, and so skipped it (the previous one ran over). */
  readonly skipped: number;
  readonly shards: readonly ShardResult[];
  /** This machine's CPU for the whole tick (the fakes' own work left out). */
  readonly cpuSeconds: number;
}

export interface TickBenchRun {
  readonly config: Config;
  readonly shards: readonly Shard[];
  readonly shardSize: number;
  readonly memoryMb: number;
  readonly ticks: readonly TickResult[];
}

/** A retry policy with the deadline its retries stop short of (as BoundedRetryStrategy takes it). */
type DeadlinedPolicy = RetryPolicy & Pick<BoundedRetryStrategyOptions, 'deadline'>;

/** The SDK sleeps the delay a retry token asks for with a real timer: here the wait is on the virtual clock instead. */
function virtualRetries(policy: DeadlinedPolicy, time: VirtualTime, random: () => number): BoundedRetryStrategy {
  const strategy = new BoundedRetryStrategy({ ...policy, now: time.now, random });
  const virtual = Object.create(strategy) as BoundedRetryStrategy;
  virtual.refreshRetryTokenForRetry = async (token, errorInfo) => {
    const next = await strategy.refreshRetryTokenForRetry(token, errorInfo);
    await time.sleep(next.getRetryDelay());
    return { getRetryCount: () => next.getRetryCount(), getRetryDelay: () => 0 };
  };
  return virtual;
}

/** A seeded uniform [0, 1): the same run, the same jitter. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What one invocation's runtime gets: its share of the account's rates, and what the AWS runtime sets from the invocation. */
export interface InvocationShare {
  readonly rates: ApiRates;
  readonly healthCheckReads: number;
  /** When the invocation in progress will be stopped (epoch ms), as the AWS runtime gives its pacer and Route 53 retries. @default none */
  readonly deadline?: () => number | undefined;
  /** `Runtime.account`, as STEER53_ACCOUNT_ID sets it. @default unset */
  readonly account?: string;
  /** Whose calls these are, for the fakes' `byCaller` tallies and `onRecordsChanged`. @default nobody's */
  readonly caller?: string;
}

/**
 * One warm Lambda container's runtime: the real adapters over SDK clients answered by the fakes,
 * paced at its share (its own pacer, returned for its wait counters), as createAwsRuntime builds it.
 */
export function invocationRuntime(config: Config, fake: FakeAws, time: VirtualTime, share: InvocationShare, seed: number): { runtime: Runtime; pacer: Pacer } {
  const { rates } = share;
  const random = seededRandom(seed);
  const deadline = share.deadline ? { deadline: share.deadline } : {};
  const pacer = new Pacer({ now: time.now, sleep: time.sleep, ...deadline });
  // Other clients retry as the SDK's standard strategy does, roughly: three attempts, short waits.
  const standard: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 20_000 };
  const client = <C>(
    make: (retries: BoundedRetryStrategy, maxAttempts: number) => C,
    service: Parameters<FakeAws['attach']>[1],
    region: string,
    policy: DeadlinedPolicy = standard,
  ) => fake.attach(make(virtualRetries(policy, time, random), policy.maxAttempts), service, region, share.caller);
  const route53 = pacedClient(
    client(
      (retryStrategy, maxAttempts) => new Route53Client({ region: 'us-east-1', credentials, retryStrategy, maxAttempts }),
      'route53',
      'us-east-1',
      // Route 53's retries stop short of the deadline, as in Lambda (awsRuntime.ts).
      { ...Route53RetryPolicy, ...deadline },
    ),
    pacer,
    route53Costs(pacer, rates),
  );
  const dynamo = client(
    (retryStrategy, maxAttempts) => new DynamoDBClient({ region: 'us-east-1', credentials, retryStrategy, maxAttempts }),
    'dynamodb',
    'us-east-1',
  );
  const table = 'steer53-bench';
  let id = 0;
  const runtime: Runtime = {
    config,
    dns: new Route53Weights({ client: route53 }),
    metrics: new CloudWatchMetrics({
      clients: new CloudWatchClients({
        createClient: (c) =>
          client((retryStrategy, maxAttempts) => new CloudWatchClient({ region: c.region, credentials, retryStrategy, maxAttempts }), 'cloudwatch', c.region),
        pacing: { pacer, rates },
      }),
    }),
    store: new DynamoStateStore({ client: dynamo, tableName: table, sleep: time.sleep }),
    tickClaims: new DynamoTickClaims({ client: dynamo, tableName: table }),
    notifier: new SnsNotifier({
      client: client((retryStrategy, maxAttempts) => new SNSClient({ region: 'us-east-1', credentials, retryStrategy, maxAttempts }), 'sns', 'us-east-1'),
      topicArn: 'arn:aws:sns:us-east-1:123456789012:steer53',
    }),
    events: new EventBridgePublisher({
      client: client(
        (retryStrategy, maxAttempts) => new EventBridgeClient({ region: 'us-east-1', credentials, retryStrategy, maxAttempts }),
        'eventbridge',
        'us-east-1',
      ),
      eventBusName: 'steer53',
    }),
    clock: { now: time.now },
    log: silentLog,
    newId: () => `bench-${seed}-${++id}`,
    healthChecks: new Route53HealthChecks({ client: route53, now: time.now }),
    ...(share.account !== undefined ? { account: share.account } : {}),
    options: { concurrency: 4, healthCheckReadsPerTick: share.healthCheckReads },
  };
  return { runtime, pacer };
}

/** One shard's runtime (a warm container of the schedule function), paced at its share. */
function shardRuntime(config: Config, fake: FakeAws, time: VirtualTime, share: InvocationShare, seed: number): Runtime {
  return invocationRuntime(config, fake, time, share, seed).runtime;
}

/** The counts in `after` less those in `before` (a snapshot of it), the unchanged ones left out. */
export const countsSince = (after: ReadonlyMap<string, number>, before: Readonly<Record<string, number>>) =>
  Object.fromEntries([...after].map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));

/** A fleet ready to tick: its config and shards, the fakes on virtual time, and each shard's runtime. */
export interface TickFleet {
  readonly config: Config;
  readonly shards: readonly Shard[];
  readonly shardSize: number;
  readonly memoryMb: number;
  readonly time: VirtualTime;
  readonly fake: FakeAws;
  /** Each shard's share of the account's rates (and the health checks it may read): a new container of the schedule function gets it. */
  readonly shardShare: InvocationShare;
  /** What runOneTick needs, but the minute. */
  readonly context: Omit<TickContext, 'minute'>;
}

/** Builds the fleet, its shards as the construct plans them, and the fakes (answering `world`, by default fleetWorld's). */
export function tickFleet(options: TickBenchOptions, world?: (config: Config) => FakeWorld): TickFleet {
  const config = fleetConfig(options);
  const memoryMb = options.memoryMb ?? 512;
  const shardSize = options.shardSize ?? shardSizeFor(config.services, options.targetSeconds ?? 20, { ...DefaultTickCostModel, memoryMb });
  const shards = planShards(config.services, shardSize);
  const time = new VirtualTime(START);
  const fake = new FakeAws(time, world ? world(config) : fleetWorld(config, options));
  for (const [zone, records] of zoneRecords(config, options)) fake.defineZone(zone, records);
  const rates = shareOf(AwsApiRates, 0.8 / shards.length);
  const reads = options.healthCheckReadsPerTick ?? healthCheckReadsPerTick(rates.route53.requests.perSecond);
  const shardShare = { rates, healthCheckReads: reads };
  const runtimes = new Map(shards.map((shard, i) => [shard.id, shardRuntime(config, fake, time, shardShare, i + 1)]));
  const byName = new Map(config.services.map((s) => [s.name, s]));
  return { config, shards, shardSize, memoryMb, time, fake, shardShare, context: { shards, runtimes, byName, time, fake, memoryMb } };
}

/** Runs the first tick and a whole quiet cycle after it. */
export async function runTickBench(options: TickBenchOptions): Promise<TickBenchRun> {
  const { config, shards, shardSize, memoryMb, context } = tickFleet(options);
  const cycle = Math.round(Math.max(...config.services.map((s) => s.policy.polling.quietIntervalSeconds / s.policy.evaluationPeriodSeconds)));
  const ticks: TickResult[] = [];
  for (let minute = 0; minute <= cycle; minute += 1) {
    ticks.push(await runOneTick({ ...context, minute }));
  }
  return { config, shards, shardSize, memoryMb, ticks };
}

export interface TickContext {
  readonly minute: number;
  readonly shards: readonly Shard[];
  readonly runtimes: ReadonlyMap<string, Runtime>;
  readonly byName: ReadonlyMap<string, Config['services'][number]>;
  readonly time: VirtualTime;
  readonly fake: FakeAws;
  readonly memoryMb: number;
}

/** One shard's tick as tickShards ran it. */
export interface ShardRun {
  readonly shard: Shard;
  /** When its invocation started (epoch ms, virtual). */
  readonly startedAt: number;
  /** Time spent waiting on AWS, virtual. */
  readonly ioMs: number;
  readonly read: number;
  readonly failures: number;
  readonly skipped: number;
  /** What the tick made of its services (absent: the shard skipped a stale tick). */
  readonly tick?: TickOutcome;
}

/**
 * Every shard's tick of the schedule that fired at `scheduledAt`, the shards starting together
 * now, each on its runtime (`runtimeOf`, by default the fleet's warm containers). On the virtual
 * clock: call it inside `time.run`.
 */
export function tickShards(
  ctx: Pick<TickContext, 'shards' | 'runtimes' | 'byName' | 'time'>,
  scheduledAt: number,
  runtimeOf: (shard: Shard) => Runtime = (shard) => ctx.runtimes.get(shard.id)!,
): Promise<ShardRun[]> {
  const { shards, time } = ctx;
  return Promise.all(
    shards.map(async (shard): Promise<ShardRun> => {
      const start = time.now();
      const outcome = await runScheduledTick(runtimeOf(shard), {
        trigger: 'bench',
        services: shard.services.map((name) => ctx.byName.get(name)!),
        scheduledAt,
        shard: { id: shard.id, staleAfterMs: 90_000 },
      });
      // A shard whose tick starts after the next one fired skips it, as in Lambda: the run says so.
      if (outcome.kind === 'stale') return { shard, startedAt: start, ioMs: time.now() - start, read: 0, failures: 0, skipped: 1 };
      if (outcome.kind !== 'evaluated') throw new Error(`bench: shard ${shard.id} was ${outcome.kind}`);
      const read = outcome.tick.polling.filter((p) => p.due).length;
      return { shard, startedAt: start, ioMs: time.now() - start, read, failures: outcome.tick.failures.length, skipped: 0, tick: outcome.tick };
    }),
  );
}

/** One tick of every shard, at `minute` after START, the shards starting together. */
export async function runOneTick(ctx: TickContext): Promise<TickResult> {
  const { minute, time, fake } = ctx;
  const scheduledAt = START + minute * 60_000;
  time.advanceTo(scheduledAt + INVOKE_LAG_MS);
  const before = {
    calls: Object.fromEntries(fake.calls),
    throttled: Object.fromEntries(fake.throttled),
    over: fake.overBatchLimits,
    metrics: fake.metricsRequested,
    ru: fake.readUnits,
    wu: fake.writeUnits,
    fakeCpu: fake.fakeCpuMicros,
  };
  const cpu = process.cpuUsage();
  const outcomes = await time.run(() => tickShards(ctx, scheduledAt));
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system - (fake.fakeCpuMicros - before.fakeCpu)) / 1e6;
  const servicesRead = outcomes.reduce((sum, o) => sum + o.read, 0);
  const lambdaScale = Math.max(1, ONE_VCPU_MB / ctx.memoryMb);
  const shardResults = outcomes.map(({ shard, ioMs, read }): ShardResult => {
    const shardCpu = servicesRead > 0 ? (cpuSeconds * read) / servicesRead : 0;
    return {
      id: shard.id,
      services: shard.services.length,
      zones: shard.zones.length,
      read,
      ioSeconds: ioMs / 1000,
      cpuSeconds: shardCpu * lambdaScale,
      simulatedSeconds: ioMs / 1000 + shardCpu * lambdaScale,
    };
  });
  return {
    minute,
    calls: countsSince(fake.calls, before.calls),
    throttled: countsSince(fake.throttled, before.throttled),
    overBatchLimits: fake.overBatchLimits - before.over,
    metricsRequested: fake.metricsRequested - before.metrics,
    readUnits: fake.readUnits - before.ru,
    writeUnits: fake.writeUnits - before.wu,
    servicesRead,
    failures: outcomes.reduce((sum, o) => sum + o.failures, 0),
    skipped: outcomes.reduce((sum, o) => sum + o.skipped, 0),
    shards: shardResults,
    cpuSeconds,
  };
}
