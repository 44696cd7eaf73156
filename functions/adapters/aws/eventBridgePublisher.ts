/**
 * EventBridge adapter of the event publisher port: `source: "steer53"` events whose detail is
 * checked against the documented schema (functions/events/controllerEvents.ts) before sending.
 */
import { PutEventsCommand, type PutEventsCommandOutput, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CONTROLLER_EVENT_SOURCE, controllerDetailSchemas, type ControllerEvent } from '../../events/controllerEvents.js';
import type { EventPublisher } from '../../ports/eventPublisher.js';
import { AwsCallError, EventPublishError, isTransientAwsError } from './errors.js';

/** PutEvents takes at most 10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  /** @default 'default' */
  readonly eventBusName?: string;
}

export class EventBridgePublisher implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #bus: string;

  constructor(options: EventBridgePublisherOptions) {
    this.#client = options.client;
    this.#bus = options.eventBusName ?? 'default';
  }

  async publish(events: readonly ControllerEvent[]): Promise<void> {
    const entries: PutEventsRequestEntry[] = events.map((event) => {
      // A detail that does not match its documented schema is a bug here, not something to send.
      const detail = controllerDetailSchemas[event.detailType].parse(event.detail);
      return {
        Source: CONTROLLER_EVENT_SOURCE,
        DetailType: event.detailType,
        Detail: JSON.stringify(detail),
        EventBusName: this.#bus,
        Time: new Date(detail.at),
      };
    });
    const failures: EventPublishError['failures'][number][] = [];
    for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_CALL) {
      const slice = entries.slice(i, i + MAX_ENTRIES_PER_CALL);
      let response: PutEventsCommandOutput;
      try {
        response = await this.#client.send(new PutEventsCommand({ Entries: slice }));
      } catch (error) {
        throw new AwsCallError({ operation: 'events:PutEvents', target: `event bus ${this.#bus}` }, error, isTransientAwsError(error));
      }
      (response.Entries ?? []).forEach((result, j) => {
        if (result.ErrorCode) failures.push({ detailType: slice[j]?.DetailType ?? '?', errorCode: result.ErrorCode, errorMessage: result.ErrorMessage ?? '' });
      });
    }
    if (failures.length > 0) throw new EventPublishError(this.#bus, failures);
  }
}
