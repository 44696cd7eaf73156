/**
 * The props of the TrafficController construct and their validation. Every invalid or
 * conflicting combination is reported as one exact sentence (tests pin them), all at once, before
 * any resource is created.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Config } from '../functions/core/config.js';
import { Steer53Error } from '../functions/core/errors.js';
import { percentileOf } from '../functions/core/signals.js';
import type { NativeDeploymentSource } from './eventRouting.js';
import { nativeDeploymentSourcesOf } from './nativeDeploymentRouting.js';
import type { ApiRates } from '../functions/adapters/aws/pacing.js';

export type { NativeDeploymentSource } from './eventRouting.js';

/** Who may put steer53 deployment events on the controller's event bus. */
export interface DeploymentEventPublishers {
  /**
   * Accounts whose principals may put deployment events (their own IAM policies still decide
   * which principals). @default the controller's own account
   */
  readonly accountIds?: readonly string[];
  /**
   * IAM roles or users (ARNs) that may put deployment events. When given, every other principal,
   * including those of the controller's own account, is denied putting `steer53.deployment`
   * events, unless its account is listed in `accountIds`. Operators' roles belong here too: their
   * rollout abort and promote commands are deployment events. @default none
   */
  readonly principalArns?: readonly string[];
}

/** Where notifications go besides the SNS topic itself. */
export interface NotificationSubscriptions {
  /** Email addresses subscribed to the topic (each must confirm the subscription). @default none */
  readonly emails?: readonly string[];
  /** HTTPS endpoints subscribed to the topic (chat webhooks, incident tools). @default none */
  readonly httpsUrls?: readonly string[];
}

/**
 * A weighted record the construct creates (CloudFormation owns it). Records of the config that
 * are not listed here are adopted: they must exist, and the controller only ever UPSERTs their
 * weight, keeping values, TTL and health check.
 */
export interface ManagedRecord {
  /** The service name in the config. */
  readonly service: string;
  /** The endpoint's SetIdentifier in the config. */
  readonly setIdentifier: string;
  /** Record values (IP addresses for A/AAAA, one host name for CNAME). Give this or `aliasTarget`. @default none */
  readonly values?: readonly string[];
  /** TTL of a value record; short, so weight changes reach clients quickly. @default Duration.seconds(60) */
  readonly ttl?: Duration;
  /** Alias target (a load balancer, CloudFront, API Gateway). Give this or `values`. @default none */
  readonly aliasTarget?: {
    /** The target's DNS name. */
    readonly dnsName: string;
    /** The target's own hosted zone id (e.g. the load balancer's canonical hosted zone id). */
    readonly hostedZoneId: string;
    /** @default true */
    readonly evaluateTargetHealth?: boolean;
  };
}

/** A CloudWatch alarm the construct creates for a health check (the endpoint must be in the stack's region). */
export interface HealthCheckMetricAlarm {
  readonly namespace: string;
  readonly metricName: string;
  /** @default {} */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** A plain statistic: Route 53 health checks cannot use alarms on percentile statistics. */
  readonly statistic: 'Average' | 'Maximum' | 'Minimum' | 'Sum' | 'SampleCount' | (string & {});
  /** Unhealthy when the statistic is at or above this. */
  readonly threshold: number;
  /** @default Duration.minutes(1) */
  readonly period?: Duration;
  /** @default 3 */
  readonly evaluationPeriods?: number;
}

/**
 * A Route 53 HTTP(S) health check: checkers in several AWS regions request the endpoint every 10 or
 * 30 seconds and call it unhealthy after `failureThreshold` failures in a row. It sees a hard outage
 * in ~30 s, where a CloudWatch alarm needs its metrics (1-2 minutes late) and its evaluation periods.
 */
export interface HttpHealthCheck {
  /** The endpoint's own name (not the weighted record's): `use1.chat.example.com`. */
  readonly fqdn: string;
  /** @default '/health' */
  readonly path?: string;
  /** @default 443 for HTTPS, 80 for HTTP */
  readonly port?: number;
  /** HTTPS sends the name as SNI. @default 'HTTPS' */
  readonly protocol?: 'HTTPS' | 'HTTP';
  /** 30 seconds (Route 53's standard, what the simulator's checks use) or 10 (fast, costs more). @default 30 */
  readonly requestIntervalSeconds?: 10 | 30;
  /** Failures in a row before unhealthy (1-10). @default 3 */
  readonly failureThreshold?: number;
}

/**
 * A Route 53 health check attached to one weighted record, on a CloudWatch alarm or on HTTP(S)
 * requests: the data plane's own backstop, so hard failover happens within seconds and still
 * happens when the controller or the Route 53 control plane is down. Route 53 answers only healthy
 * records with nonzero weight, so steer53's weights steer the healthy ones (docs/runtime.md,
 * "Static stability").
 */
export interface EndpointHealthCheck {
  /** The service name in the config. */
  readonly service: string;
  /** The endpoint's SetIdentifier in the config. */
  readonly setIdentifier: string;
  /** An existing alarm (on a non-percentile statistic). Give one of this, `metricAlarm` or `http`. @default none */
  readonly alarmName?: string;
  /** Region of `alarmName`. @default the endpoint's region */
  readonly alarmRegion?: string;
  /** An alarm the construct creates. Give one of this, `alarmName` or `http`. @default none */
  readonly metricAlarm?: HealthCheckMetricAlarm;
  /** Requests to the endpoint itself. Give one of this, `alarmName` or `metricAlarm`. @default none */
  readonly http?: HttpHealthCheck;
  /**
   * What Route 53 assumes while the alarm has insufficient data. Missing data never counts as
   * healthy or unhealthy on its own. @default 'LastKnownStatus'
   */
  readonly insufficientDataHealthStatus?: 'Healthy' | 'Unhealthy' | 'LastKnownStatus';
}

export interface StaticStabilityOptions {
  /** One health check per endpoint. */
  readonly healthChecks: readonly EndpointHealthCheck[];
}

export interface TrafficControllerProps {
  /** The validated policy config (`loadConfigFile()` / `validateConfig()`): the handlers get the same one. */
  readonly config: Config;
  /**
   * Directory holding `alarm.ts`, `schedule.ts` and `deployment.ts`, each exporting `handler`.
   * @default the `functions/handlers` directory of this package
   */
  readonly handlersDir?: string;
  /** Email and HTTPS subscriptions to the notification topic. @default none */
  readonly notifications?: NotificationSubscriptions;
  /**
   * Name of this controller. Its custom event bus has this name (deployment events and forwarded
   * alarms come in on it; `Traffic Shifted`, `Shift Blocked` and `Drift Detected` go out on it),
   * and its dashboards (`<name>-<service>`) and alarms are named after it. Two controllers in one
   * account and region need two names. @default 'steer53'
   */
  readonly name?: string;
  /** Who may put deployment events on the bus. @default the controller's own account */
  readonly deploymentEventPublishers?: DeploymentEventPublishers;
  /**
   * Native deployment events to route besides those the config names: each endpoint's
   * `deploymentSources` is routed already (the deployment function maps events by the config, so
   * a source listed only here is routed but maps to no endpoint). @default none
   */
  readonly nativeDeploymentSources?: readonly NativeDeploymentSource[];
  /** Route 53 health checks on CloudWatch alarms for the managed records. @default none */
  readonly staticStability?: StaticStabilityOptions;
  /** Weighted records the construct creates; the others are adopted. @default none: every record is adopted */
  readonly managedRecords?: readonly ManagedRecord[];
  /**
   * How often the schedule evaluates every service. EventBridge schedules have one-minute
   * resolution. @default the shortest `policy.evaluationPeriodSeconds` of the config, in whole minutes, at least 1
   */
  readonly evaluationInterval?: Duration;
  /** Memory of each function; more memory is more CPU and a faster cold start. @default 512 */
  readonly memorySize?: number;
  /** Retention of the functions' logs. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What happens to the state table when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * Key for the state table. @default the AWS-managed DynamoDB key: the table is read only by the
   * controller's own roles, so a customer-managed key would add a key policy to keep right and a
   * monthly cost without narrowing who can read it
   */
  readonly tableEncryptionKey?: kms.IKey;
  /**
   * Accounts, besides the controller's own and those in the config's alarm ARNs, whose
   * AlarmForwarders may put alarm and native deployment events on the bus. @default none
   */
  readonly forwarderAccountIds?: readonly string[];
  /** Build the CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
  /** How the schedule shards its ticks and paces its AWS calls. @default sized from the config */
  readonly sharding?: ShardingProps;
}

/**
 * Sharded ticks (functions/app/shardPlan.ts): each shard of a tick is a target of the schedule's
 * rules, invoking the schedule function asynchronously with its services, so every shard is
 * evaluated in an invocation of its own. One shard is the plain scheduled event, as without
 * sharding.
 */
export interface ShardingProps {
  /**
   * Most services in a shard. @default the largest shard whose estimated time, every service read
   * and written, is within `targetSeconds` at its share of the account's API rates
   */
  readonly maxServicesPerShard?: number;
  /** What the sizing aims a shard's time at; the schedule function's timeout is 50 s. @default 20 */
  readonly targetSeconds?: number;
  /**
   * The account's API rates, as Route 53 and CloudWatch grant them (raise them here after AWS
   * raised your quotas). The shards share 80% of them; the alarm and deployment functions get 10%
   * each, for the evaluations an alarm storm or a release starts besides the ticks.
   * @default AwsApiRates (functions/adapters/aws/pacing.ts)
   */
  readonly accountApiRates?: ApiRates;
}

/** TrafficController props that cannot work; `problems` holds one sentence per problem. */
export class TrafficControllerPropsError extends Steer53Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`TrafficController props are not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TrafficControllerPropsError';
    this.problems = problems;
  }
}

const accountIdPattern = /^\d{12}$/;
const principalArnPattern = /^arn:aws[a-z-]*:(iam::\d{12}:(role|user)\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;
const ecsServiceArnPattern = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/[\w-]+\/[\w-]+$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// The name prefixes dashboards (letters, digits, - and _ only) and alarm names.
const namePattern = /^[A-Za-z][\w-]{0,63}$/;
const regionPattern = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

function endpointOf(config: Config, service: string, setIdentifier: string) {
  return config.services.find((s) => s.name === service)?.endpoints.find((e) => e.setIdentifier === setIdentifier);
}

/** Checks that a (service, setIdentifier) pair names an endpoint of the config; returns a problem sentence or undefined. */
function endpointProblem(config: Config, where: string, service: string, setIdentifier: string): string | undefined {
  const found = config.services.find((s) => s.name === service);
  if (!found) return `${where} names service "${service}", which is not in the config.`;
  if (!found.endpoints.some((e) => e.setIdentifier === setIdentifier)) {
    return `${where} names endpoint "${setIdentifier}" of service "${service}", which has no such endpoint.`;
  }
  return undefined;
}

export interface PropsCheckOptions {
  /**
   * Health-check alarms of endpoints in other regions are created there (by `addSteer53Stacks`,
   * in the forwarder stacks), so a `metricAlarm` away from the stack's region is fine. @default false
   */
  readonly remoteHealthAlarms?: boolean;
}

/**
 * Every problem with the props, each as one sentence. `stackRegion` is the region of the stack
 * the construct is in, or undefined when it is not known at synth time.
 */
export function propsProblems(props: TrafficControllerProps, stackRegion: string | undefined, options: PropsCheckOptions = {}): string[] {
  const managed = managedRecordKeys(props);
  return [
    ...notificationProblems(props),
    ...publisherProblems(props),
    ...nativeSourceProblems(props),
    ...managedRecordProblems(props),
    ...healthCheckProblems(props, managed, stackRegion, options),
    ...placementProblems(props, stackRegion),
  ];
}

function notificationProblems(props: TrafficControllerProps): string[] {
  const problems: string[] = [];
  props.notifications?.emails?.forEach((email, i) => {
    if (!emailPattern.test(email)) problems.push(`notifications.emails[${i}] "${email}" is not an email address.`);
  });
  props.notifications?.httpsUrls?.forEach((url, i) => {
    if (!/^https:\/\/[^\s/]+/.test(url)) problems.push(`notifications.httpsUrls[${i}] "${url}" must be an https:// URL (SNS delivers over TLS only here).`);
  });
  if (props.name !== undefined) {
    if (props.name === 'default') problems.push('name "default" is the account\'s default event bus; steer53 needs a custom bus of its own.');
    else if (!namePattern.test(props.name)) problems.push(`name "${props.name}" must be 1–64 letters, digits, dashes or underscores, starting with a letter.`);
  }
  return problems;
}

/** Who may put events on the bus: deployment publishers and forwarder accounts. */
function publisherProblems(props: TrafficControllerProps): string[] {
  const problems: string[] = [];
  props.deploymentEventPublishers?.accountIds?.forEach((id, i) => {
    if (!accountIdPattern.test(id)) problems.push(`deploymentEventPublishers.accountIds[${i}] "${id}" is not a 12-digit AWS account id.`);
  });
  props.deploymentEventPublishers?.principalArns?.forEach((arn, i) => {
    if (!principalArnPattern.test(arn)) problems.push(`deploymentEventPublishers.principalArns[${i}] "${arn}" is not an IAM role or user ARN.`);
  });
  props.forwarderAccountIds?.forEach((id, i) => {
    if (!accountIdPattern.test(id)) problems.push(`forwarderAccountIds[${i}] "${id}" is not a 12-digit AWS account id.`);
  });
  return problems;
}

function nativeSourceProblems(props: TrafficControllerProps): string[] {
  const problems: string[] = [];
  props.nativeDeploymentSources?.forEach((source, i) => {
    const where = `nativeDeploymentSources[${i}]`;
    const endpoint = endpointProblem(props.config, where, source.service, source.setIdentifier);
    if (endpoint) problems.push(endpoint);
    const total =
      (source.ecsServiceArns?.length ?? 0) +
      (source.codeDeployApplications?.length ?? 0) +
      (source.sageMakerEndpointNames?.length ?? 0) +
      (source.pipelineNames?.length ?? 0);
    if (total === 0) problems.push(`${where} maps no deployment source: give ecsServiceArns, codeDeployApplications, sageMakerEndpointNames or pipelineNames.`);
    source.ecsServiceArns?.forEach((arn, j) => {
      if (!ecsServiceArnPattern.test(arn))
        problems.push(`${where}.ecsServiceArns[${j}] "${arn}" is not an ECS service ARN (arn:aws:ecs:region:account:service/cluster/service).`);
    });
    if ((source.codeDeployDeploymentGroups?.length ?? 0) > 0 && (source.codeDeployApplications?.length ?? 0) === 0) {
      problems.push(`${where}.codeDeployDeploymentGroups needs codeDeployApplications (a deployment group belongs to an application).`);
    }
    if (source.region !== undefined && !regionPattern.test(source.region)) problems.push(`${where}.region "${source.region}" is not an AWS region.`);
  });
  return problems;
}

/** `service/setIdentifier` of every managed record. */
function managedRecordKeys(props: TrafficControllerProps): Set<string> {
  return new Set((props.managedRecords ?? []).map((record) => `${record.service}/${record.setIdentifier}`));
}

function managedRecordProblems(props: TrafficControllerProps): string[] {
  const problems: string[] = [];
  const managed = new Set<string>();
  props.managedRecords?.forEach((record, i) => {
    const where = `managedRecords[${i}]`;
    const endpoint = endpointProblem(props.config, where, record.service, record.setIdentifier);
    if (endpoint) problems.push(endpoint);
    const key = `${record.service}/${record.setIdentifier}`;
    if (managed.has(key)) problems.push(`${where} repeats the record of ${key}.`);
    managed.add(key);
    const hasValues = record.values !== undefined && record.values.length > 0;
    if (hasValues === (record.aliasTarget !== undefined)) problems.push(`${where} needs exactly one of values or aliasTarget.`);
    if (record.aliasTarget !== undefined && record.ttl !== undefined)
      problems.push(`${where}.ttl cannot be set with aliasTarget (an alias record takes its target's TTL).`);
    const service = props.config.services.find((s) => s.name === record.service);
    if (service?.recordType === 'CNAME' && (record.values?.length ?? 0) > 1)
      problems.push(`${where}.values holds ${record.values?.length} values, but a CNAME record holds exactly one.`);
  });
  return problems;
}

function healthCheckProblems(
  props: TrafficControllerProps,
  managed: ReadonlySet<string>,
  stackRegion: string | undefined,
  options: PropsCheckOptions,
): string[] {
  const problems: string[] = [];
  const checked = new Set<string>();
  props.staticStability?.healthChecks.forEach((check, i) => {
    const where = `staticStability.healthChecks[${i}]`;
    const endpointError = endpointProblem(props.config, where, check.service, check.setIdentifier);
    if (endpointError) problems.push(endpointError);
    const key = `${check.service}/${check.setIdentifier}`;
    if (checked.has(key)) problems.push(`${where} repeats the health check of ${key}; give one per endpoint.`);
    checked.add(key);
    const kinds = [check.alarmName, check.metricAlarm, check.http].filter((k) => k !== undefined).length;
    if (kinds !== 1) problems.push(`${where} needs exactly one of alarmName, metricAlarm or http.`);
    if (check.http !== undefined) problems.push(...httpCheckProblems(check.http, `${where}.http`));
    if (check.alarmRegion !== undefined && !regionPattern.test(check.alarmRegion))
      problems.push(`${where}.alarmRegion "${check.alarmRegion}" is not an AWS region.`);
    if (check.metricAlarm !== undefined) problems.push(...metricAlarmProblems(props.config, check, where, stackRegion, options));
    if (!managed.has(key) && endpointError === undefined) {
      problems.push(`${where} is for ${key}, whose record is adopted; health checks are attached only to managedRecords (list the record there).`);
    }
  });
  return problems;
}

const hostnamePattern = /^(?=.{1,255}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

/** An HTTP(S) health check Route 53 accepts: a host name, a path, a port, and its two intervals and thresholds. */
function httpCheckProblems(http: HttpHealthCheck, where: string): string[] {
  const problems: string[] = [];
  if (!hostnamePattern.test(http.fqdn)) problems.push(`${where}.fqdn "${http.fqdn}" is not a host name.`);
  if (http.path !== undefined && (!http.path.startsWith('/') || http.path.length > 255))
    problems.push(`${where}.path "${http.path}" must start with / and be at most 255 characters.`);
  if (http.port !== undefined && (!Number.isInteger(http.port) || http.port < 1 || http.port > 65535))
    problems.push(`${where}.port ${http.port} must be an integer from 1 to 65535.`);
  if (http.protocol !== undefined && http.protocol !== 'HTTPS' && http.protocol !== 'HTTP')
    problems.push(`${where}.protocol "${http.protocol}" must be HTTPS or HTTP.`);
  if (http.requestIntervalSeconds !== undefined && http.requestIntervalSeconds !== 10 && http.requestIntervalSeconds !== 30)
    problems.push(`${where}.requestIntervalSeconds ${http.requestIntervalSeconds} must be 10 or 30 (Route 53's two intervals).`);
  const threshold = http.failureThreshold;
  if (threshold !== undefined && (!Number.isInteger(threshold) || threshold < 1 || threshold > 10))
    problems.push(`${where}.failureThreshold ${threshold} must be an integer from 1 to 10.`);
  return problems;
}

/** A health check's own alarm: a statistic Route 53 can use, in the region of the stack that creates it. */
function metricAlarmProblems(config: Config, check: EndpointHealthCheck, where: string, stackRegion: string | undefined, options: PropsCheckOptions): string[] {
  const problems: string[] = [];
  const statistic = check.metricAlarm!.statistic;
  if (percentileOf(statistic) !== undefined) {
    problems.push(
      `${where}.metricAlarm.statistic "${statistic}" is a percentile; Route 53 health checks cannot use alarms on percentile statistics (use Average, Maximum, Minimum, Sum or SampleCount).`,
    );
  } else if (!['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount'].includes(statistic)) {
    problems.push(`${where}.metricAlarm.statistic "${statistic}" must be one of Average, Maximum, Minimum, Sum or SampleCount.`);
  }
  const endpoint = endpointOf(config, check.service, check.setIdentifier);
  if (endpoint && stackRegion !== undefined && endpoint.region !== stackRegion && !options.remoteHealthAlarms) {
    const key = `${check.service}/${check.setIdentifier}`;
    problems.push(
      `${where}.metricAlarm would create the alarm in ${stackRegion}, but endpoint ${key} is in ${endpoint.region}; create the alarm in ${endpoint.region} and give its alarmName.`,
    );
  }
  return problems;
}

/** Where and how often the controller runs, and its functions' size. */
function placementProblems(props: TrafficControllerProps, stackRegion: string | undefined): string[] {
  const problems: string[] = [];
  const { config } = props;
  const hasAlarms = config.services.some((s) => s.endpoints.some((e) => e.signals.some((signal) => signal.source === 'alarm')));
  if (stackRegion === undefined && (hasAlarms || nativeDeploymentSourcesOf(config, props.nativeDeploymentSources).length > 0)) {
    problems.push(
      "The stack needs an explicit region (env.region): alarm and deployment events are published in their own region, and routing them depends on whether that is the controller's.",
    );
  }
  if (props.evaluationInterval !== undefined) {
    const seconds = props.evaluationInterval.toSeconds({ integral: false });
    if (seconds < 60 || seconds % 60 !== 0) {
      problems.push('evaluationInterval must be a whole number of minutes, at least 1 (EventBridge schedules have one-minute resolution).');
    }
  }
  if (props.memorySize !== undefined && !(Number.isInteger(props.memorySize) && props.memorySize >= 128 && props.memorySize <= 10240)) {
    problems.push(`memorySize ${props.memorySize} must be a whole number of MB from 128 to 10240.`);
  }
  const sharding = props.sharding;
  if (sharding?.maxServicesPerShard !== undefined && !(Number.isInteger(sharding.maxServicesPerShard) && sharding.maxServicesPerShard >= 1)) {
    problems.push(`sharding.maxServicesPerShard ${sharding.maxServicesPerShard} must be a whole number of services, at least 1.`);
  }
  if (sharding?.targetSeconds !== undefined && !(sharding.targetSeconds >= 1 && sharding.targetSeconds <= 45)) {
    problems.push(`sharding.targetSeconds ${sharding.targetSeconds} must be from 1 to 45 (the schedule function stops at 50 s).`);
  }
  return problems;
}

/** Throws `TrafficControllerPropsError` listing every problem, or returns quietly. */
export function validateProps(props: TrafficControllerProps, stackRegion: string | undefined, options: PropsCheckOptions = {}): void {
  const problems = propsProblems(props, stackRegion, options);
  if (problems.length > 0) throw new TrafficControllerPropsError(problems);
}
