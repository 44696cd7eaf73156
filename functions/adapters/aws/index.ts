/** AWS implementations of the ports. */
export { Route53Weights, normaliseDnsName, listingOrder, type Route53WeightsOptions } from './route53Weights.js';
export { Route53HealthChecks, verdictOf, HEALTHY_CHECKER_PERCENT, type Route53HealthChecksOptions } from './route53HealthChecks.js';
export { changeBatches, changeCost, ChangeTooLargeError, MAX_VALUES_PER_BATCH, MAX_VALUE_CHARACTERS_PER_BATCH } from './route53ChangeBatches.js';
export { CloudWatchMetrics, metricStatQuery, MAX_QUERIES_PER_CALL, type CloudWatchMetricsOptions } from './cloudWatchMetrics.js';
export { CloudWatchClients, type CloudWatchClientsOptions } from './cloudWatchClients.js';
export { DynamoStateStore, servicePartitionKey, auditSortKey, STATE_SORT_KEY, AUDIT_PREFIX, type DynamoStateStoreOptions } from './dynamoStateStore.js';
export { SnsNotifier, type SnsNotifierOptions } from './snsNotifier.js';
export { DynamoTickClaims, type DynamoTickClaimsOptions } from './dynamoTickClaims.js';
export { EventBridgePublisher, MAX_ENTRIES_PER_CALL, type EventBridgePublisherOptions } from './eventBridgePublisher.js';
export { BoundedRetryStrategy, Route53RetryPolicy, DEADLINE_MARGIN_MS, type RetryPolicy, type BoundedRetryStrategyOptions } from './retryStrategy.js';
export { AwsCapacityProvider, type AwsCapacityProviderOptions } from './awsCapacityProvider.js';
export { CapacityClients, type CapacityClientFactories } from './capacityClients.js';
export * from './errors.js';
