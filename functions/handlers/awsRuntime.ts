/**
 * The edge where the Lambda functions meet AWS: the environment is read and checked here (and only
 * here), the config is loaded and validated once per cold start, and the AWS adapters are built
 * with their SDK clients.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Config } from '../core/config.js';
import type { ValidationProblem } from '../core/validationProblems.js';
import { ValidationError } from '../core/errors.js';
import { CloudWatchClients } from '../adapters/aws/cloudWatchClients.js';
import { CloudWatchMetrics } from '../adapters/aws/cloudWatchMetrics.js';
import { BoundedRetryStrategy, Route53RetryPolicy } from '../adapters/aws/retryStrategy.js';
import { pacedClient, route53Costs } from '../adapters/aws/pacedClients.js';
import { AwsApiRates, Pacer, parseApiRates, type ApiRates } from '../adapters/aws/pacing.js';
import { DynamoStateStore } from '../adapters/aws/dynamoStateStore.js';
import { EventBridgePublisher } from '../adapters/aws/eventBridgePublisher.js';
import { Route53Weights } from '../adapters/aws/route53Weights.js';
import { SnsNotifier } from '../adapters/aws/snsNotifier.js';
import { DynamoTickClaims } from '../adapters/aws/dynamoTickClaims.js';
import type { Runtime } from '../app/runtime.js';
import { checkBundledConfig } from '../config/bundledConfig.js';
import type { Log } from '../ports/log.js';

export interface Steer53Environment {
  readonly configPath: string;
  readonly tableName: string;
  readonly topicArn: string;
  readonly eventBusName: string;
  /** This function's share of the account's API rates (`STEER53_API_RATES`). @default the whole of AwsApiRates */
  readonly apiRates: ApiRates;
}

/** Reads steer53's environment variables; every missing or malformed one is reported at once. */
export function readEnvironment(env: Readonly<Record<string, string | undefined>>): Steer53Environment {
  const problems: ValidationProblem[] = [];
  const configPath = env.STEER53_CONFIG_PATH || (env.LAMBDA_TASK_ROOT ? `${env.LAMBDA_TASK_ROOT}/steer53.config.json` : '');
  if (!configPath) problems.push({ path: 'STEER53_CONFIG_PATH', message: 'is not set (and LAMBDA_TASK_ROOT is not set to default it)' });
  const tableName = env.STEER53_TABLE_NAME ?? '';
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName))
    problems.push({ path: 'STEER53_TABLE_NAME', message: tableName ? `"${tableName}" is not a DynamoDB table name` : 'is not set' });
  const topicArn = env.STEER53_TOPIC_ARN ?? '';
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(topicArn))
    problems.push({ path: 'STEER53_TOPIC_ARN', message: topicArn ? `"${topicArn}" is not an SNS topic ARN` : 'is not set' });
  const eventBusName = env.STEER53_EVENT_BUS_NAME || 'default';
  const rates = env.STEER53_API_RATES ? parseApiRates(env.STEER53_API_RATES) : { ok: true as const, value: AwsApiRates };
  if (!rates.ok) problems.push(...rates.problems.map((p) => ({ path: `STEER53_API_RATES ${p.path}`, message: p.message })));
  if (problems.length > 0 || !rates.ok) throw new ValidationError('environment', problems);
  return { configPath, tableName, topicArn, eventBusName, apiRates: rates.value };
}

export interface AwsRuntimeOptions {
  readonly log: Log;
  /** Traces every SDK client when given (X-Ray subsegments per AWS call). */
  readonly tracer?: Tracer;
  /** When the invocation in progress will be stopped (epoch ms): Route 53 calls are retried only while a retry can end before it. */
  readonly deadline?: () => number | undefined;
}

export async function createAwsRuntime(environment: Steer53Environment, options: AwsRuntimeOptions): Promise<Runtime> {
  const config = await loadJsonConfig(environment.configPath);
  const trace = <T>(client: T): T => (options.tracer ? options.tracer.captureAWSv3Client(client) : client);
  // Route 53 throttles hard (Throttling, PriorRequestNotComplete): more attempts than the SDK's
  // default three, with shorter waits than its 1-20 s throttling backoff, and none past the deadline.
  const deadline = options.deadline ? { deadline: options.deadline } : {};
  // One pacer per execution environment: it runs one invocation at a time, so every call of an
  // invocation shares its buckets (the construct gives each function its share of the account's).
  const pacer = new Pacer(deadline);
  const rates = environment.apiRates;
  const route53 = pacedClient(
    trace(
      new Route53Client({
        maxAttempts: Route53RetryPolicy.maxAttempts,
        retryStrategy: new BoundedRetryStrategy({ ...Route53RetryPolicy, ...deadline }),
      }),
    ),
    pacer,
    route53Costs(pacer, rates),
  );
  const sts = trace(new STSClient({}));
  const dynamo = trace(new DynamoDBClient({}));
  return {
    config,
    dns: new Route53Weights({ client: route53 }),
    metrics: new CloudWatchMetrics({
      clients: new CloudWatchClients({ sts, createClient: (c) => trace(new CloudWatchClient(c)), pacing: { pacer, rates } }),
    }),
    store: new DynamoStateStore({ client: dynamo, tableName: environment.tableName }),
    tickClaims: new DynamoTickClaims({ client: dynamo, tableName: environment.tableName }),
    notifier: new SnsNotifier({ client: trace(new SNSClient({})), topicArn: environment.topicArn }),
    events: new EventBridgePublisher({ client: trace(new EventBridgeClient({})), eventBusName: environment.eventBusName }),

    // The edge is where the wall clock may be read; everything inside gets time from this port.
    clock: { now: () => Date.now() },
    log: options.log,
    newId: randomUUID,
  };
}

/**
 * Reads the JSON config the construct copies next to the bundle: the config schema's output,
 * validated in full by the CDK app, so only its structure is checked here (functions/config/
 * bundledConfig.ts says what that covers). JSON only: the typed and YAML forms are for the CLI and
 * the CDK app, and leaving their loaders and the config schema out keeps the bundle small.
 */
export async function loadJsonConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }], { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `is not valid JSON: ${(error as Error).message}` }], { cause: error });
  }
  const result = checkBundledConfig(raw);
  if (!result.ok) throw new ValidationError(path, result.problems);
  return result.value;
}

/** Builds the runtime once and reuses it; a failed build is tried again on the next call. */
export function once<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
