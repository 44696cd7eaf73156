/**
 * Port: what the Route 53 health checks on the endpoints' records say now. The engine reads it
 * only for endpoints drained because they were failing, and for those just restored by their
 * health check (functions/app/healthChecks.ts says when it is asked), so a record's health check
 * can end a failure the moment Route 53 sees it end. Which record has which health check is read
 * with the weights (`RecordSetWeights.healthChecks`, ports/dnsWeights.ts): the records' own
 * `HealthCheckId`, whoever attached it. Adapters: Route 53's GetHealthCheckStatus in
 * functions/adapters/aws; an in-memory one for the tests and the simulator.
 */

/** Route 53's verdict on a health check: healthy when more than 18% of its checkers see the endpoint healthy. */
export type HealthCheckState = 'healthy' | 'unhealthy';

export interface HealthCheckStatus {
  /**
   * What Route 53 says of each health check now, by health check id. An id Route 53 has no verdict
   * on yet (no checker has reported) is absent from the answer: unknown, not healthy. One call per
   * evaluation, for every id it needs. Throws when a status cannot be read (throttling, access
   * denied, a deleted health check); the caller then observes none.
   */
  statusOf(ids: readonly string[]): Promise<ReadonlyMap<string, HealthCheckState>>;
}
