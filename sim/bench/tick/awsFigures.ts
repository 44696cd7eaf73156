/**
 * The figures the tick benchmark's fakes enforce and charge, each with where it comes from. Where
 * AWS publishes nothing (per-call latency) or the copy of a page at hand did not say (Route 53's
 * change-throughput bucket), the figure is an assumption, labelled as such, and a flag changes it.
 */

export interface Bucket {
  readonly perSecond: number;
  readonly burst: number;
}

export const AwsLimits = {
  route53: {
    /**
     * Route 53 developer guide, "Throttling for Amazon Route 53 API requests": per account, a
     * bucket of 50 requests refilled at 10 a second for all operations together, and the same for
     * each operation not listed otherwise (ListResourceRecordSets, ChangeResourceRecordSets).
     */
    accountRequests: { perSecond: 10, burst: 50 } as Bucket,
    perOperation: { perSecond: 10, burst: 50 } as Bucket,
    /**
     * The same page: a separate change-throughput bucket counting record changes. Its figures were
     * not in the copy available: 1,000 changes refilled at 100 a second, each Change counted once,
     * is an assumption (steer53's pacer assumes the same; both are configurable).
     */
    changes: { perSecond: 100, burst: 1000 } as Bucket,
    /** Route 53 developer guide, "Quotas": 1,000 ResourceRecord elements and 32,000 Value characters a request, an UPSERT counting both twice. */
    maxValuesPerRequest: 1000,
    maxValueCharactersPerRequest: 32_000,
    /** Route 53 API reference, ListResourceRecordSets: MaxItems at most (and by default) 300. */
    maxItemsPerPage: 300,
  },
  cloudWatch: {
    /** CloudWatch service quotas: GetMetricData 50 transactions a second, per account and region. */
    getMetricData: { perSecond: 50, burst: 50 } as Bucket,
    /** The same: 180,000 datapoints a second for data of the last three hours. */
    datapointsPerSecond: 180_000,
    /** The same: DescribeAlarms 9 transactions a second. */
    describeAlarms: { perSecond: 9, burst: 9 } as Bucket,
    /** CloudWatch API reference: GetMetricData takes at most 500 MetricDataQuery; DescribeAlarms 100 AlarmNames. */
    maxQueriesPerCall: 500,
    maxAlarmNamesPerCall: 100,
  },
  dynamoDb: {
    /** DynamoDB API reference, BatchGetItem: at most 100 keys and 16 MB a call; an item at most 400 KB. */
    maxKeysPerBatchGet: 100,
    maxBatchGetBytes: 16 * 1024 * 1024,
    maxItemBytes: 400 * 1024,
  },
} as const;

/**
 * Latency of one call, in ms: steer53's assumptions (AWS publishes no per-call latency; these are
 * round figures for a call from Lambda in the same region, the Route 53 control plane being in
 * us-east-1). The same figures are DefaultTickCostModel's in functions/app/shardPlan.ts.
 */
export const AssumedLatencyMs: Readonly<Record<string, number>> = {
  'route53:ListResourceRecordSets': 150,
  'route53:ChangeResourceRecordSets': 250,
  'route53:GetHealthCheck': 100,
  'route53:GetHealthCheckStatus': 100,
  'route53:GetHealthCheckLastFailureReason': 100,
  'cloudwatch:GetMetricData': 300,
  'cloudwatch:DescribeAlarms': 100,
  'dynamodb:BatchGetItem': 20,
  'dynamodb:GetItem': 8,
  'dynamodb:PutItem': 10,
  'dynamodb:Query': 15,
  'sns:Publish': 30,
  'eventbridge:PutEvents': 30,
  /** A throttled call is answered at once. */
  throttled: 20,
};

/**
 * Prices in us-east-1 (USD), from the services' pricing pages.
 *  - CloudWatch pricing: GetMetricData $0.01 per 1,000 metrics requested; other API requests
 *    (DescribeAlarms) $0.01 per 1,000; custom metrics $0.30 a metric-month (first 10,000),
 *    prorated by the hour a metric is sent in; logs ingested $0.50 a GB.
 *  - Lambda pricing: $0.20 per million requests; arm64 $0.0000133334 per GB-second.
 *  - DynamoDB on-demand pricing: $0.125 per million read request units (a strongly consistent
 *    read of up to 4 KB is one), $0.625 per million write request units (a write of up to 1 KB).
 *  - Route 53 pricing: no charge for API requests (hosted zones and queries are the zones' own).
 *  - EventBridge: scheduled rules invoke at no charge.
 *  - CloudWatch pricing: dashboards $3.00 a dashboard-month, the first 3 (of up to 50 metrics)
 *    free; standard-resolution metric alarms $0.10 an alarm-month.
 */
export const Prices = {
  getMetricDataPerMetric: 0.01 / 1000,
  cloudWatchRequest: 0.01 / 1000,
  customMetricMonth: 0.3,
  logsPerGb: 0.5,
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  route53Request: 0,
  dashboardMonth: 3,
  freeDashboards: 3,
  alarmMonth: 0.1,
} as const;

/** Minutes in a 30-day month. */
export const MINUTES_PER_MONTH = 30 * 24 * 60;
