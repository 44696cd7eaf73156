/** In-memory implementations of every port, for the simulator and the tests. */
export { InMemoryDnsWeights, type DnsChangeLogEntry } from './memoryDnsWeights.js';
export { InMemoryMetrics, metricIdentity, type FedObservation } from './memoryMetrics.js';
export { InMemoryStateStore } from './memoryStateStore.js';
export { ManualClock } from './manualClock.js';
export { CollectingNotifier } from './collectingNotifier.js';
export { CollectingEventPublisher } from './collectingEventPublisher.js';
export { InMemoryTickClaims } from './memoryTickClaims.js';
export { InMemoryCapacity, type CapacityLogEntry } from './memoryCapacity.js';
export { InMemoryHealthChecks } from './memoryHealthChecks.js';
