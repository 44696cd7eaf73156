/**
 * The stacks of a steer53 deployment: the controller stack in its home region, and one small
 * AlarmForwarderStack per other region (and account) whose alarms or native deployment events the
 * config needs. `addSteer53Stacks` is what bin/app.ts runs; tests run it too.
 */
import { Aws, Stack, type App, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Config } from '../functions/core/config.js';
import { Steer53Error } from '../functions/core/errors.js';
import { AlarmForwarderStack, type ForwarderHealthAlarm } from './alarmForwarder.js';
import { healthAlarmName } from './healthAlarm.js';
import { alarmGroups, isLocal, regionOfSource, type NativeDeploymentSource } from './eventRouting.js';
import { nativeDeploymentSourcesOf } from './nativeDeploymentRouting.js';
import { TrafficController } from './trafficController.js';
import { validateProps, type EndpointHealthCheck, type TrafficControllerProps } from './trafficControllerProps.js';

export interface TrafficControllerStackProps extends StackProps {
  readonly controller: TrafficControllerProps;
}

/** A stack holding one TrafficController. */
export class TrafficControllerStack extends Stack {
  readonly controller: TrafficController;
  constructor(scope: Construct, id: string, props: TrafficControllerStackProps) {
    super(scope, id, props);
    this.controller = new TrafficController(this, 'Controller', props.controller);
  }
}

export interface Steer53StacksOptions extends Omit<TrafficControllerProps, 'config'> {
  readonly config: Config;
  /** The controller's region. */
  readonly region: string;
  /** The controller's account. @default unknown at synth time (environment-agnostic): the deploying account */
  readonly account?: string;
  /** Name of the controller stack; forwarder stacks are named `<stackName>-forwarder-<region>[-<account>]`. @default 'Steer53' */
  readonly stackName?: string;
}

export interface Steer53Stacks {
  readonly controller: TrafficControllerStack;
  readonly forwarders: readonly AlarmForwarderStack[];
}

/** Adds the controller stack and the forwarder stacks the config needs to an app. */
export function addSteer53Stacks(app: App, options: Steer53StacksOptions): Steer53Stacks {
  const { config, region, account, stackName = 'Steer53', ...controllerOptions } = options;
  const name = controllerOptions.name ?? 'steer53';
  // Validate the props as given, before remote health-check alarms move to the forwarders below.
  validateProps({ ...controllerOptions, config }, region, { remoteHealthAlarms: true });

  // Group what must happen in other regions by (account, region): alarms and native deployment
  // events to forward, and health-check alarms to create next to their endpoints.
  const here = { account, region };
  const remote = new Map<
    string,
    { account: string | undefined; region: string; alarmNames: string[]; sources: NativeDeploymentSource[]; healthAlarms: ForwarderHealthAlarm[] }
  >();
  const entry = (acct: string | undefined, rgn: string) => {
    const key = `${rgn}|${acct ?? ''}`;
    const found = remote.get(key) ?? { account: acct, region: rgn, alarmNames: [], sources: [], healthAlarms: [] };
    remote.set(key, found);
    return found;
  };

  // A health check's alarm must exist in the endpoint's region; a stack creates alarms only in
  // its own, so the alarm of a remote endpoint is made by that region's forwarder (same account:
  // Route 53 reads alarms of its own account) and the controller's health check names it.
  const healthChecks = (controllerOptions.staticStability?.healthChecks ?? []).map((check): EndpointHealthCheck => {
    const endpointRegion = config.services.find((s) => s.name === check.service)?.endpoints.find((e) => e.setIdentifier === check.setIdentifier)?.region;
    if (!check.metricAlarm || check.alarmName !== undefined || endpointRegion === undefined || endpointRegion === region) return check;
    const alarmName = healthAlarmName(name, check.service, check.setIdentifier);
    entry(undefined, endpointRegion).healthAlarms.push({ alarmName, endpoint: `${check.service}/${check.setIdentifier}`, metric: check.metricAlarm });
    const { metricAlarm: _created, ...rest } = check;
    return { ...rest, alarmName, alarmRegion: endpointRegion };
  });

  const controller = new TrafficControllerStack(app, stackName, {
    env: { region, ...(account ? { account } : {}) },
    description: `steer53 traffic controller (${config.services.map((s) => s.name).join(', ')})`,
    controller: {
      ...controllerOptions,
      ...(controllerOptions.staticStability ? { staticStability: { ...controllerOptions.staticStability, healthChecks } } : {}),
      config,
    },
  });

  for (const group of alarmGroups(config)) {
    if (isLocal(group, here)) continue;
    if (group.account !== undefined && account === undefined) {
      throw new Steer53Error(
        `Alarms in account ${group.account} (${group.region}) are forwarded to the controller's bus, whose ARN needs the controller's account: give it with -c account=123456789012.`,
      );
    }
    entry(group.account === account ? undefined : group.account, group.region).alarmNames.push(...group.alarmNames);
  }
  for (const source of nativeDeploymentSourcesOf(config, options.nativeDeploymentSources)) {
    const sourceRegion = regionOfSource(source, config);
    if (sourceRegion !== undefined && sourceRegion !== region) entry(undefined, sourceRegion).sources.push(source);
  }

  const forwarders = [...remote.values()]
    .sort((a, b) => `${a.region}|${a.account ?? ''}`.localeCompare(`${b.region}|${b.account ?? ''}`))
    .map((group) => {
      const id = `${stackName}-forwarder-${group.region}${group.account ? `-${group.account}` : ''}`;
      const forwarderAccount = group.account ?? account;
      return new AlarmForwarderStack(app, id, {
        env: { region: group.region, ...(forwarderAccount ? { account: forwarderAccount } : {}) },
        description: `steer53: forwards ${group.region} alarm and deployment events to the controller in ${region}`,
        // Same account: the forwarder stack's own account (a token when environment-agnostic) is
        // the controller's.
        controllerEventBusArn: `arn:${Aws.PARTITION}:events:${region}:${account ?? Aws.ACCOUNT_ID}:event-bus/${name}`,
        alarmNames: [...new Set(group.alarmNames)].sort(),
        nativeDeploymentSources: group.sources,
        healthAlarms: group.healthAlarms,
        controllerName: name,
        ...(controllerOptions.notifications ? { notifications: controllerOptions.notifications } : {}),
      });
    });
  // Health checks name alarms the forwarders create: deploy those first.
  for (const forwarder of forwarders)
    if ((forwarder.forwarder.healthAlarms ?? []).length > 0) controller.addStackDependency(forwarder, 'its health checks name alarms this forwarder creates');
  return { controller, forwarders };
}
