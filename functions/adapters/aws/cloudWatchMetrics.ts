/**
 * CloudWatch adapter of the metrics port. All of a tick's queries go to GetMetricData in as few
 * calls as the 500-query limit allows, per region and account role (CloudWatch is regional);
 * identical queries from several services are asked once. Percentiles are asked together with the
 * SampleCount of the same metric and, where a signal names its trip, the percentile rank there
 * (`PR(:trip)`): with the two the engine counts the requests past trip (core/tailEvidence.ts).
 * Alarm states come from DescribeAlarms (metric and composite alarms).
 */
import {
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { percentileOf } from '../../core/percentiles.js';
import { AlarmStates, type AlarmState } from '../../core/types.js';
import {
  metricIdentity,
  type AlarmRef,
  type Datapoint,
  type MetricRequest,
  type MetricSeries,
  type MetricWindow,
  type MetricsSource,
  type ResolvedMetricQuery,
} from '../../ports/metrics.js';
import type { CloudWatchClients } from './cloudWatchClients.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

/** GetMetricData accepts at most 500 MetricDataQuery entries per call. */
export const MAX_QUERIES_PER_CALL = 500;
/** DescribeAlarms accepts at most 100 alarm names per call. */
export const MAX_ALARM_NAMES_PER_CALL = 100;

export interface CloudWatchMetricsOptions {
  readonly clients: CloudWatchClients;
}

interface UniqueQuery {
  readonly identity: string;
  readonly query: ResolvedMetricQuery;
  readonly keys: string[];
  /** Some request of it wants the SampleCount of the same metric too. */
  sampleCount: boolean;
  /** Each key's percentile rank value, if it asked for one. */
  readonly rankAt: Map<string, number>;
  /** The distinct rank values asked of this metric, in the order first asked. */
  readonly ranks: number[];
}

/** One metric's place in a region's calls: its query id, and the id of the SampleCount it is judged with. */
interface Planned {
  readonly unique: UniqueQuery;
  readonly id: string;
  readonly countId: string | undefined;
  /** The queries it adds (none for a SampleCount another request already asks). */
  readonly queries: MetricDataQuery[];
}

const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):\d{12}:alarm:(.+)$/;

export class CloudWatchMetrics implements MetricsSource {
  readonly #clients: CloudWatchClients;

  constructor(options: CloudWatchMetricsOptions) {
    this.#clients = options.clients;
  }

  async fetchMetrics(requests: readonly MetricRequest[], window: MetricWindow): Promise<ReadonlyMap<string, MetricSeries>> {
    // Group by client (region + role), asking each distinct metric once.
    const groups = new Map<string, Map<string, UniqueQuery>>();
    for (const request of requests) {
      const groupKey = `${request.query.region}|${request.query.accountRoleArn ?? ''}`;
      let group = groups.get(groupKey);
      if (!group) {
        group = new Map();
        groups.set(groupKey, group);
      }
      const identity = metricIdentity(request.query);
      const percentile = percentileOf(request.query.statistic) !== undefined;
      // A rank is read against the SampleCount: asking one asks the other.
      const ranked = percentile && request.rankAt !== undefined;
      const sampleCount = ranked || (request.sampleCount ?? percentile);
      let unique = group.get(identity);
      if (!unique) {
        unique = { identity, query: request.query, keys: [], sampleCount: false, rankAt: new Map(), ranks: [] };
        group.set(identity, unique);
      }
      unique.keys.push(request.key);
      unique.sampleCount ||= sampleCount;
      if (ranked) {
        unique.rankAt.set(request.key, request.rankAt!);
        if (!unique.ranks.includes(request.rankAt!)) unique.ranks.push(request.rankAt!);
      }
    }
    const out = new Map<string, MetricSeries>();
    // Regions are independent: ask them in parallel; one failing region leaves the others usable.
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const unique = [...group.values()];
        const first = unique[0]!.query;
        let results: Map<string, RankedSeries>;
        try {
          results = await this.#fetchGroup(first.region, first.accountRoleArn, unique, window);
        } catch (error) {
          const failure =
            error instanceof AwsCallError ? error : new AwsCallError({ operation: 'cloudwatch:GetMetricData', target: first.region }, error, true);
          results = new Map(unique.map((u) => [u.identity, { values: [], complete: false, error: failure.message }]));
        }
        for (const u of unique) for (const key of u.keys) out.set(key, seriesFor(results.get(u.identity), u.rankAt.get(key)));
      }),
    );
    return out;
  }

  async #fetchGroup(region: string, roleArn: string | undefined, unique: readonly UniqueQuery[], window: MetricWindow): Promise<Map<string, RankedSeries>> {
    const client = this.#clients.clientFor(region, roleArn);
    const target = roleArn ? `${region} (${roleArn})` : region;
    const planned = planQueries(unique);
    const chunks: MetricDataQuery[][] = [];
    let chunk: MetricDataQuery[] = [];
    for (const { queries } of planned) {
      // Keep a percentile, its own SampleCount and its ranks in the same call.
      if (chunk.length + queries.length > MAX_QUERIES_PER_CALL) {
        chunks.push(chunk);
        chunk = [];
      }
      chunk.push(...queries);
    }
    if (chunk.length > 0) chunks.push(chunk);

    const collected = new Map<string, { timestamps: number[]; values: number[]; complete: boolean; messages: string[] }>();
    for (const queries of chunks) {
      let nextToken: string | undefined;
      do {
        let response: GetMetricDataCommandOutput;
        try {
          response = await client.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: new Date(window.startTime),
              EndTime: new Date(window.endTime),
              ScanBy: 'TimestampAscending',
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          );
        } catch (error) {
          throw new AwsCallError({ operation: 'cloudwatch:GetMetricData', target }, error, isTransientAwsError(error));
        }
        for (const result of response.MetricDataResults ?? []) collect(collected, result);
        nextToken = response.NextToken;
      } while (nextToken);
    }

    const out = new Map<string, RankedSeries>();
    planned.forEach(({ unique: u, id, countId }) => {
      const main = collected.get(id);
      const counts = countId === undefined ? undefined : collected.get(countId);
      const counted = countId !== undefined;
      const periodMs = u.query.periodSeconds * 1000;
      // Only complete periods: a datapoint whose period ends after the window's end is still filling.
      const within = (d: Datapoint) => d.timestamp >= window.startTime && d.timestamp + periodMs <= window.endTime;
      const ranks = u.ranks.map((_, j) => collected.get(`${id}r${j}`));
      const complete = (main?.complete ?? true) && (!counted || (counts?.complete ?? true));
      const messages = [...(main?.messages ?? []), ...(counts?.messages ?? []), ...ranks.flatMap((r) => r?.messages ?? [])];
      out.set(u.identity, {
        values: toDatapoints(main).filter(within),
        ...(counted ? { sampleCounts: toDatapoints(counts).filter(within) } : {}),
        // A rank that failed is left out (the engine then judges the value alone), not the series.
        ranksAt: new Map(u.ranks.map((at, j) => [at, ranks[j]?.complete === false ? undefined : toDatapoints(ranks[j]).filter(within)])),
        complete,
        ...(messages.length > 0 ? { error: messages.join('; ') } : {}),
      });
    });
    return out;
  }

  async fetchAlarmStates(alarms: readonly AlarmRef[]): Promise<ReadonlyMap<string, AlarmState>> {
    // By region; an ARN carries its own region and name.
    const byRegion = new Map<string, Map<string, string[]>>();
    for (const alarm of alarms) {
      const match = alarm.arn ? ALARM_ARN.exec(alarm.arn) : null;
      const region = match ? match[1]! : alarm.region;
      const name = match ? match[2]! : alarm.name;
      if (!name) continue;
      let names = byRegion.get(region);
      if (!names) {
        names = new Map();
        byRegion.set(region, names);
      }
      names.set(name, [...(names.get(name) ?? []), alarm.key]);
    }
    const out = new Map<string, AlarmState>();
    await Promise.all(
      [...byRegion].map(async ([region, names]) => {
        const client = this.#clients.clientFor(region);
        const all = [...names.keys()];
        for (let i = 0; i < all.length; i += MAX_ALARM_NAMES_PER_CALL) {
          const slice = all.slice(i, i + MAX_ALARM_NAMES_PER_CALL);
          let nextToken: string | undefined;
          do {
            let response: DescribeAlarmsCommandOutput;
            try {
              response = await client.send(
                new DescribeAlarmsCommand({ AlarmNames: slice, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], ...(nextToken ? { NextToken: nextToken } : {}) }),
              );
            } catch (error) {
              throw new AwsCallError({ operation: 'cloudwatch:DescribeAlarms', target: region }, error, isTransientAwsError(error));
            }
            for (const alarm of [...(response.MetricAlarms ?? []), ...(response.CompositeAlarms ?? [])]) {
              const state = alarm.StateValue;
              if (!alarm.AlarmName || !isAlarmState(state)) continue;
              // A composite whose actions are suppressed (its suppressor alarm is in ALARM, or it waits
              // for it) says "do not act on me now": no evidence either way, so the engine holds.
              const suppressed = 'ActionsSuppressedBy' in alarm && alarm.ActionsSuppressedBy !== undefined && state === 'ALARM';
              for (const key of names.get(alarm.AlarmName) ?? []) out.set(key, suppressed ? 'INSUFFICIENT_DATA' : state);
            }
            nextToken = response.NextToken;
          } while (nextToken);
        }
      }),
    );
    return out;
  }
}

function isAlarmState(value: unknown): value is AlarmState {
  return value === AlarmStates.OK || value === AlarmStates.ALARM || value === AlarmStates.INSUFFICIENT_DATA;
}

/** One GetMetricData query: the metric and its statistic (or another statistic of it, `stat`). */
export function metricStatQuery(query: ResolvedMetricQuery, id: string, stat: string = query.statistic): MetricDataQuery {
  const metric = {
    Namespace: query.namespace,
    MetricName: query.metricName,
    Dimensions: Object.entries(query.dimensions).map(([Name, Value]) => ({ Name, Value })),
  };
  return { Id: id, MetricStat: { Metric: metric, Period: query.periodSeconds, Stat: stat }, ReturnData: true };
}

/** A number as a statistic's bound: plain decimal notation (no exponent), at most 10 decimals, as CloudWatch reads them. */
export function statNumber(value: number): string {
  const fixed = value.toFixed(10);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** A metric's series with its percentile ranks by value, before each request gets its own. */
interface RankedSeries extends MetricSeries {
  readonly ranksAt?: ReadonlyMap<number, readonly Datapoint[] | undefined>;
}

/** What one request gets: the metric's series, with the ranks at its own value when it asked for one. */
function seriesFor(series: RankedSeries | undefined, rankAt: number | undefined): MetricSeries {
  if (!series) return { values: [], complete: false };
  const { ranksAt, ...rest } = series;
  const ranks = rankAt === undefined ? undefined : ranksAt?.get(rankAt);
  return ranks ? { ...rest, ranks } : rest;
}

/**
 * The queries of a region's metrics, each asked once: `m<i>` for a metric's statistic, and for a
 * percentile or a per-request share that wants it, `m<i>n` for its SampleCount, unless another request asks that very
 * SampleCount already (then both read the one query), and `m<i>r<j>` for its j-th percentile rank
 * (`PR(:value)`). Query ids must start lowercase.
 */
function planQueries(unique: readonly UniqueQuery[]): Planned[] {
  const idOf = new Map(unique.map((u, i) => [u.identity, `m${i}`]));
  return unique.map((u, i): Planned => {
    const id = `m${i}`;
    const queries = [metricStatQuery(u.query, id)];
    if (!u.sampleCount) return { unique: u, id, countId: undefined, queries };
    const countQuery = { ...u.query, statistic: 'SampleCount' };
    let countId = idOf.get(metricIdentity(countQuery));
    if (countId === undefined) {
      countId = `${id}n`;
      idOf.set(metricIdentity(countQuery), countId);
      queries.push(metricStatQuery(countQuery, countId));
    }
    queries.push(...u.ranks.map((at, j) => metricStatQuery(u.query, `${id}r${j}`, `PR(:${statNumber(at)})`)));
    return { unique: u, id, countId, queries };
  });
}

function collect(into: Map<string, { timestamps: number[]; values: number[]; complete: boolean; messages: string[] }>, result: MetricDataResult): void {
  if (!result.Id) return;
  let entry = into.get(result.Id);
  if (!entry) {
    entry = { timestamps: [], values: [], complete: true, messages: [] };
    into.set(result.Id, entry);
  }
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  for (let i = 0; i < Math.min(timestamps.length, values.length); i += 1) {
    entry.timestamps.push(new Date(timestamps[i]!).getTime());
    entry.values.push(values[i]!);
  }
  // PartialData with a NextToken is simply paging; the final page says Complete. InternalError or
  // Forbidden mean the query's data is not all there.
  if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') entry.complete = false;
  for (const message of result.Messages ?? []) entry.messages.push(`${message.Code ?? ''} ${message.Value ?? ''}`.trim());
}

function toDatapoints(entry: { timestamps: number[]; values: number[] } | undefined): Datapoint[] {
  if (!entry) return [];
  const byTime = new Map<number, number>();
  for (const [i, t] of entry.timestamps.entries()) byTime.set(t, entry.values[i]!);
  return [...byTime].sort(([a], [b]) => a - b).map(([timestamp, value]) => ({ timestamp, value }));
}
