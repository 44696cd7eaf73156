/**
 * The generic capacity provider, for whatever steer53 has no adapter for (EKS with Karpenter, a
 * fleet of its own): instances in service are the newest value of a CloudWatch metric the user
 * publishes, and a request is a `Capacity Requested` event on the controller's bus for the user's
 * automation to act on. What was asked cannot be read back, so `desired` is null.
 */
import type { Config, MetricQuery } from '../../core/config.js';
import type { CapacityReading } from '../../core/types.js';
import { capacityRequestedEvent } from '../../events/controllerEvents.js';
import type { CapacityAsk, CapacityTarget } from '../../ports/capacity.js';
import type { Clock } from '../../ports/clock.js';
import type { EventPublisher } from '../../ports/eventPublisher.js';
import type { MetricsSource } from '../../ports/metrics.js';
import { CapacityProblemCodes, CapacityProviderError, type CapacityContext } from './errors.js';

type GenericProvider = { readonly kind: 'generic'; readonly inService: MetricQuery };

/** Periods of the metric read back from now: the newest complete datapoint among them is the count. */
export const GENERIC_LOOKBACK_PERIODS = 5;

/**
 * The event's `trigger` when the ask does not carry what started the evaluation: the event says it
 * came from a capacity request; its decisionId leads to the audit entry that has the rest.
 */
export const GENERIC_TRIGGER = 'capacity request';

export interface GenericCapacityOptions {
  readonly metrics: MetricsSource;
  readonly events: EventPublisher;
  readonly clock: Clock;
  /** The config's services, for the event's DNS name, record type and hosted zone. */
  readonly services: Config['services'];
}

export class GenericCapacity {
  readonly #options: GenericCapacityOptions;

  constructor(options: GenericCapacityOptions) {
    this.#options = options;
  }

  async read(target: CapacityTarget, provider: GenericProvider): Promise<CapacityReading> {
    const context = contextOf(target, provider);
    const query = { ...provider.inService, region: provider.inService.region ?? target.region };
    const endTime = this.#options.clock.now();
    const startTime = endTime - GENERIC_LOOKBACK_PERIODS * query.periodSeconds * 1000;
    const series = (await this.#options.metrics.fetchMetrics([{ key: 'inService', query, sampleCount: false }], { startTime, endTime })).get('inService');
    const newest = [...(series?.values ?? [])].sort((a, b) => b.timestamp - a.timestamp)[0];
    // A partial answer with a datapoint still tells the count; a failed one without any does not.
    if (!newest && series?.error !== undefined) throw new CapacityProviderError(CapacityProblemCodes.METRIC_UNREADABLE, context, series.error);
    if (!newest)
      throw new CapacityProviderError(
        CapacityProblemCodes.NO_DATAPOINT,
        context,
        `no datapoint in the last ${GENERIC_LOOKBACK_PERIODS} periods of ${query.periodSeconds} s: publish the instances in service to this metric`,
      );
    if (!Number.isFinite(newest.value) || newest.value < 0)
      throw new CapacityProviderError(CapacityProblemCodes.METRIC_UNREADABLE, context, `the newest value, ${newest.value}, is no count of instances`);
    // An instance half-way into service serves nothing yet: a fractional statistic counts down.
    return { inService: Math.floor(newest.value), desired: null };
  }

  /** Puts the `Capacity Requested` event on the bus; an entry the bus rejects is a failed request. */
  async request(target: CapacityTarget, provider: GenericProvider, ask: CapacityAsk): Promise<void> {
    const context = contextOf(target, provider);
    const service = this.#options.services.find((s) => s.name === target.service);
    if (!service) throw new CapacityProviderError(CapacityProblemCodes.RESOURCE_NOT_FOUND, context, 'the service is not in the config');
    const inService = ask.inService ?? (await this.read(target, provider)).inService;
    const event = capacityRequestedEvent(service, {
      at: ask.at ?? this.#options.clock.now(),
      trigger: ask.trigger ?? GENERIC_TRIGGER,
      decisionId: ask.decisionId,
      endpoint: target.endpoint,
      region: target.region,
      provider: provider.kind,
      direction: ask.direction,
      desired: ask.desired,
      inService,
      reason: ask.reason,
    });
    try {
      await this.#options.events.publish([event]);
    } catch (error) {
      throw new CapacityProviderError(CapacityProblemCodes.EVENT_NOT_PUT, context, `the Capacity Requested event was not put: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function contextOf(target: CapacityTarget, provider: GenericProvider): CapacityContext {
  const q = provider.inService;
  return {
    service: target.service,
    endpoint: target.endpoint,
    provider: provider.kind,
    resource: `metric ${q.namespace}/${q.metricName} (${q.statistic})`,
    region: q.region ?? target.region,
  };
}
