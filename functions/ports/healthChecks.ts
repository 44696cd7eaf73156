/**
 * Port: what the Route 53 health checks on the endpoints' records say now. The engine reads it
 * only for endpoints drained because they were failing, and for those just restored by their
 * health check (functions/app/healthChecks.ts says when it is asked), so a record's health check
 * can end a failure the moment Route 53 sees it end. Which record has which health check is read
 * with the weights (`RecordSetWeights.healthChecks`, ports/dnsWeights.ts): the records' own
 * `HealthCheckId`, whoever attached it. Adapters: Route 53's GetHealthCheck and
 * GetHealthCheckStatus in functions/adapters/aws (a calculated health check through its
 * children); an in-memory one for the tests and the simulator.
 */

/**
 * Route 53's verdict on a health check: healthy when more than 18% of its checkers see the
 * endpoint healthy, or, for a calculated one, when enough of its children are healthy; swapped
 * when the check is inverted.
 */
export type HealthCheckState = 'healthy' | 'unhealthy';

export interface HealthCheckStatus {
  /**
   * What Route 53 says of one health check now; undefined when it has no verdict yet (no checker
   * has reported, or a calculated one's children without a verdict decide it): unknown, not
   * healthy. Throws when the status cannot be read (throttling, access denied, a deleted health
   * check, or a calculated one with a child that cannot be read); the caller reads each check on
   * its own, so one that fails hides no other's.
   */
  statusOf(id: string): Promise<HealthCheckState | undefined>;

  /**
   * How many of the health check's checkers reported a failed check at or after `since` (epoch
   * ms): each checker's last failure and its time (Route 53 `GetHealthCheckLastFailureReason`).
   * A probe of the endpoint that needs no traffic: a region failing part of its requests keeps its
   * check healthy (a checker turns only after failures in a row) but its checkers still see some
   * fail. Undefined where the checkers' failures do not say that of the endpoint: a calculated,
   * CloudWatch-alarm, recovery-control, disabled or inverted health check. Throws when it cannot be
   * read, as `statusOf` does.
   */
  checkersFailedSince(id: string, since: number): Promise<number | undefined>;
}
