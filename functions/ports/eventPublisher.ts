/** Port: the controller's own events (`source: "steer53"`), so other systems can react. */
import type { ControllerEvent } from '../events/controllerEvents.js';

export interface EventPublisher {
  publish(events: readonly ControllerEvent[]): Promise<void>;
}
