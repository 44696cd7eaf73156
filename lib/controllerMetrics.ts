/**
 * The controller's own CloudWatch metrics, as the dashboard reads them. The handlers write them
 * in embedded metric format through Powertools Metrics (functions/handlers/edge.ts, MetricNames):
 * namespace `steer53`, one `service` dimension per service.
 */
export const ControllerMetrics = {
  /** Namespace of every controller metric (POWERTOOLS_METRICS_NAMESPACE). */
  namespace: 'steer53',
  /**
   * The weight the controller holds for one endpoint after an evaluation; dimensions service,
   * endpoint. (The dashboard graphs it; the handlers are to emit it, see docs/deploy.md.)
   */
  weight: 'Weight',
  /** Evaluations that reached a decision. */
  decisions: 'Decisions',
  /** Weight changes written to Route 53. */
  weightChanges: 'WeightChanges',
  /** Changes a safety rule blocked or limited. */
  blockedActions: 'BlockedActions',
  /** Route 53 weights the controller did not write. */
  driftDetected: 'DriftDetected',
  /** Evaluations that failed (adapter or engine errors). */
  errors: 'Errors',
  /** Notifications or events that could not be sent. */
  notificationFailures: 'NotificationFailures',
  /** Events a handler could not read and ignored (not retried); `service` is MalformedEventsService. */
  malformedEvents: 'MalformedEvents',
  /** The `service` dimension of the per-shard metrics (functions/handlers/edge.ts TICK_METRICS_SERVICE). */
  tickService: '#tick',
  /** Per shard (dimension shard): the tick's time in ms, and how late it started. */
  shardDuration: 'ShardDuration',
  shardLag: 'ShardLag',
  /** Per shard: services read, and deferred by adaptive polling. */
  servicesRead: 'ServicesRead',
  servicesDeferred: 'ServicesDeferred',
  /** Per shard: ticks skipped because they started after the next one fired, or were delivered twice. */
  staleShardTicks: 'StaleShardTicks',
  duplicateShardTicks: 'DuplicateShardTicks',
} as const;

/** The `service` dimension of MalformedEvents: an event that cannot be read names no service. */
export const MalformedEventsService = 'none';

export const ControllerMetricDimensions = { service: 'service', endpoint: 'endpoint', shard: 'shard' } as const;
