/**
 * What steer53 costs a month, from what ticks call: the calls of an average tick (measured by
 * the benchmark over a whole quiet cycle) times the ticks of a month, at the prices of
 * awsFigures.ts, plus what the handlers emit (custom metrics and logs). Per service: the total
 * divided by the services.
 *
 *   CloudWatch reads   = metrics requested a tick × ticks a month × $0.01 / 1,000
 *                        + DescribeAlarms requests a tick × ticks a month × $0.01 / 1,000
 *   custom metrics     = (services × (1 + endpoints) + shards × 4) × $0.30
 *                        (Decisions and Weight per endpoint, sent at each read, so in every hour;
 *                        ShardDuration, ShardLag, ServicesRead, ServicesDeferred per shard)
 *   logs               = (services read a tick × 700 B + shards × 400 B) × ticks a month × $0.50 / GB
 *                        (the handler's `evaluated` and `tick evaluated` lines: assumed sizes)
 *   Lambda             = shards × ticks a month × ($0.20 / 1,000,000 + seconds × GB × $0.0000133334)
 *   DynamoDB           = (read units × $0.125 + write units × $0.625) / 1,000,000 a tick × ticks a month
 *   Route 53           = $0 (API requests are not charged)
 *   dashboards         = (dashboards − 3 free) × $3 (the construct's: one per service and one for
 *                        the ticks, unless `dashboard: false`)
 *   alarm signals      = alarm signals × $0.10 (the team's own alarms, which adaptive polling needs
 *                        on every endpoint for a service to be read at the quiet cadence)
 */
import { MINUTES_PER_MONTH, Prices } from './awsFigures.js';

export interface TickUsage {
  /** Calls by `service:Operation`. */
  readonly calls: Readonly<Record<string, number>>;
  readonly metricsRequested: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly servicesRead: number;
  /** Each shard's billed time, in seconds. */
  readonly shardSeconds: readonly number[];
}

export interface CostInputs {
  readonly services: number;
  readonly endpoints: number;
  readonly shards: number;
  readonly memoryMb: number;
  /** CloudWatch dashboards the construct creates. @default 0 */
  readonly dashboards?: number;
  /** Alarm signals of the config (one alarm each). @default 0 */
  readonly alarmSignals?: number;
  /** Ticks a month (one a minute by default). */
  readonly ticksPerMonth?: number;
}

export interface MonthlyCost {
  readonly cloudWatchReads: number;
  readonly customMetrics: number;
  readonly logs: number;
  readonly lambda: number;
  readonly dynamoDb: number;
  readonly route53: number;
  readonly dashboards: number;
  readonly alarmSignals: number;
  readonly total: number;
}

const LOG_BYTES_PER_EVALUATION = 700;
const LOG_BYTES_PER_SHARD_TICK = 400;

export function monthlyCost(tick: TickUsage, inputs: CostInputs): MonthlyCost {
  const ticks = inputs.ticksPerMonth ?? MINUTES_PER_MONTH;
  const cloudWatchReads =
    ticks * (tick.metricsRequested * Prices.getMetricDataPerMetric + (tick.calls['cloudwatch:DescribeAlarms'] ?? 0) * Prices.cloudWatchRequest);
  const customMetrics = (inputs.services * (1 + inputs.endpoints) + inputs.shards * 4) * Prices.customMetricMonth;
  const logs = (ticks * (tick.servicesRead * LOG_BYTES_PER_EVALUATION + inputs.shards * LOG_BYTES_PER_SHARD_TICK) * Prices.logsPerGb) / 1024 ** 3;
  const gb = inputs.memoryMb / 1024;
  const lambda = ticks * tick.shardSeconds.reduce((sum, seconds) => sum + Prices.lambdaRequest + seconds * gb * Prices.lambdaArmGbSecond, 0);
  const dynamoDb = ticks * (tick.readUnits * Prices.dynamoReadUnit + tick.writeUnits * Prices.dynamoWriteUnit);
  const route53 = ticks * Object.entries(tick.calls).reduce((sum, [op, n]) => sum + (op.startsWith('route53:') ? n * Prices.route53Request : 0), 0);
  const dashboards = Math.max(0, (inputs.dashboards ?? 0) - Prices.freeDashboards) * Prices.dashboardMonth;
  const alarmSignals = (inputs.alarmSignals ?? 0) * Prices.alarmMonth;
  const parts = { cloudWatchReads, customMetrics, logs, lambda, dynamoDb, route53, dashboards, alarmSignals };
  return { ...parts, total: Object.values(parts).reduce((sum, v) => sum + v, 0) };
}

/** Each figure divided by the services. */
export function perService(cost: MonthlyCost, services: number): MonthlyCost {
  return Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, v / services])) as unknown as MonthlyCost;
}
