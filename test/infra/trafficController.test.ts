/**
 * Construct behaviour that depends on props, on small stacks (bundling skipped).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../functions/config/loadConfig.js';
import { assertLocalEsbuild, TrafficController } from '../../lib/trafficController.js';
import type { TrafficControllerProps } from '../../lib/trafficControllerProps.js';
import { controllerAccount, minimalConfig, newApp, newStack } from './fixtures.js';
import { AwsApiRates, shareOf } from '../../functions/adapters/aws/pacing.js';
import type { Config } from '../../functions/core/config.js';

/** `count` copies of the minimal service, `perZone` to a hosted zone, named with `prefix`. */
function fleet(count: number, perZone: number, prefix = 'svc'): Config {
  const base = structuredClone(minimalConfig.services[0]!);
  return {
    version: 1,
    events: structuredClone(minimalConfig.events),
    services: Array.from({ length: count }, (_, i) => ({
      ...structuredClone(base),
      name: `${prefix}-${i}`.slice(0, 64),
      dnsName: `s${i}.example.com`,
      hostedZoneId: `ZONE${Math.floor(i / perZone)}`,
    })),
  };
}

function template(props: Partial<TrafficControllerProps> = {}): Template {
  const stack = newStack({ bundle: false });
  new TrafficController(stack, 'Controller', { config: minimalConfig, ...props });
  return Template.fromStack(stack);
}

const slowConfig = validateConfig(
  {
    services: [
      {
        name: 'slow',
        dnsName: 'slow.example.com',
        hostedZoneId: 'Z0123456789SLOW',
        policy: { evaluationPeriodSeconds: 300 },
        endpoints: [
          {
            setIdentifier: 'one',
            region: 'us-east-1',
            baselineWeight: 1,
            signals: [{ name: 'p99', source: 'sagemaker-model-latency', endpointName: 'slow', trip: 2, clear: 1, periodSeconds: 300 }],
          },
        ],
      },
    ],
  },
  'slowConfig',
);

describe('Class: TrafficController', () => {
  describe('schedule', () => {
    it.each<[string, Partial<TrafficControllerProps>, string]>([
      ['evaluates once a minute by default', {}, 'rate(1 minute)'],
      ['follows the shortest evaluation period of the config', { config: slowConfig }, 'rate(5 minutes)'],
      ['takes an explicit interval over the config', { config: slowConfig, evaluationInterval: Duration.minutes(2) }, 'rate(2 minutes)'],
    ])('%s', (_name, props, expression) => {
      template(props).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expression });
    });

    it('alarms when the schedule stops for five intervals, counting missing data as stopped', () => {
      template({ config: slowConfig }).hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'steer53-schedule-stopped',
        MetricName: 'Invocations',
        Period: 300,
        EvaluationPeriods: 5,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });
  });

  describe('sharded schedule', () => {
    const rules = (t: Template) => Object.values(t.findResources('AWS::Events::Rule')).filter((r: any) => r.Properties.ScheduleExpression) as any[];

    it('keeps one plain schedule target when the whole tick is one shard', () => {
      const [rule] = rules(template());
      expect(rule.Properties.Targets).toHaveLength(1);
      expect(rule.Properties.Targets[0].Input ?? rule.Properties.Targets[0].InputTransformer).toBeUndefined();
    });

    it('gives each shard a target of its own, five to a rule, with its services, the rule’s time and when it goes stale; and the shards share 80% of the API rates', () => {
      const t = template({ config: fleet(7, 2), sharding: { maxServicesPerShard: 2 } });
      const schedule = rules(t);
      expect(schedule.map((r) => r.Properties.Targets.length)).toEqual([4]);
      const transformer = schedule[0].Properties.Targets[1].InputTransformer;
      expect(transformer.InputPathsMap).toEqual({ time: '$.time' });
      expect(JSON.parse(transformer.InputTemplate.replace('<time>', '"2026-01-01T00:10:00Z"'))).toEqual({
        shard: 'shard-02',
        services: ['svc-2', 'svc-3'],
        scheduledTime: '2026-01-01T00:10:00Z',
        staleAfterSeconds: 90,
      });
      const fns = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Description: 'steer53: schedule events' } })) as any[];
      expect(JSON.parse(fns[0].Properties.Environment.Variables.STEER53_API_RATES)).toEqual(shareOf(AwsApiRates, 0.8 / 4));
      const ticks = Object.values(t.findResources('AWS::CloudWatch::Dashboard')).find((d: any) => d.Properties.DashboardName === 'steer53-ticks') as any;
      const body = JSON.stringify(ticks.Properties.DashboardBody);
      for (const id of ['shard-01', 'shard-04']) expect(body).toContain(`\\"ShardDuration\\",\\"service\\",\\"#tick\\",\\"shard\\",\\"${id}\\"`);
      // The alarm queue's backlog and the age of its oldest event, beside the ticks that drain a storm.
      const queue = Object.keys(t.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('ControllerAlarmQueue'))!;
      const parts = ticks.Properties.DashboardBody['Fn::Join'][1] as unknown[];
      for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']) {
        const at = parts.findIndex(
          (part, i) =>
            typeof part === 'string' &&
            part.endsWith(`"AWS/SQS","${metric}","QueueName","`) &&
            JSON.stringify(parts[i + 1]) === JSON.stringify({ 'Fn::GetAtt': [queue, 'QueueName'] }),
        );
        expect(at, metric).toBeGreaterThan(-1);
      }
    });

    it('opens another rule after five shards (EventBridge allows five targets a rule)', () => {
      expect(
        rules(template({ config: fleet(7, 1), sharding: { maxServicesPerShard: 1 } }))
          .map((r) => r.Properties.Targets.length)
          .sort(),
      ).toEqual([2, 5]);
    });

    it('makes shards smaller when their services’ names would not fit a target’s 8,192 characters of input', () => {
      const t = template({
        config: fleet(400, 400, 'a-rather-long-service-name-of-sixty-characters-or-so-number'),
        sharding: { maxServicesPerShard: 400 },
        dashboard: false,
      });
      const inputs = rules(t).flatMap((r) => r.Properties.Targets.map((target: any) => target.InputTransformer.InputTemplate as string));
      expect(inputs.length).toBeGreaterThan(1);
      for (const input of inputs) expect(input.length).toBeLessThanOrEqual(8192);
    });

    it.each<[Partial<TrafficControllerProps>, string]>([
      [{ sharding: { maxServicesPerShard: 0 } }, 'sharding.maxServicesPerShard 0 must be a whole number of services, at least 1.'],
      [{ sharding: { targetSeconds: 60 } }, 'sharding.targetSeconds 60 must be from 1 to 45 (the schedule function stops at 50 s).'],
    ])('refuses %j', (props, sentence) => {
      expect(() => template(props)).toThrow(sentence);
    });
  });

  describe('name', () => {
    it('names the bus, dashboards and alarms after the controller', () => {
      const t = template({ name: 'steer53-staging' });
      t.hasResourceProperties('AWS::Events::EventBus', { Name: 'steer53-staging' });
      t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'steer53-staging-solo' });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'steer53-staging-alarm-handler-errors' });
    });
  });

  describe('without alarms, native sources or extra publishers', () => {
    it("makes no alarm rules and no bus policy: only the controller's own account may put events", () => {
      const t = template();
      expect(Object.keys(t.findResources('AWS::Events::EventBusPolicy'))).toHaveLength(0);
      const patterns = Object.values(t.findResources('AWS::Events::Rule')).map((r: any) => JSON.stringify(r.Properties.EventPattern ?? {}));
      expect(patterns.filter((p) => p.includes('alarmName') && !p.includes('prefix'))).toEqual([]);
      expect(Object.keys(t.findResources('AWS::Route53::HealthCheck'))).toHaveLength(0);
      expect(Object.keys(t.findResources('AWS::Route53::RecordSet'))).toHaveLength(0);
    });
  });

  describe('state table', () => {
    it('uses a customer-managed key when one is given, and grants the handlers its use', () => {
      const stack = newStack({ bundle: false });
      const key = new kms.Key(stack, 'TableKey', { enableKeyRotation: true });
      new TrafficController(stack, 'Controller', { config: minimalConfig, tableEncryptionKey: key, tableRemovalPolicy: RemovalPolicy.DESTROY });
      const t = Template.fromStack(stack);
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        DeletionProtectionEnabled: false,
      });
      t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Sid: 'StateTableKey', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TableKey'), 'Arn'] } })]),
        },
      });
    });
  });

  describe('function packages', () => {
    it('change with the config and only with it, so a policy change redeploys the code that reads it', () => {
      // One app, the two same-config stacks first: bundled back to back, so nothing else changes
      // the sources in between.
      const app = newApp();
      const stacks = [minimalConfig, minimalConfig, slowConfig].map((config, i) => {
        const stack = new Stack(app, `Stack${i}`, { env: { account: controllerAccount, region: 'us-east-1' } });
        new TrafficController(stack, 'Controller', { config });
        return stack;
      });
      const keys = stacks.map((stack) => {
        const fns = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
        return fns.filter((f) => f.Properties.Runtime === 'nodejs24.x').map((f) => f.Properties.Code.S3Key as string);
      });
      expect(keys[0]).toHaveLength(3);
      for (const [i, key] of keys[0]!.entries()) expect(key).not.toBe(keys[2]![i]);
      expect(keys[1]).toEqual(keys[0]); // and only then: the same config gives the same packages
    });
  });

  describe('bundling', () => {
    it('refuses to fall back to Docker when esbuild is missing, saying what to install', () => {
      const empty = mkdtempSync(join(tmpdir(), 'steer53-noesbuild-'));
      expect(() => assertLocalEsbuild(empty)).toThrow(
        'esbuild is not installed: run npm ci (it is a devDependency). steer53 bundles its functions with the local esbuild and never with Docker.',
      );
      expect(() => assertLocalEsbuild(fileURLToPath(new URL('../..', import.meta.url)))).not.toThrow();
    });
  });

  describe('dashboard', () => {
    it('can be left out', () => {
      expect(Object.keys(template({ dashboard: false }).findResources('AWS::CloudWatch::Dashboard'))).toHaveLength(0);
    });
  });
});
