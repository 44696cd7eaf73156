/**
 * The controller's own CloudWatch metrics (embedded metric format, written by the handlers
 * through Powertools Metrics), as the dashboard reads them. Keep in step with functions/handlers.
 */
export const ControllerMetrics = {
  /** Namespace of every controller metric (POWERTOOLS_METRICS_NAMESPACE). */
  namespace: 'steer53',
  /** The weight the controller holds for one endpoint after an evaluation; dimensions Service, Endpoint. */
  weight: 'Weight',
  /** Evaluations that changed weights; dimension Service. */
  decisions: 'Decisions',
  /** Changes a safety rule blocked or limited; dimension Service. */
  blockedActions: 'BlockedActions',
  /** Evaluations that failed (adapter or engine errors); dimension Service. */
  errors: 'EvaluationErrors',
} as const;

export const ControllerMetricDimensions = { service: 'Service', endpoint: 'Endpoint' } as const;
