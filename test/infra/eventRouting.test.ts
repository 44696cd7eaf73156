import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../functions/config/loadConfig.js';
import { alarmGroups, alarmNameOf, chunkNames, isLocal, nativeDeploymentPatterns } from '../../lib/eventRouting.js';
import { normalizeRecordName, zoneRecords } from '../../lib/route53Permissions.js';
import { richConfig } from './fixtures.js';

describe('normalizeRecordName', () => {
  it.each([
    ['Chat.Example.COM.', 'chat.example.com'],
    ['*.example.com', '\\052.example.com'],
    ['under_score-ok.example.com', 'under_score-ok.example.com'],
    ['a@b.example.com', 'a\\100b.example.com'],
  ])('normalizes %s as Route 53 does for IAM conditions', (name, normalized) => {
    expect(normalizeRecordName(name)).toBe(normalized);
  });
});

describe('zoneRecords', () => {
  it('groups services by hosted zone, names and types sorted', () => {
    const config = validateConfig(
      {
        services: ['b', 'a'].map((n, i) => ({
          name: n,
          dnsName: `${n}.example.com`,
          recordType: i === 0 ? 'AAAA' : 'A',
          hostedZoneId: 'ZSAME',
          endpoints: [{ setIdentifier: 'x', region: 'us-east-1', baselineWeight: 1, signals: [{ name: 's', source: 'alarm', alarm: { name: `${n}-alarm` } }] }],
        })),
      },
      'test',
    );
    expect(zoneRecords(config)).toEqual([{ hostedZoneId: 'ZSAME', names: ['a.example.com', 'b.example.com'], types: ['A', 'AAAA'] }]);
  });
});

describe('alarmGroups', () => {
  it('groups alarm signals by account and region, taking the name from the ARN when only the ARN is given', () => {
    expect(alarmGroups(richConfig)).toEqual([
      { account: undefined, region: 'eu-west-1', alarmNames: ['chat-euw1-5xx'] },
      { account: undefined, region: 'us-east-1', alarmNames: ['chat-use1-5xx'] },
      { account: '333333333333', region: 'ap-northeast-1', alarmNames: ['chat-apne1-5xx'] },
    ]);
  });

  it('keeps colons inside an alarm name read from its ARN', () => {
    expect(alarmNameOf({ arn: 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:team:chat:5xx' })).toBe('team:chat:5xx');
  });

  it.each([
    [{ account: undefined, region: 'us-east-1' }, { account: '111111111111', region: 'us-east-1' }, true],
    [{ account: '111111111111', region: 'us-east-1' }, { account: '111111111111', region: 'us-east-1' }, true],
    [{ account: '222222222222', region: 'us-east-1' }, { account: '111111111111', region: 'us-east-1' }, false],
    [{ account: undefined, region: 'eu-west-1' }, { account: '111111111111', region: 'us-east-1' }, false],
    [{ account: '222222222222', region: 'us-east-1' }, { account: undefined, region: 'us-east-1' }, true],
  ])('decides whether alarm %j reaches a controller at %j directly', (location, controller, local) => {
    expect(isLocal(location, controller)).toBe(local);
  });
});

describe('chunkNames', () => {
  it('splits long alarm lists so each event pattern stays small, keeping every name once and in order', () => {
    const names = Array.from({ length: 200 }, (_, i) => `alarm-with-a-fairly-long-name-${String(i).padStart(3, '0')}`);
    const chunks = chunkNames(names, 1500);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(names);
    for (const chunk of chunks) expect(JSON.stringify(chunk).length).toBeLessThanOrEqual(1502);
  });

  it('makes no rule for no names', () => {
    expect(chunkNames([])).toEqual([]);
  });
});

describe('nativeDeploymentPatterns', () => {
  it('merges sources per AWS service and keeps deployment-group filters with their own application', () => {
    expect(
      nativeDeploymentPatterns([
        {
          service: 's',
          setIdentifier: 'a',
          ecsServiceArns: ['arn:aws:ecs:us-east-1:1:service/c/b', 'arn:aws:ecs:us-east-1:1:service/c/a'],
          codeDeployApplications: ['whole'],
        },
        { service: 's', setIdentifier: 'b', codeDeployApplications: ['app'], codeDeployDeploymentGroups: ['g1'] },
        { service: 's', setIdentifier: 'c', sageMakerEndpointNames: ['ep'], pipelineNames: ['pipe'] },
      ]),
    ).toEqual([
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        resources: ['arn:aws:ecs:us-east-1:1:service/c/a', 'arn:aws:ecs:us-east-1:1:service/c/b'],
      },
      { source: ['aws.codedeploy'], 'detail-type': ['CodeDeploy Deployment State-change Notification'], detail: { application: ['whole'] } },
      {
        source: ['aws.codedeploy'],
        'detail-type': ['CodeDeploy Deployment State-change Notification'],
        detail: { application: ['app'], deploymentGroup: ['g1'] },
      },
      { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint Deployment State Change'], detail: { EndpointName: ['ep'] } },
      { source: ['aws.codepipeline'], 'detail-type': ['CodePipeline Pipeline Execution State Change'], detail: { pipeline: ['pipe'] } },
    ]);
  });

  it('makes no pattern when nothing is mapped', () => {
    expect(nativeDeploymentPatterns([])).toEqual([]);
  });
});
