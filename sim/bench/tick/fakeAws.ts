/**
 * In-process AWS for the tick benchmark: Route 53, CloudWatch, DynamoDB, SNS and EventBridge as
 * steer53's real adapters call them through real SDK clients. Each fake answers from inside the
 * client's middleware stack, below its retry middleware (so the SDK's retries and steer53's
 * pacing run as in Lambda), after the call's latency on the virtual clock, and enforces the
 * documented limits (awsFigures.ts): token buckets per account (Route 53) or region (CloudWatch)
 * that answer `Throttling` when empty, the Route 53 batch limits (InvalidChangeBatch), a zone
 * busy while its last change is processed (PriorRequestNotComplete), the per-call caps of
 * GetMetricData, DescribeAlarms and BatchGetItem. It counts every call, every throttle, and the
 * DynamoDB capacity units consumed.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { AssumedLatencyMs, AwsLimits, type Bucket } from './awsFigures.js';
import { listPage, sortRecords } from './route53Listing.js';
import type { VirtualTime } from './virtualTime.js';

/** A bucket as AWS keeps it: a call takes its tokens, or is refused and takes none. */
class AwsBucket {
  #tokens: number;
  #at: number;
  constructor(
    readonly rate: Bucket,
    now: number,
  ) {
    this.#tokens = rate.burst;
    this.#at = now;
  }
  /** Tokens in the bucket at `now`. */
  available(now: number): number {
    this.#tokens = Math.min(this.rate.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate.perSecond);
    this.#at = now;
    return this.#tokens;
  }
  take(tokens: number): void {
    this.#tokens -= tokens;
  }
}

/** The metric values and alarm states the fake CloudWatch answers with. */
export interface FakeWorld {
  /** The value of a metric statistic in a period, or undefined for no datapoint. */
  metric(
    query: { region: string; namespace: string; metricName: string; dimensions: Record<string, string>; stat: string },
    periodStart: number,
  ): number | undefined;
  alarmState(region: string, name: string): 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | undefined;
  /** Whether a Route 53 health check's endpoint answers its checkers. @default every one does */
  healthCheckHealthy?(id: string): boolean;
}

/** Route 53's health checkers: one report from each of these regions. */
const CHECKER_REGIONS = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'];

type AttributeMap = Record<string, { S?: string; N?: string; [k: string]: unknown }>;
type Answer = { output: Record<string, unknown> } | { error: Error & { $metadata?: unknown } };

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

/** DynamoDB's item size, approximated by the item's JSON (names and values). */
function itemBytes(item: AttributeMap): number {
  return JSON.stringify(item).length;
}

export class FakeAws {
  /** Calls answered, by `service:Operation`. */
  readonly calls = new Map<string, number>();
  /** Calls refused for a rate, by `service:Operation`. */
  readonly throttled = new Map<string, number>();
  /** Requests Route 53 refused for being over a batch limit. */
  overBatchLimits = 0;
  /** CloudWatch metrics requested (GetMetricData queries), and DynamoDB capacity units. */
  metricsRequested = 0;
  readUnits = 0;
  writeUnits = 0;
  /** CPU spent inside the fakes' own handlers (µs), to leave out of the tick's CPU. */
  fakeCpuMicros = 0;
  /** Told of every change batch Route 53 accepts: when, in which zone, the record sets written, and by whom (the client's `caller`). @default nobody */
  onRecordsChanged?: ((at: number, zone: string, sets: readonly ResourceRecordSet[], caller: string | undefined) => void) | undefined;
  /** Calls answered and refused for a rate, by the `caller` a client was attached as, then by `service:Operation`. */
  readonly byCaller = new Map<string, { readonly calls: Map<string, number>; readonly throttled: Map<string, number> }>();

  readonly #time: VirtualTime;
  readonly #world: FakeWorld;
  readonly #latency: Readonly<Record<string, number>>;
  readonly #buckets = new Map<string, AwsBucket>();
  readonly #zones = new Map<string, ResourceRecordSet[]>();
  readonly #zoneBusyUntil = new Map<string, number>();
  readonly #items = new Map<string, AttributeMap>();
  #changeNumber = 0;

  constructor(time: VirtualTime, world: FakeWorld, latency: Readonly<Record<string, number>> = AssumedLatencyMs) {
    this.#time = time;
    this.#world = world;
    this.#latency = latency;
  }

  /** Puts a hosted zone's records. */
  defineZone(zone: string, records: readonly ResourceRecordSet[]): void {
    this.#zones.set(zone, sortRecords(records));
  }

  /** A hosted zone's records as Route 53 holds them now (copies). */
  records(zone: string): ResourceRecordSet[] {
    return structuredClone(this.#zones.get(zone) ?? []);
  }

  /**
   * Answers `client`'s commands from this fake; `service` names the API, `region` the client's
   * region, `caller` (optional) whose calls they are, for `byCaller` and `onRecordsChanged`.
   */
  attach<C>(client: C, service: 'route53' | 'cloudwatch' | 'dynamodb' | 'sns' | 'eventbridge', region: string, caller?: string): C {
    const answer = (_next: unknown, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const op = `${service}:${String(context.commandName).replace(/Command$/, '')}`;
      return { output: { $metadata: {}, ...(await this.#call(op, region, args.input, caller)) }, response: {} };
    };
    const stack = (client as unknown as { middlewareStack: { add(mw: unknown, options: object): void; addRelativeTo(mw: unknown, options: object): void } })
      .middlewareStack;
    // Below the retry middleware, as the service is. DynamoDB is called through the DocumentClient,
    // whose unmarshalling sits in the deserialize step: the answer comes from inside it.
    if (service === 'dynamodb') stack.addRelativeTo(answer, { relation: 'after', toMiddleware: 'DocumentUnmarshall', name: 'fakeAws' });
    else stack.add(answer, { step: 'deserialize', priority: 'high', name: 'fakeAws' });
    return client;
  }

  async #call(op: string, region: string, input: Record<string, unknown>, caller: string | undefined): Promise<Record<string, unknown>> {
    this.#time.touch();
    const before = process.cpuUsage();
    const answer = this.#answer(op, region, input, this.#time.now(), caller);
    const used = process.cpuUsage(before);
    this.fakeCpuMicros += used.user + used.system;
    const mine = caller === undefined ? undefined : this.#tallyOf(caller);
    if ('error' in answer && answer.error.name === 'Throttling') {
      this.throttled.set(op, (this.throttled.get(op) ?? 0) + 1);
      if (mine) mine.throttled.set(op, (mine.throttled.get(op) ?? 0) + 1);
      await this.#time.sleep(this.#latency.throttled ?? 0);
      throw answer.error;
    }
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    if (mine) mine.calls.set(op, (mine.calls.get(op) ?? 0) + 1);
    await this.#time.sleep(this.#latency[op] ?? 10);
    if ('error' in answer) throw answer.error;
    return answer.output;
  }

  #tallyOf(caller: string) {
    let tally = this.byCaller.get(caller);
    if (!tally) {
      tally = { calls: new Map(), throttled: new Map() };
      this.byCaller.set(caller, tally);
    }
    return tally;
  }

  /** Takes the tokens from every bucket named, or, when one has too few, from none. */
  #take(now: number, ...wants: [key: string, rate: Bucket, tokens: number][]): boolean {
    const buckets = wants.map(([key, rate, tokens]) => {
      let bucket = this.#buckets.get(key);
      if (!bucket) {
        bucket = new AwsBucket(rate, now);
        this.#buckets.set(key, bucket);
      }
      return { bucket, tokens };
    });
    if (buckets.some(({ bucket, tokens }) => bucket.available(now) < tokens)) return false;
    for (const { bucket, tokens } of buckets) bucket.take(tokens);
    return true;
  }

  #answer(op: string, region: string, input: Record<string, unknown>, now: number, caller: string | undefined): Answer {
    switch (op) {
      case 'route53:ListResourceRecordSets':
        return this.#listRecords(input, now);
      case 'route53:ChangeResourceRecordSets':
        return this.#changeRecords(input, now, caller);
      case 'route53:GetHealthCheck':
      case 'route53:GetHealthCheckStatus':
      case 'route53:GetHealthCheckLastFailureReason':
        return this.#healthCheck(op, String(input.HealthCheckId), now);
      case 'cloudwatch:GetMetricData':
        return this.#getMetricData(region, input, now);
      case 'cloudwatch:DescribeAlarms':
        return this.#describeAlarms(region, input, now);
      case 'dynamodb:GetItem':
      case 'dynamodb:PutItem':
      case 'dynamodb:BatchGetItem':
      case 'dynamodb:Query':
        return this.#dynamo(op, input);
      case 'sns:Publish':
        return { output: { MessageId: `m-${now}` } };
      case 'eventbridge:PutEvents':
        return { output: { FailedEntryCount: 0, Entries: (input.Entries as unknown[]).map((_, i) => ({ EventId: `e-${now}-${i}` })) } };
      default:
        return { error: awsError('UnknownOperation', `the benchmark's fake AWS does not answer ${op}`) };
    }
  }

  #route53Turn(op: string, now: number, changes = 0): boolean {
    const { accountRequests, perOperation } = AwsLimits.route53;
    const wants: [string, Bucket, number][] = [
      ['route53', accountRequests, 1],
      [op, perOperation, 1],
    ];
    if (changes > 0) wants.push(['route53:changes', AwsLimits.route53.changes, changes]);
    return this.#take(now, ...wants);
  }

  /**
   * An HTTPS health check's configuration, or its checkers' reports (all alike), or their last
   * failures: a failing check's checkers failed just now, a healthy one's never.
   */
  #healthCheck(op: string, id: string, now: number): Answer {
    if (!this.#route53Turn(op, now)) return { error: awsError('Throttling', 'Rate exceeded') };
    if (op === 'route53:GetHealthCheck')
      return { output: { HealthCheck: { Id: id, CallerReference: id, HealthCheckConfig: { Type: 'HTTPS' }, HealthCheckVersion: 1 } } };
    const failing = this.#world.healthCheckHealthy?.(id) === false;
    if (op === 'route53:GetHealthCheckLastFailureReason' && !failing) return { output: { HealthCheckObservations: [] } };
    const status = failing ? 'Failure: Connection timed out.' : 'Success: HTTP Status Code 200, OK';
    const reports = CHECKER_REGIONS.map((region, i) => ({
      Region: region,
      IPAddress: `15.177.0.${i}`,
      StatusReport: { Status: status, CheckedTime: new Date(now) },
    }));
    return { output: { HealthCheckObservations: reports } };
  }

  #listRecords(input: Record<string, unknown>, now: number): Answer {
    if (!this.#route53Turn('route53:ListResourceRecordSets', now)) return { error: awsError('Throttling', 'Rate exceeded') };
    const zone = this.#zones.get(String(input.HostedZoneId));
    if (!zone) return { error: awsError('NoSuchHostedZone', `No hosted zone found with ID: ${String(input.HostedZoneId)}`, 404) };
    const maxItems = Math.min(AwsLimits.route53.maxItemsPerPage, Number(input.MaxItems ?? AwsLimits.route53.maxItemsPerPage));
    return { output: listPage(zone, { ...(input as object), MaxItems: maxItems }) };
  }

  #changeRecords(input: Record<string, unknown>, now: number, caller: string | undefined): Answer {
    const zoneId = String(input.HostedZoneId);
    const changes = ((input.ChangeBatch as { Changes?: { Action: string; ResourceRecordSet: ResourceRecordSet }[] }).Changes ?? []).slice();
    if (!this.#route53Turn('route53:ChangeResourceRecordSets', now, changes.length)) return { error: awsError('Throttling', 'Rate exceeded') };
    let values = 0;
    let characters = 0;
    for (const change of changes) {
      const factor = change.Action === 'UPSERT' ? 2 : 1;
      const records = change.ResourceRecordSet.ResourceRecords ?? [];
      values += factor * Math.max(1, records.length);
      characters += factor * records.reduce((sum, r) => sum + (r.Value?.length ?? 0), 0);
    }
    if (values > AwsLimits.route53.maxValuesPerRequest || characters > AwsLimits.route53.maxValueCharactersPerRequest) {
      this.overBatchLimits += 1;
      return { error: awsError('InvalidChangeBatch', `${values} values and ${characters} value characters: over the batch limits`) };
    }
    if (now < (this.#zoneBusyUntil.get(zoneId) ?? 0)) {
      return { error: awsError('PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.') };
    }
    const zone = this.#zones.get(zoneId) ?? [];
    for (const { ResourceRecordSet: set } of changes) {
      const i = zone.findIndex((r) => r.Name === set.Name && r.Type === set.Type && r.SetIdentifier === set.SetIdentifier);
      if (i >= 0) zone[i] = structuredClone(set);
      else zone.push(structuredClone(set));
    }
    this.#zones.set(zoneId, sortRecords(zone));
    this.onRecordsChanged?.(
      now,
      zoneId,
      changes.map((c) => c.ResourceRecordSet),
      caller,
    );
    this.#zoneBusyUntil.set(zoneId, now + (this.#latency['route53:ChangeResourceRecordSets'] ?? 0));
    return { output: { ChangeInfo: { Id: `/change/C${++this.#changeNumber}`, Status: 'PENDING', SubmittedAt: new Date(now) } } };
  }

  #getMetricData(region: string, input: Record<string, unknown>, now: number): Answer {
    const { getMetricData, maxQueriesPerCall, datapointsPerSecond } = AwsLimits.cloudWatch;
    type Query = {
      Id: string;
      MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string };
    };
    const queries = input.MetricDataQueries as Query[];
    const start = new Date(input.StartTime as Date).getTime();
    const end = new Date(input.EndTime as Date).getTime();
    const datapoints = queries.reduce((sum, q) => sum + Math.max(1, Math.ceil((end - start) / (q.MetricStat.Period * 1000))), 0);
    const dps = { perSecond: datapointsPerSecond, burst: datapointsPerSecond };
    if (!this.#take(now, [`cloudwatch:GetMetricData:${region}`, getMetricData, 1], [`cloudwatch:datapoints:${region}`, dps, datapoints])) {
      return { error: awsError('Throttling', 'Rate exceeded') };
    }
    if (queries.length > maxQueriesPerCall) return { error: awsError('ValidationError', `${queries.length} queries: at most ${maxQueriesPerCall} a call`) };
    this.metricsRequested += queries.length;
    const results = queries.map((q) => {
      const periodMs = q.MetricStat.Period * 1000;
      const timestamps: Date[] = [];
      const values: number[] = [];
      for (let t = Math.ceil(start / periodMs) * periodMs; t + periodMs <= end; t += periodMs) {
        const value = this.#world.metric(
          {
            region,
            namespace: q.MetricStat.Metric.Namespace,
            metricName: q.MetricStat.Metric.MetricName,
            dimensions: Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d) => [d.Name, d.Value])),
            stat: q.MetricStat.Stat,
          },
          t,
        );
        if (value === undefined) continue;
        timestamps.push(new Date(t));
        values.push(value);
      }
      return { Id: q.Id, Timestamps: timestamps, Values: values, StatusCode: 'Complete' };
    });
    return { output: { MetricDataResults: results, Messages: [] } };
  }

  #describeAlarms(region: string, input: Record<string, unknown>, now: number): Answer {
    const { describeAlarms, maxAlarmNamesPerCall } = AwsLimits.cloudWatch;
    if (!this.#take(now, [`cloudwatch:DescribeAlarms:${region}`, describeAlarms, 1])) return { error: awsError('Throttling', 'Rate exceeded') };
    const names = (input.AlarmNames as string[] | undefined) ?? [];
    if (names.length > maxAlarmNamesPerCall)
      return { error: awsError('ValidationError', `${names.length} alarm names: at most ${maxAlarmNamesPerCall} a call`) };
    const alarms = names.flatMap((name) => {
      const state = this.#world.alarmState(region, name);
      return state ? [{ AlarmName: name, StateValue: state }] : [];
    });
    return { output: { MetricAlarms: alarms, CompositeAlarms: [] } };
  }

  /** DynamoDB as the state store and tick claims call it: items by key, conditional puts, batch gets, the audit query. */
  #dynamo(op: string, input: Record<string, unknown>): Answer {
    const keyOf = (key: AttributeMap) => `${key.pk?.S}\u0000${key.sk?.S}`;
    const read = (item: AttributeMap | undefined) => {
      if (item) this.readUnits += Math.ceil(itemBytes(item) / 4096);
      return item ? structuredClone(item) : undefined;
    };
    switch (op) {
      case 'dynamodb:GetItem':
        return { output: { Item: read(this.#items.get(keyOf(input.Key as AttributeMap))) } };
      case 'dynamodb:PutItem':
        return this.#putItem(input, keyOf);
      case 'dynamodb:BatchGetItem': {
        const [table, request] = Object.entries(input.RequestItems as Record<string, { Keys: AttributeMap[] }>)[0]!;
        if (request.Keys.length > AwsLimits.dynamoDb.maxKeysPerBatchGet)
          return { error: awsError('ValidationException', 'Too many items requested for the BatchGetItem call') };
        let bytes = 0;
        const items: AttributeMap[] = [];
        const unprocessed: AttributeMap[] = [];
        for (const key of request.Keys) {
          const item = this.#items.get(keyOf(key));
          if (item && bytes + itemBytes(item) > AwsLimits.dynamoDb.maxBatchGetBytes) unprocessed.push(key);
          else if (item) {
            bytes += itemBytes(item);
            items.push(read(item)!);
          }
        }
        return { output: { Responses: { [table]: items }, UnprocessedKeys: unprocessed.length > 0 ? { [table]: { Keys: unprocessed } } : {} } };
      }
      default: {
        // The audit query: pk = :pk AND begins_with(sk, :prefix), newest first, limited.
        const values = input.ExpressionAttributeValues as AttributeMap;
        const pk = values[':pk']?.S;
        const prefix = values[':prefix']?.S ?? '';
        const matching = [...this.#items.entries()]
          .filter(([key]) => key.startsWith(`${pk}\u0000${prefix}`))
          .sort(([a], [b]) => (a < b ? 1 : -1))
          .slice(0, Number(input.Limit ?? 50))
          .map(([, item]) => read(item)!);
        return { output: { Items: matching, Count: matching.length } };
      }
    }
  }

  #putItem(input: Record<string, unknown>, keyOf: (key: AttributeMap) => string): Answer {
    const item = input.Item as AttributeMap;
    const key = keyOf(item);
    const bytes = itemBytes(item);
    if (bytes > AwsLimits.dynamoDb.maxItemBytes) return { error: awsError('ValidationException', 'Item size has exceeded the maximum allowed size') };
    const existing = this.#items.get(key);
    const condition = input.ConditionExpression as string | undefined;
    const expected = (input.ExpressionAttributeValues as AttributeMap | undefined)?.[':expected']?.N;
    const refused =
      (condition === 'attribute_not_exists(pk)' && existing !== undefined) || (condition === '#version = :expected' && existing?.version?.N !== expected);
    this.writeUnits += Math.ceil(bytes / 1024);
    if (refused) return { error: awsError('ConditionalCheckFailedException', 'The conditional request failed') };
    this.#items.set(key, structuredClone(item));
    return { output: {} };
  }
}
