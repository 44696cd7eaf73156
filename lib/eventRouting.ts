/**
 * Which events reach the controller, as plain data: the alarm names the config watches, grouped
 * by where the alarm lives (an alarm state change is only published on the default bus of its own
 * account and region), and the event patterns of the native deployment events mapped to
 * endpoints. The constructs turn these into rules; tests read them directly.
 */
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { publisherAccountsOf } from '../functions/app/eventChecks.js';
import type { Config } from '../functions/core/config.js';
import { DEPLOYMENT_EVENT_SOURCE, DeploymentDetailTypes as DeploymentDetailTypeNames } from '../functions/events/deploymentEvent.js';

/** Where an alarm's state changes are published: its account (when known) and region. */
export interface AlarmLocation {
  /** The account from the alarm ARN; undefined when the config names the alarm only. */
  readonly account: string | undefined;
  readonly region: string;
}

export interface AlarmGroup extends AlarmLocation {
  /** Alarm names, sorted and without duplicates. */
  readonly alarmNames: readonly string[];
}

/** The name of a configured alarm signal: `alarm.name`, else the name at the end of `alarm.arn`. */
export function alarmNameOf(alarm: { name?: string | undefined; arn?: string | undefined }): string {
  if (alarm.name !== undefined) return alarm.name;
  // arn:aws:cloudwatch:region:account:alarm:name — the name itself may contain colons.
  const arn = alarm.arn ?? '';
  return arn.split(':').slice(6).join(':');
}

function accountOfAlarmArn(arn: string | undefined): string | undefined {
  return arn === undefined ? undefined : arn.split(':')[4];
}

function regionOfAlarmArn(arn: string | undefined): string | undefined {
  return arn === undefined ? undefined : arn.split(':')[3];
}

/** Every alarm signal of the config, grouped by account and region. */
export function alarmGroups(config: Config): AlarmGroup[] {
  const groups = new Map<string, { account: string | undefined; region: string; names: Set<string> }>();
  for (const service of config.services) {
    for (const endpoint of service.endpoints) {
      for (const signal of endpoint.signals) {
        if (signal.source !== 'alarm') continue;
        const account = accountOfAlarmArn(signal.alarm.arn);
        const region = regionOfAlarmArn(signal.alarm.arn) ?? signal.alarm.region ?? endpoint.region;
        const key = `${account ?? ''}|${region}`;
        const group = groups.get(key) ?? { account, region, names: new Set<string>() };
        group.names.add(alarmNameOf(signal.alarm));
        groups.set(key, group);
      }
    }
  }
  return [...groups.values()]
    .map((group) => ({ account: group.account, region: group.region, alarmNames: [...group.names].sort() }))
    .sort((a, b) => `${a.account ?? ''}|${a.region}`.localeCompare(`${b.account ?? ''}|${b.region}`));
}

/**
 * Whether an alarm's events reach the controller's own default bus. An alarm without an account
 * in its ARN is taken to live in the controller's account; when the controller's account is not
 * known at synth time (an environment-agnostic stack), an ARN account counts as local too.
 */
export function isLocal(location: AlarmLocation, controller: { account: string | undefined; region: string }): boolean {
  const sameAccount = location.account === undefined || controller.account === undefined || location.account === controller.account;
  return sameAccount && location.region === controller.region;
}

/**
 * EventBridge limits an event pattern's size (2048 characters by default, an adjustable quota),
 * so a long list of alarm names is split over several rules, leaving room for the rest of the
 * pattern.
 */
export function chunkNames(names: readonly string[], maxChars = 1500): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const name of names) {
    const cost = JSON.stringify(name).length + 1;
    if (current.length > 0 && size + cost > maxChars) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(name);
    size += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// steer53 and native deployment events

/** The source and detail types of steer53's own deployment events (one source of truth: functions/events/deploymentEvent.ts). */
export const DeploymentEventSource = DEPLOYMENT_EVENT_SOURCE;
export const DeploymentDetailTypes: readonly string[] = Object.values(DeploymentDetailTypeNames);

/** The source of the events the controller publishes (`Traffic Shifted`, `Shift Blocked`, `Drift Detected`). */
export const ControllerEventSource = 'steer53';

/** The AWS services whose native deployment events the controller can follow. */
export const NativeDeploymentEvents = {
  ecs: { source: 'aws.ecs', detailType: 'ECS Deployment State Change' },
  codeDeploy: { source: 'aws.codedeploy', detailType: 'CodeDeploy Deployment State-change Notification' },
  sageMaker: { source: 'aws.sagemaker', detailType: 'SageMaker Endpoint Deployment State Change' },
  codePipeline: { source: 'aws.codepipeline', detailType: 'CodePipeline Pipeline Execution State Change' },
} as const;

/**
 * Maps native deployment events to one endpoint of one service: a deployment of any of these
 * moves that endpoint's traffic per the service's rollout policy.
 */
export interface NativeDeploymentSource {
  /** The service name in the config. */
  readonly service: string;
  /** The endpoint's SetIdentifier in the config. */
  readonly setIdentifier: string;
  /**
   * ECS services whose deployments (ECS Deployment State Change) are deployments of this endpoint.
   * @default none
   */
  readonly ecsServiceArns?: readonly string[];
  /**
   * CodeDeploy applications (CodeDeploy Deployment State-change Notification); with
   * `codeDeployDeploymentGroups` only those groups count. @default none
   */
  readonly codeDeployApplications?: readonly string[];
  /** Narrows `codeDeployApplications` to these deployment groups. @default every group of the applications */
  readonly codeDeployDeploymentGroups?: readonly string[];
  /** SageMaker endpoint names (SageMaker Endpoint Deployment State Change). @default none */
  readonly sageMakerEndpointNames?: readonly string[];
  /** CodePipeline pipeline names (CodePipeline Pipeline Execution State Change). @default none */
  readonly pipelineNames?: readonly string[];
  /**
   * Region the deployment events are published in (the region of the ECS service, SageMaker
   * endpoint, CodeDeploy application or pipeline). Events from another region than the
   * controller's reach it through that region's AlarmForwarder. @default the endpoint's region
   */
  readonly region?: string;
}

/** An EventBridge event pattern, as plain JSON. */
export type EventPatternJson = Record<string, unknown>;

/** A plain JSON pattern (EventBridge spelling, `detail-type`) as the CDK's EventPattern (`detailType`). */
export function toEventPattern(pattern: EventPatternJson): EventPattern {
  const { 'detail-type': detailType, ...rest } = pattern;
  return { ...(rest as EventPattern), ...(detailType ? { detailType: detailType as string[] } : {}) };
}

function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** The event patterns for a set of native deployment sources (one per AWS service that has entries). */
export function nativeDeploymentPatterns(sources: readonly NativeDeploymentSource[]): EventPatternJson[] {
  const patterns: EventPatternJson[] = [];
  const ecs = uniqueSorted(sources.flatMap((s) => s.ecsServiceArns ?? []));
  if (ecs.length > 0) {
    patterns.push({ source: [NativeDeploymentEvents.ecs.source], 'detail-type': [NativeDeploymentEvents.ecs.detailType], resources: ecs });
  }
  // A deployment-group filter applies to its own mapping only, so CodeDeploy gets one pattern per
  // mapping with groups and one shared pattern for whole applications.
  const wholeApplications = uniqueSorted(
    sources.filter((s) => (s.codeDeployDeploymentGroups ?? []).length === 0).flatMap((s) => s.codeDeployApplications ?? []),
  );
  if (wholeApplications.length > 0) {
    patterns.push({
      source: [NativeDeploymentEvents.codeDeploy.source],
      'detail-type': [NativeDeploymentEvents.codeDeploy.detailType],
      detail: { application: wholeApplications },
    });
  }
  for (const source of sources) {
    const groups = source.codeDeployDeploymentGroups ?? [];
    const applications = source.codeDeployApplications ?? [];
    if (groups.length === 0 || applications.length === 0) continue;
    patterns.push({
      source: [NativeDeploymentEvents.codeDeploy.source],
      'detail-type': [NativeDeploymentEvents.codeDeploy.detailType],
      detail: { application: uniqueSorted(applications), deploymentGroup: uniqueSorted(groups) },
    });
  }
  const sageMaker = uniqueSorted(sources.flatMap((s) => s.sageMakerEndpointNames ?? []));
  if (sageMaker.length > 0) {
    patterns.push({
      source: [NativeDeploymentEvents.sageMaker.source],
      'detail-type': [NativeDeploymentEvents.sageMaker.detailType],
      detail: { EndpointName: sageMaker },
    });
  }
  const pipelines = uniqueSorted(sources.flatMap((s) => s.pipelineNames ?? []));
  if (pipelines.length > 0) {
    patterns.push({
      source: [NativeDeploymentEvents.codePipeline.source],
      'detail-type': [NativeDeploymentEvents.codePipeline.detailType],
      detail: { pipeline: pipelines },
    });
  }
  return patterns;
}

/**
 * A pattern that matches only events from these accounts. EventBridge sets an event's `account`
 * (the account of the alarm, of the deployed resource, or of the caller of PutEvents), so an event
 * put on the bus from anywhere else never reaches a handler; the handlers check it again per signal
 * and per service (functions/app/eventChecks.ts).
 */
export function fromAccounts(pattern: EventPatternJson, accounts: readonly string[]): EventPatternJson {
  return { ...pattern, account: [...new Set(accounts)] };
}

/** Accounts whose deployment events may act on some service: each service's `deploymentPublishers.accounts`, sorted. */
export function deploymentPublisherAccounts(config: Config): string[] {
  return uniqueSorted(config.services.flatMap((s) => s.deploymentPublishers.accounts));
}

/**
 * Accounts whose deployment events a rule lets through: each service's `deploymentPublishers`
 * accounts and its principals' accounts (the handler checks each service's own), sorted.
 */
export function deploymentSenderAccounts(config: Config): string[] {
  return uniqueSorted(config.services.flatMap(publisherAccountsOf));
}

/** Accounts named by the ECS service ARNs of native deployment sources, sorted. */
export function nativeSourceAccounts(sources: readonly NativeDeploymentSource[]): string[] {
  return uniqueSorted(sources.flatMap((s) => (s.ecsServiceArns ?? []).map((arn) => arn.split(':')[4] ?? '')).filter((a) => a !== ''));
}

/** The alarm state change pattern for a list of alarm names. */
export function alarmPattern(alarmNames: readonly string[]): EventPatternJson {
  return { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [...alarmNames] } };
}

/** The region of a native deployment source: its own, else its endpoint's. */
export function regionOfSource(source: NativeDeploymentSource, config: Config): string | undefined {
  if (source.region !== undefined) return source.region;
  const service = config.services.find((s) => s.name === source.service);
  return service?.endpoints.find((e) => e.setIdentifier === source.setIdentifier)?.region;
}
