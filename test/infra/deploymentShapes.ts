/**
 * The shapes of deployment the infra tests synthesize, each to its own cloud assembly: between
 * them they use every option of the construct and of the forwarder, so a check over their
 * templates (cfn-lint, the execution policy) covers every resource the stacks can hold.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { validateConfig } from '../../functions/config/loadConfig.js';
import { AlarmForwarderStack } from '../../lib/alarmForwarder.js';
import { addSteer53Stacks } from '../../lib/steer53Stacks.js';
import { TrafficController } from '../../lib/trafficController.js';
import exampleConfig from '../../steer53.config.js';
import { capacityConfig, controllerAccount, fullDeployment, minimalConfig, newApp } from './fixtures.js';

export interface SynthesizedStack {
  readonly stackName: string;
  readonly templateFile: string;
  /** undefined when environment-agnostic. */
  readonly account: string | undefined;
  readonly region: string | undefined;
}

export interface DeploymentShape {
  readonly name: string;
  readonly stacks: readonly SynthesizedStack[];
}

const shapes: Record<string, () => ReturnType<typeof newApp>> = {
  'the full deployment (every option, forwarders in another region and another account)': () => {
    const app = newApp({ bundle: false });
    addSteer53Stacks(app, fullDeployment);
    return app;
  },
  'the example config, environment-agnostic as in a first synth': () => {
    const app = newApp({ bundle: false });
    addSteer53Stacks(app, { config: validateConfig(exampleConfig, 'steer53.config.ts'), region: 'eu-west-1' });
    return app;
  },
  'a renamed controller with its own table key, no dashboard, a 5-minute schedule and a disposable table': () => {
    const app = newApp({ bundle: false });
    const stack = new Stack(app, 'Canary', { env: { account: controllerAccount, region: 'us-west-2' } });
    new TrafficController(stack, 'Controller', {
      config: minimalConfig,
      name: 'canary',
      tableEncryptionKey: new kms.Key(stack, 'TableKey', { enableKeyRotation: true }),
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      dashboard: false,
      evaluationInterval: Duration.minutes(5),
    });
    return app;
  },
  'a controller whose endpoints name a capacity provider of each kind': () => {
    const app = newApp({ bundle: false });
    addSteer53Stacks(app, { config: capacityConfig, region: 'us-east-1', account: controllerAccount });
    return app;
  },
  'a forwarder deployed on its own, environment-agnostic': () => {
    const app = newApp({ bundle: false });
    new AlarmForwarderStack(app, 'Forwarder', {
      controllerEventBusArn: 'arn:aws:events:us-east-1:111111111111:event-bus/steer53',
      alarmNames: ['chat-euw1-5xx'],
      nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'euw1', ecsServiceArns: ['arn:aws:ecs:eu-west-1:111111111111:service/inference/chat'] }],
      healthAlarms: [
        {
          alarmName: 'steer53-health-chat-euw1',
          endpoint: 'chat/euw1',
          metric: { namespace: 'AWS/SageMaker', metricName: 'Invocation5XXErrors', statistic: 'Sum', threshold: 50 },
        },
      ],
      notifications: { emails: ['oncall@example.com'] },
    });
    return app;
  },
};

/** Synthesizes every shape; each stack with its template file and environment. */
export function synthesizeShapes(): DeploymentShape[] {
  return Object.entries(shapes).map(([name, build]) => {
    const assembly = build().synth();
    return {
      name,
      stacks: assembly.stacks.map((stack) => ({
        stackName: stack.stackName,
        templateFile: stack.templateFullPath,
        account: /^\d{12}$/.test(stack.environment.account) ? stack.environment.account : undefined,
        region: /^[a-z]{2}(-[a-z]+)+-\d$/.test(stack.environment.region) ? stack.environment.region : undefined,
      })),
    };
  });
}
