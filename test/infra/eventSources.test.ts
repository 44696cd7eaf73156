/**
 * Events from the right sources only, in the template: every rule that invokes a handler names
 * the accounts its events may come from, and the bus policy admits deployment publishers as the
 * config lists them per service (the handler then lets each act only on its own services).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../functions/config/loadConfig.js';
import { TrafficController } from '../../lib/trafficController.js';
import { controllerAccount, newApp, newStack } from './fixtures.js';

const PIPELINE_ACCOUNT = '555555555555';
const PIPELINE_ROLE = `arn:aws:iam::${PIPELINE_ACCOUNT}:role/chat-deploy`;

const config = validateConfig(
  {
    services: [
      {
        name: 'chat',
        dnsName: 'chat.example.com',
        hostedZoneId: 'Z0123456789CHAT',
        deploymentPublishers: { accounts: [PIPELINE_ACCOUNT], principalArns: [PIPELINE_ROLE] },
        endpoints: [
          {
            setIdentifier: 'use1',
            region: 'us-east-1',
            baselineWeight: 100,
            signals: [{ name: '5xx', source: 'alarm', alarm: { name: 'chat-use1-5xx' }, severity: 'fail' }],
            deploymentSources: {
              ecsServices: [`arn:aws:ecs:us-east-1:${PIPELINE_ACCOUNT}:service/inference/chat`],
              sagemakerEndpoints: ['chat-use1'],
            },
          },
          {
            setIdentifier: 'euw1',
            region: 'eu-west-1',
            baselineWeight: 100,
            signals: [{ name: '5xx', source: 'alarm', alarm: { arn: 'arn:aws:cloudwatch:eu-west-1:333333333333:alarm:chat-euw1-5xx' }, severity: 'fail' }],
          },
        ],
      },
    ],
  },
  'config',
);

type Json = Record<string, any>;

function synth(stack: Stack): Template {
  new TrafficController(stack, 'Controller', { config });
  return Template.fromStack(stack);
}

/** The rules whose targets are the controller's functions, with their patterns. */
function handlerRules(template: Template): Json[] {
  return (Object.values(template.findResources('AWS::Events::Rule')) as Json[]).filter(
    // A handler's rule targets its function, or (alarms) the queue its function reads.
    (r) => r.Properties.EventPattern !== undefined && /Function|AlarmQueue/.test(JSON.stringify(r.Properties.Targets)),
  );
}

describe('Rules: events from the right accounts only', () => {
  const template = synth(newStack({ bundle: false }));

  it('every rule that invokes a handler names its accounts: none is open to any account', () => {
    const rules = handlerRules(template);
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const rule of rules) expect(rule.Properties.EventPattern.account, JSON.stringify(rule.Properties.EventPattern)).toEqual(expect.any(Array));
  });

  it.each<[string, Json, string[]]>([
    ['local alarms: the controller’s account', { source: ['aws.cloudwatch'], detail: { alarmName: ['chat-use1-5xx'] } }, [controllerAccount]],
    ['forwarded alarms: the account in the alarm’s ARN', { source: ['aws.cloudwatch'], detail: { alarmName: ['chat-euw1-5xx'] } }, ['333333333333']],
    [
      'steer53 deployment events: the controller’s account and the services’ publishers',
      { source: ['steer53.deployment'] },
      [controllerAccount, PIPELINE_ACCOUNT],
    ],
    [
      'native deployment events: the controller’s, the publishers’, and the ECS services’ accounts',
      { source: ['aws.ecs'] },
      [controllerAccount, PIPELINE_ACCOUNT],
    ],
  ])('%s', (_, match, accounts) => {
    const rule = handlerRules(template).find((r) =>
      Object.entries(match).every(([k, v]) => JSON.stringify(r.Properties.EventPattern[k]) === JSON.stringify(v)),
    );
    expect(rule, JSON.stringify(match)).toBeDefined();
    expect([...rule!.Properties.EventPattern.account].sort()).toEqual([...accounts].sort());
  });

  it('an environment-agnostic account is the stack’s own, resolved at deploy time', () => {
    const agnostic = synth(new Stack(newApp({ bundle: false }), 'Agnostic', { env: { region: 'us-east-1' } }));
    const local = handlerRules(agnostic).find((r) => JSON.stringify(r.Properties.EventPattern.detail) === JSON.stringify({ alarmName: ['chat-use1-5xx'] }));
    expect(local!.Properties.EventPattern.account).toEqual([{ Ref: 'AWS::AccountId' }]);
  });
});

describe('Bus policy: deployment publishers from the config', () => {
  const template = synth(newStack({ bundle: false }));
  const statements = () => Object.values(template.findResources('AWS::Events::EventBusPolicy')).map((p: Json) => p.Properties.Statement);

  it('admits the accounts and principals the services list, for steer53 deployment events only', () => {
    const accounts = statements().find((s) => s.Sid === 'cdk-DeploymentEventsFromAccounts');
    expect(accounts.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${PIPELINE_ACCOUNT}:root`]] } });
    expect(accounts.Condition).toEqual({ 'ForAllValues:StringEquals': { 'events:source': ['steer53.deployment'] } });
    const principals = statements().find((s) => s.Sid === 'cdk-DeploymentEventsFromPrincipals');
    expect(principals.Principal).toEqual({ AWS: PIPELINE_ROLE });
  });

  it('denies every other principal putting steer53 deployment events, the listed accounts excepted', () => {
    expect(statements().find((s) => s.Sid === 'cdk-OnlyListedDeploymentPublishers')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Condition: {
        'ForAnyValue:StringEquals': { 'events:source': ['steer53.deployment'] },
        ArnNotLike: { 'aws:PrincipalArn': [PIPELINE_ROLE] },
        StringNotEquals: { 'aws:PrincipalAccount': [PIPELINE_ACCOUNT] },
      },
    });
  });
});

describe('A principal listed without its account', () => {
  const RELEASE_ACCOUNT = '666666666666';
  const RELEASE_ROLE = `arn:aws:iam::${RELEASE_ACCOUNT}:role/release`;
  const raw = structuredClone(config) as Json;
  raw.services[0].deploymentPublishers = { accounts: [], principalArns: [RELEASE_ROLE] };
  const stack = newStack({ bundle: false });
  new TrafficController(stack, 'Controller', { config: validateConfig({ services: raw.services }, 'config') });
  const template = Template.fromStack(stack);

  it('gets its events through the rule (its account is named), while the bus denies every other principal of that account', () => {
    const rule = handlerRules(template).find((r) => JSON.stringify(r.Properties.EventPattern.source) === JSON.stringify(['steer53.deployment']));
    expect([...rule!.Properties.EventPattern.account].sort()).toEqual([RELEASE_ACCOUNT, controllerAccount].sort());
    const statements = Object.values(template.findResources('AWS::Events::EventBusPolicy')).map((p: Json) => p.Properties.Statement);
    expect(statements.find((s) => s.Sid === 'cdk-DeploymentEventsFromAccounts')).toBeUndefined();
    const deny = statements.find((s) => s.Sid === 'cdk-OnlyListedDeploymentPublishers');
    expect(deny.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'events:source': ['steer53.deployment'] },
      ArnNotLike: { 'aws:PrincipalArn': [RELEASE_ROLE] },
    });
  });
});
