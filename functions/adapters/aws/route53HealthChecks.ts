/**
 * Route 53 adapter of the health check status port. A read starts from the health check's
 * configuration (GetHealthCheck: its type, `Inverted`, `Disabled`, and a calculated check's
 * children and `HealthThreshold`), and then says what Route 53 says of it:
 *  - a disabled health check is healthy, or unhealthy when it is also inverted, as Route 53
 *    considers it; its status is not read;
 *  - a calculated one is healthy when at least `HealthThreshold` of its children are (0: always;
 *    more than it has children: never). Route 53 refuses GetHealthCheckStatus on it, so each child
 *    is read by these same rules, nested calculated ones included (at most MAX_CALCULATED_DEPTH
 *    deep, and never in a cycle);
 *  - any other (an endpoint's, a CloudWatch alarm's, a recovery control's): one
 *    GetHealthCheckStatus, and Route 53's verdict from its checkers' reports (`verdictOf`).
 * An inverted health check's verdict is then swapped, healthy for unhealthy, as Route 53 does.
 *
 * The checkers' recent failures (`checkersFailedSince`) are read from an endpoint's health check
 * only (HTTP, HTTPS, TCP, with or without string matching), not inverted and not disabled: one
 * GetHealthCheckLastFailureReason, each checker's last failure with its time. Of any other, the
 * checkers' failures do not say the endpoint failed a request, and nothing is read.
 *
 * Every call goes through the Route 53 client the weights use, so the calls are paced and retried
 * with them (Route 53 throttles per account, every operation together: pacing.ts). The use case
 * asks only for the few endpoints drained for failing or just restored, so these calls are rare;
 * AWS describes GetHealthCheckStatus as meant for diagnosis, not for high query rates. Route 53
 * takes 10 requests a second per account, the weight writes included, and a configuration rarely
 * changes, so each adapter (one per Lambda instance in the runtime) keeps the configurations it
 * read for CONFIG_TTL_MS: a health check read again (the next evaluation, a child of two
 * calculated checks, or a record's own check that is also a child) costs one status read only, and
 * a change to a configuration is seen within that time.
 *
 * Route 53's own verdict is not in GetHealthCheckStatus's answer: each checker's is. Route 53
 * calls an endpoint healthy when more than 18% of its checkers report it healthy ("How Amazon
 * Route 53 determines whether a health check is healthy", Route 53 developer guide), and so does
 * this adapter. Two assumptions, not verified against AWS: the checkers report what they observe
 * of the endpoint, before any inversion (so the adapter inverts their verdict, not their reports),
 * and the 18% rule also holds for the reports on a CLOUDWATCH_METRIC health check.
 */
import {
  GetHealthCheckCommand,
  GetHealthCheckLastFailureReasonCommand,
  GetHealthCheckStatusCommand,
  type HealthCheckConfig,
  type HealthCheckObservation,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { Steer53Error } from '../../core/errors.js';
import type { HealthCheckState, HealthCheckStatus } from '../../ports/healthChecks.js';
import { AwsCallError, Route53RetriesExhaustedError } from './errors.js';
import { attemptsOf, isRoute53Retryable } from './route53Weights.js';

/** Route 53 considers an endpoint healthy when more than this percentage of its health checkers report it healthy. */
export const HEALTHY_CHECKER_PERCENT = 18;

/** How long a health check's configuration read with GetHealthCheck is used before it is read again. */
export const CONFIG_TTL_MS = 5 * 60_000;

/** How many calculated health checks may nest, the record's own included, before a read gives up. */
export const MAX_CALCULATED_DEPTH = 3;

/** The health check types whose checkers make a request to the endpoint: their failures are the endpoint's. */
export const ENDPOINT_CHECK_TYPES: ReadonlySet<string> = new Set(['HTTP', 'HTTPS', 'HTTP_STR_MATCH', 'HTTPS_STR_MATCH', 'TCP']);

/** What of a health check's configuration its verdict depends on. */
export type HealthCheckRules = Pick<HealthCheckConfig, 'Type' | 'Inverted' | 'Disabled' | 'ChildHealthChecks' | 'HealthThreshold'>;

export interface Route53HealthChecksOptions {
  /** The Route 53 client, paced and retried as the weights' one is (the same client, in the runtime). */
  readonly client: Route53Client;
  /** The clock the configurations kept expire by, in epoch milliseconds; `Date.now` unless given. */
  readonly now?: () => number;
}

export class Route53HealthChecks implements HealthCheckStatus {
  readonly #client: Route53Client;
  readonly #now: () => number;
  readonly #configs = new Map<string, { readonly until: number; readonly rules: Promise<HealthCheckRules> }>();

  constructor(options: Route53HealthChecksOptions) {
    this.#client = options.client;
    this.#now = options.now ?? Date.now;
  }

  statusOf(id: string): Promise<HealthCheckState | undefined> {
    return this.#statusOf(id, []);
  }

  async checkersFailedSince(id: string, since: number): Promise<number | undefined> {
    const rules = await this.#rules(id, []);
    if (rules.Disabled === true || rules.Inverted === true || !ENDPOINT_CHECK_TYPES.has(rules.Type ?? '')) return undefined;
    const answer = await this.#call('route53:GetHealthCheckLastFailureReason', id, [], () =>
      this.#client.send(new GetHealthCheckLastFailureReasonCommand({ HealthCheckId: id })),
    );
    return failedSince(answer.HealthCheckObservations ?? [], since);
  }

  /** One health check's verdict; `parents` are the calculated ones it is read for, outermost first. */
  async #statusOf(id: string, parents: readonly string[]): Promise<HealthCheckState | undefined> {
    const rules = await this.#rules(id, parents);
    if (rules.Disabled === true) return rules.Inverted === true ? 'unhealthy' : 'healthy';
    const verdict = rules.Type === 'CALCULATED' ? await this.#calculated(id, rules, parents) : verdictOf(await this.#observations(id, parents));
    return rules.Inverted === true ? invert(verdict) : verdict;
  }

  /** A calculated health check's verdict from its children's, read only when the threshold alone does not decide. */
  async #calculated(id: string, rules: HealthCheckRules, parents: readonly string[]): Promise<HealthCheckState | undefined> {
    // Without a threshold no verdict can come of the children: none is read.
    if (rules.HealthThreshold === undefined) return undefined;
    const path = [...parents, id];
    const children = rules.ChildHealthChecks ?? [];
    // With every child unknown, a verdict means the threshold decides alone (0, or more than there are children).
    const alone = calculatedVerdictOf(rules, new Array<undefined>(children.length).fill(undefined));
    if (alone !== undefined) return alone;
    if (path.length > MAX_CALCULATED_DEPTH) {
      throw new Steer53Error(`calculated health checks nest more than ${MAX_CALCULATED_DEPTH} deep: ${path.join(' > ')}`);
    }
    const cycle = children.find((child) => path.includes(child));
    if (cycle !== undefined) throw new Steer53Error(`calculated health checks include each other: ${[...path, cycle].join(' > ')}`);
    return calculatedVerdictOf(rules, await Promise.all(children.map((child) => this.#statusOf(child, path))));
  }

  /** The health check's configuration, as kept from a read less than CONFIG_TTL_MS ago, or read now. */
  #rules(id: string, parents: readonly string[]): Promise<HealthCheckRules> {
    const now = this.#now();
    const kept = this.#configs.get(id);
    if (kept && now < kept.until) return kept.rules;
    const rules = this.#readRules(id, parents);
    this.#configs.set(id, { until: now + CONFIG_TTL_MS, rules });
    // A read that failed is not kept: the next one asks Route 53 again.
    void rules.catch(() => this.#configs.get(id)?.rules === rules && this.#configs.delete(id));
    return rules;
  }

  async #readRules(id: string, parents: readonly string[]): Promise<HealthCheckRules> {
    const answer = await this.#call('route53:GetHealthCheck', id, parents, () => this.#client.send(new GetHealthCheckCommand({ HealthCheckId: id })));
    // Route 53 always answers with the configuration; without one, the check is read as an endpoint's.
    return answer.HealthCheck?.HealthCheckConfig ?? { Type: undefined };
  }

  async #observations(id: string, parents: readonly string[]): Promise<readonly HealthCheckObservation[]> {
    const answer = await this.#call('route53:GetHealthCheckStatus', id, parents, () =>
      this.#client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id })),
    );
    return answer.HealthCheckObservations ?? [];
  }

  /** One Route 53 call on a health check, its errors translated and naming the calculated checks it was read for. */
  async #call<T>(operation: string, id: string, parents: readonly string[], send: () => Promise<T>): Promise<T> {
    const within = parents.length === 0 ? '' : ` (child of ${parents.toReversed().join(', child of ')})`;
    const context = { operation, target: `health check ${id}${within}` };
    try {
      return await send();
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
 * No verdict (undefined: the engine treats the check as unread rather than as healthy or failing)
 * when no report says either `Success` or `Failure`: no report at all (a check just created, or
 * one no checker reaches yet), or only reports such as `Unknown` or `InsufficientDataPoints`.
 * Otherwise every report counts, as in Route 53's rule: one that is not a success is not healthy.
 */
export function verdictOf(observations: readonly HealthCheckObservation[]): HealthCheckState | undefined {
  const says = (prefix: string) => observations.filter((o) => o.StatusReport?.Status?.startsWith(prefix) === true).length;
  const healthy = says('Success');
  if (healthy + says('Failure') === 0) return undefined;
  // In whole numbers: 18% of 100 checkers must not become 17.999… in floating point.
  return healthy * 100 > observations.length * HEALTHY_CHECKER_PERCENT ? 'healthy' : 'unhealthy';
}

/**
 * How many checkers' last failure (GetHealthCheckLastFailureReason: a `Failure: …` report and the
 * time of the failed check) is at or after `since`, in epoch milliseconds. A report without a time,
 * or not a failure, counts for nothing.
 */
export function failedSince(observations: readonly HealthCheckObservation[], since: number): number {
  return observations.filter((o) => {
    const at = o.StatusReport?.CheckedTime;
    return o.StatusReport?.Status?.startsWith('Failure') === true && at instanceof Date && at.getTime() >= since;
  }).length;
}

/**
 * A calculated health check's verdict, before any inversion, from its children's (one per child):
 * healthy when at least `HealthThreshold` of them are healthy. A child without a verdict may be
 * either, so the verdict is given only when it holds whatever those children turn out to be:
 * healthy when the healthy ones reach the threshold already, unhealthy when even all the unknown
 * ones could not make them reach it, undefined otherwise. A threshold of 0 is always healthy, one
 * above the number of children never (as Route 53 documents both); without a threshold, undefined.
 */
export function calculatedVerdictOf(
  rules: Pick<HealthCheckRules, 'HealthThreshold'>,
  children: readonly (HealthCheckState | undefined)[],
): HealthCheckState | undefined {
  const threshold = rules.HealthThreshold;
  if (threshold === undefined) return undefined;
  const healthy = children.filter((child) => child === 'healthy').length;
  const unknown = children.filter((child) => child === undefined).length;
  if (healthy >= threshold) return 'healthy';
  return healthy + unknown < threshold ? 'unhealthy' : undefined;
}

/** An inverted health check's verdict: healthy and unhealthy swapped; no verdict stays none. */
function invert(verdict: HealthCheckState | undefined): HealthCheckState | undefined {
  if (verdict === undefined) return undefined;
  return verdict === 'healthy' ? 'unhealthy' : 'healthy';
}
