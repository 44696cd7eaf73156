/** steer53's CDK constructs: import these into your own CDK app. */
export { TrafficController, HandlerNames, BundledConfigFile, BundledConfigPath, ForwardedSources, type HandlerName } from './trafficController.js';
export {
  TrafficControllerPropsError,
  propsProblems,
  type PropsCheckOptions,
  type TrafficControllerProps,
  type DeploymentEventPublishers,
  type NotificationSubscriptions,
  type ManagedRecord,
  type EndpointHealthCheck,
  type HealthCheckMetricAlarm,
  type StaticStabilityOptions,
  type NativeDeploymentSource,
} from './trafficControllerProps.js';
export { AlarmForwarder, AlarmForwarderStack, type AlarmForwarderProps, type AlarmForwarderStackProps } from './alarmForwarder.js';
export { TrafficControllerStack, addSteer53Stacks, type TrafficControllerStackProps, type Steer53Stacks, type Steer53StacksOptions } from './steer53Stacks.js';
export { ControllerDashboard, type ControllerDashboardProps } from './controllerDashboard.js';
export { ControllerMetrics, ControllerMetricDimensions, MalformedEventsService } from './controllerMetrics.js';
export { route53Statements, normalizeRecordName, zoneRecords, Route53ConditionKeys } from './route53Permissions.js';
export { defineInfrastructure, loadInfrastructureFile, resolveAppOptions, type InfrastructureOptions } from './appOptions.js';
export { healthAlarmName } from './healthAlarm.js';
export { executionPolicy, explainPermissions, stacksFor, ResourceTypePermissions, ManagedPolicyMaxCharacters, type PolicyTarget } from './executionPolicy.js';
