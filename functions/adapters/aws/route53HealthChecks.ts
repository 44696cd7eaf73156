/**
 * Route 53 adapter of the health check status port: one GetHealthCheckStatus per read,
 * through the Route 53 client the weights use, so the calls are paced and retried with them
 * (Route 53 throttles per account, every operation together: pacing.ts). The use case asks only
 * for the few endpoints drained for failing or just restored, so these calls are rare; AWS
 * describes GetHealthCheckStatus as meant for diagnosis, not for high query rates.
 *
 * Route 53's own verdict is not in the answer: each checker's is. Route 53 calls an endpoint
 * healthy when more than 18% of its checkers report it healthy ("How Amazon Route 53 determines
 * whether a health check is healthy", Route 53 developer guide), and so does this adapter.
 */
import { GetHealthCheckStatusCommand, type HealthCheckObservation, type Route53Client } from '@aws-sdk/client-route-53';
import type { HealthCheckState, HealthCheckStatus } from '../../ports/healthChecks.js';
import { AwsCallError, Route53RetriesExhaustedError } from './errors.js';
import { attemptsOf, isRoute53Retryable } from './route53Weights.js';

/** Route 53 considers an endpoint healthy when more than this percentage of its health checkers report it healthy. */
export const HEALTHY_CHECKER_PERCENT = 18;

export interface Route53HealthChecksOptions {
  /** The Route 53 client, paced and retried as the weights' one is (the same client, in the runtime). */
  readonly client: Route53Client;
}

export class Route53HealthChecks implements HealthCheckStatus {
  readonly #client: Route53Client;

  constructor(options: Route53HealthChecksOptions) {
    this.#client = options.client;
  }

  async statusOf(id: string): Promise<HealthCheckState | undefined> {
    return verdictOf(await this.#observations(id));
  }

  async #observations(id: string): Promise<readonly HealthCheckObservation[]> {
    const context = { operation: 'route53:GetHealthCheckStatus', target: `health check ${id}` };
    try {
      const answer = await this.#client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));
      return answer.HealthCheckObservations ?? [];
    } catch (error) {
      if (isRoute53Retryable(error)) throw new Route53RetriesExhaustedError(context, error, attemptsOf(error));
      throw new AwsCallError(context, error, false);
    }
  }
}

/**
 * Route 53's verdict from its checkers' reports: healthy when more than 18% say healthy. A
 * checker's report is a sentence (`Success: HTTP Status Code 200, OK`, `Failure: Connection
 * timed out…`); its prefix is the only per-checker status the API gives, so that is what is read.
 * No report at all (a check just created, or one no checker reaches yet) is no verdict: undefined,
 * and the engine treats the check as unread rather than as healthy or failing.
 */
export function verdictOf(observations: readonly HealthCheckObservation[]): HealthCheckState | undefined {
  if (observations.length === 0) return undefined;
  const healthy = observations.filter((o) => o.StatusReport?.Status?.startsWith('Success') === true).length;
  // In whole numbers: 18% of 100 checkers must not become 17.999… in floating point.
  return healthy * 100 > observations.length * HEALTHY_CHECKER_PERCENT ? 'healthy' : 'unhealthy';
}
