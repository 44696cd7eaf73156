/**
 * The controller's Lambda functions: one per handler, each with its own log group and role, bundled
 * with the local esbuild into a minified ESM package that carries the validated config.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnElement, type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Config } from '../functions/core/config.js';
import { Steer53Error } from '../functions/core/errors.js';

/** The three Lambda entry points, each `functions/handlers/<name>.ts` exporting `handler`. */
export const HandlerNames = ['alarm', 'schedule', 'deployment'] as const;
export type HandlerName = (typeof HandlerNames)[number];

/** Where the bundled config sits in the function package. */
export const BundledConfigFile = 'steer53.config.json';
export const BundledConfigPath = `/var/task/${BundledConfigFile}`;

export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Per handler: how long an event stays worth acting on, and how often a failed invocation is retried. */
export const asyncSettings: Record<HandlerName, { maxEventAge: Duration; retryAttempts: number; timeout: Duration }> = {
  // A tick is worth nothing once the next one has fired: never retry a stale evaluation.
  schedule: { maxEventAge: Duration.minutes(2), retryAttempts: 0, timeout: Duration.seconds(50) },
  // An alarm state change is acted on by the next tick anyway, but acting at once is the point.
  alarm: { maxEventAge: Duration.minutes(15), retryAttempts: 2, timeout: Duration.seconds(30) },
  // A deployment event drives a rollout; duplicates are harmless (idempotency key), losing one is not.
  deployment: { maxEventAge: Duration.hours(1), retryAttempts: 2, timeout: Duration.seconds(30) },
};

/** How the alarm queue feeds the alarm function (TrafficController's alarm queue). */
export const AlarmQueueDelivery = {
  /**
   * Most records in one invocation: a storm's alarms confirmed and evaluated together. 50: a batch of
   * 100 spanning every hosted zone outran the 30 s timeout with its CPU (npm run bench:tick -- --alarm-storm).
   */
  batchSize: 50,
  /** How long Lambda gathers a batch (batches over 10 records need one): the longest an alarm waits for its batch. */
  batchingWindowSeconds: 1,
  /** Most invocations at once (2 is the least Lambda allows for an SQS event source). */
  maxConcurrency: 2,
  /** Receives of a record whose evaluation keeps failing before it goes to the alarm function's dead-letter queue. */
  maxReceiveCount: 3,
} as const;

export function pascal(name: string): string {
  return name.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());
}

/** What every handler function shares. */
export interface HandlerFunctionOptions {
  /** The controller's name, in descriptions. */
  readonly name: string;
  readonly handlersDir: string;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  /** The controller's policy, attached to every function's role. */
  readonly sharedPolicy: iam.Policy;
  /** The bundled config file to copy into each package (see writeBundledConfig). */
  readonly configFile: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Per function: where its failed asynchronous invocations go. */
  readonly failureQueues: Readonly<Record<HandlerName, sqs.IQueue>>;
}

/** One function with its own log group and a role that may log only there. */
export function addHandlerFunction(scope: Construct, name: HandlerName, options: HandlerFunctionOptions): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${pascal(name)}Logs`, { retention: options.logRetention, removalPolicy: RemovalPolicy.DESTROY });
  // An own role instead of the AWSLambdaBasicExecutionRole managed policy: logs only to its own log group.
  const role = new iam.Role(scope, `${pascal(name)}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${options.name}: ${name} handler`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
    }),
  );
  options.sharedPolicy.attachToRole(role);
  const settings = asyncSettings[name];
  const fn = new nodejs.NodejsFunction(scope, `${pascal(name)}Function`, {
    description: `${options.name}: ${name} events`,
    entry: join(options.handlersDir, `${name}.ts`),
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: settings.timeout,
    role,
    logGroup,
    tracing: lambda.Tracing.ACTIVE,
    projectRoot: packageRoot,
    depsLockFilePath: join(packageRoot, 'package-lock.json'),
    environment: { ...options.environment },
    bundling: bundlingOptions(options.configFile),
    onFailure: new destinations.SqsDestination(options.failureQueues[name]),
    maxEventAge: settings.maxEventAge,
    retryAttempts: settings.retryAttempts,
  });
  dependOnPoliciesOnly(fn, role, options.sharedPolicy);
  Validations.of(role).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(logGroup)}.Arn>:log-stream:*]`,
      reason: "Log streams are created at run time with generated names; scoped to this function's own log group.",
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (added by Tracing.ACTIVE).',
    },
  );
  return fn;
}

/** What the bundles get instead of all of semver (see lib/bundling/xraySemver.cjs). */
export const SemverAlias = join(packageRoot, 'lib', 'bundling', 'xraySemver.cjs');

/** How every handler is bundled: minified ESM with a source map, the AWS SDK left to the runtime, the config copied in. */
function bundlingOptions(configFile: string): nodejs.BundlingOptions {
  return {
    format: nodejs.OutputFormat.ESM,
    target: 'node24',
    minify: true,
    sourceMap: true,
    // The Lambda runtime provides AWS SDK v3; bundling it would triple the package.
    externalModules: ['@aws-sdk/*'],
    mainFields: ['module', 'main'],
    // CommonJS dependencies in an ESM bundle still call require() for Node built-ins.
    banner: "import{createRequire as __steer53CreateRequire}from'node:module';const require=__steer53CreateRequire(import.meta.url);",
    // The X-Ray SDK requires all of semver for one call steer53 never makes: 19 KB less per bundle.
    esbuildArgs: { '--alias:semver': SemverAlias },
    // Bundle with the local esbuild (a devDependency): never fall back to Docker.
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [`cp "${configFile}" "${outputDir}/${BundledConfigFile}"`],
    },
  };
}

/**
 * NodejsFunction falls back to bundling in Docker when it finds no local esbuild; steer53 never
 * wants that (slow, needs a daemon, a different esbuild): say what is missing instead.
 */
export function assertLocalEsbuild(root: string): void {
  try {
    createRequire(join(root, 'package.json')).resolve('esbuild');
  } catch (error) {
    throw new Steer53Error(
      'esbuild is not installed: run npm ci (it is a devDependency). steer53 bundles its functions with the local esbuild and never with Docker.',
      { cause: error },
    );
  }
}

/**
 * A function must not run before the policies that let it log and act are attached, so it depends
 * on them. CDK makes it depend on the whole role construct, which also writes a DependsOn on the
 * role itself: redundant beside the role's GetAtt (cfn-lint W3005). Written explicitly instead,
 * the shared controller policy included (CDK's dependency missed it).
 */
function dependOnPoliciesOnly(fn: nodejs.NodejsFunction, role: iam.Role, sharedPolicy: iam.Policy): void {
  const policies = [role.node.tryFindChild('DefaultPolicy'), sharedPolicy].map((policy) => policy?.node.defaultChild as CfnElement | undefined);
  const stack = Stack.of(fn);
  const ids = policies.filter((policy): policy is CfnElement => policy !== undefined).map((policy) => stack.resolve(policy.logicalId) as string);
  (fn.node.defaultChild as CfnResource).addOverride('DependsOn', ids);
}

/** The logical id of a construct's CloudFormation resource, as cdk-nag names it in findings. */
function logicalIdOf(construct: Construct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/**
 * Writes the validated config as JSON where the bundling hook can copy it into each function
 * package: the handlers read exactly what the app validated, with presets expanded and defaults
 * applied. Named by content hash, so a config change changes the asset.
 */
export function writeBundledConfig(dir: string, config: Config): string {
  const json = `${JSON.stringify(config, null, 2)}\n`;
  const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `steer53.config.${hash}.json`);
  writeFileSync(file, json);
  return file;
}
