/**
 * Who may do what: the handlers' identity policy (the evaluate → decide → apply → tell loop and
 * nothing else) and the resource policy of the controller's bus (who may put which events on it).
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Config } from '../functions/core/config.js';
import { alarmGroups, DeploymentEventSource, deploymentPublisherAccounts, NativeDeploymentEvents } from './eventRouting.js';
import { capacityProviders, capacityStatements } from './capacityPermissions.js';
import { route53Statements } from './route53Permissions.js';
import type { TrafficControllerProps } from './trafficControllerProps.js';

/**
 * What every handler may do: the evaluate → decide → apply → tell loop, and nothing else.
 * `account`: the controller's account (a token is fine), where the capacity providers' resources are.
 */
export function controllerStatements(
  config: Config,
  place: { readonly partition: string; readonly account: string },
  table: dynamodb.Table,
  topic: sns.Topic,
  bus: events.EventBus,
): iam.PolicyStatement[] {
  const { partition } = place;
  const statements = [
    ...route53Statements(config, partition),
    new iam.PolicyStatement({
      sid: 'ReadSignals',
      // GetMetricData has no resource-level permissions; DescribeAlarms must be granted on "*"
      // to return composite alarms (CloudWatch API reference). Both are read-only.
      actions: ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'],
      resources: ['*'],
    }),
  ];
  const roleArns = metricRoleArns(config);
  if (roleArns.length > 0) statements.push(new iam.PolicyStatement({ sid: 'ReadMetricsInOtherAccounts', actions: ['sts:AssumeRole'], resources: roleArns }));
  statements.push(
    new iam.PolicyStatement({
      sid: 'StateTable',
      // What the state store (and Powertools idempotency) call: single items, a tick's states in
      // batches, one query per service, conditional writes. No Scan, no table management. A
      // TransactWriteItems call is authorized by the item actions it contains (PutItem,
      // UpdateItem, DeleteItem, ConditionCheckItem): "dynamodb:TransactWriteItems" is not an IAM
      // action (cfn-lint W3037).
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
      ],
      resources: [table.tableArn],
    }),
  );
  const encryptionKey = table.encryptionKey;
  if (encryptionKey)
    statements.push(
      new iam.PolicyStatement({
        sid: 'StateTableKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [encryptionKey.keyArn],
      }),
    );
  statements.push(new iam.PolicyStatement({ sid: 'Notify', actions: ['sns:Publish'], resources: [topic.topicArn] }));
  statements.push(new iam.PolicyStatement({ sid: 'NotifyKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [topic.masterKey!.keyArn] }));
  statements.push(new iam.PolicyStatement({ sid: 'PublishControllerEvents', actions: ['events:PutEvents'], resources: [bus.eventBusArn] }));
  statements.push(...capacityStatements(config, partition, place.account));
  return statements;
}

/** The roles in other accounts that metric signals and load queries read through, sorted. */
function metricRoleArns(config: Config): string[] {
  const roleArns = new Set<string>();
  for (const service of config.services) {
    for (const endpoint of service.endpoints) {
      if (endpoint.load?.accountRoleArn) roleArns.add(endpoint.load.accountRoleArn);
      for (const signal of endpoint.signals) if (signal.source === 'metric' && signal.metric.accountRoleArn) roleArns.add(signal.metric.accountRoleArn);
    }
  }
  // The generic capacity provider's instance count is a metric too.
  for (const { provider } of capacityProviders(config).generic) if (provider.inService.accountRoleArn) roleArns.add(provider.inService.accountRoleArn);
  return [...roleArns].sort();
}

/** Event sources an AlarmForwarder may put on the controller's bus. */
export const ForwardedSources = ['aws.cloudwatch', ...Object.values(NativeDeploymentEvents).map((e) => e.source)];

/** Resource policy of the custom bus: who may put which events on it. `stackAccount`: when known at synth time. */
export function addBusPolicy(bus: events.EventBus, props: TrafficControllerProps, stackAccount: string | undefined): void {
  const publishers = props.deploymentEventPublishers;
  const ownAccount = (id: string) => stackAccount !== undefined && id === stackAccount;
  // The construct's lists and each service's deploymentPublishers: the bus admits their union, the
  // deployment handler then lets each act only on the services that list it.
  const listedAccounts = [...new Set([...(publishers?.accountIds ?? []), ...deploymentPublisherAccounts(props.config)])].sort();
  const deploymentAccounts = listedAccounts.filter((id) => !ownAccount(id));
  const deploymentCondition = { 'ForAllValues:StringEquals': { 'events:source': [DeploymentEventSource] } };
  const putEvents = { actions: ['events:PutEvents'], resources: [bus.eventBusArn] };
  if (deploymentAccounts.length > 0) {
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DeploymentEventsFromAccounts',
        principals: deploymentAccounts.map((id) => new iam.AccountPrincipal(id)),
        ...putEvents,
        conditions: deploymentCondition,
      }),
    );
  }
  const principalArns = [
    ...new Set([...(publishers?.principalArns ?? []), ...props.config.services.flatMap((svc) => svc.deploymentPublishers.principalArns)]),
  ].sort();
  if (principalArns.length > 0) {
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DeploymentEventsFromPrincipals',
        principals: principalArns.map((arn) => new iam.ArnPrincipal(arn)),
        ...putEvents,
        conditions: deploymentCondition,
      }),
    );
    // Only the listed publishers may put deployment events, even in this account, where an
    // identity policy alone would otherwise suffice.
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyListedDeploymentPublishers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        ...putEvents,
        conditions: {
          'ForAnyValue:StringEquals': { 'events:source': [DeploymentEventSource] },
          ArnNotLike: { 'aws:PrincipalArn': [...principalArns] },
          ...(listedAccounts.length > 0 ? { StringNotEquals: { 'aws:PrincipalAccount': listedAccounts } } : {}),
        },
      }),
    );
  }
  const forwarderAccounts = new Set<string>(props.forwarderAccountIds ?? []);
  for (const group of alarmGroups(props.config))
    if (group.account !== undefined && !ownAccount(group.account) && stackAccount !== undefined) forwarderAccounts.add(group.account);
  if (forwarderAccounts.size > 0) {
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ForwardedEventsFromAccounts',
        principals: [...forwarderAccounts].sort().map((id) => new iam.AccountPrincipal(id)),
        ...putEvents,
        conditions: { 'ForAllValues:StringEquals': { 'events:source': ForwardedSources } },
      }),
    );
  }
}
