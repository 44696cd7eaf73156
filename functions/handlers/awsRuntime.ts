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
import { AwsCapacityProvider } from '../adapters/aws/awsCapacityProvider.js';
import { CapacityClients } from '../adapters/aws/capacityClients.js';
import { BoundedRetryStrategy, CapacityRetryPolicy, Route53RetryPolicy } from '../adapters/aws/retryStrategy.js';
import { pacedClient, route53Costs } from '../adapters/aws/pacedClients.js';
import { AwsApiRates, Pacer, parseApiRates, type ApiRates } from '../adapters/aws/pacing.js';
import { DynamoStateStore } from '../adapters/aws/dynamoStateStore.js';
import { EventBridgePublisher } from '../adapters/aws/eventBridgePublisher.js';
import { Route53Weights } from '../adapters/aws/route53Weights.js';
import { Route53HealthChecks } from '../adapters/aws/route53HealthChecks.js';
import { SnsNotifier } from '../adapters/aws/snsNotifier.js';
import { DynamoTickClaims } from '../adapters/aws/dynamoTickClaims.js';
import type { Runtime } from '../app/runtime.js';
import { healthCheckReadsPerTick } from '../app/healthChecks.js';
import type { Clock } from '../ports/clock.js';
import type { EventPublisher } from '../ports/eventPublisher.js';
import type { MetricsSource } from '../ports/metrics.js';
import { checkBundledConfig } from '../config/bundledConfig.js';
import type { Log } from '../ports/log.js';

export interface Steer53Environment {
  readonly configPath: string;
  readonly tableName: string;
  readonly topicArn: string;
  readonly eventBusName: string;
  /** This function's share of the account's API rates (`STEER53_API_RATES`). @default the whole of AwsApiRates */
  readonly apiRates: ApiRates;
  /** The account the functions run in (STEER53_ACCOUNT_ID, set by the construct). */
  readonly accountId: string;
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
  const accountId = env.STEER53_ACCOUNT_ID ?? '';
  if (!/^\d{12}$/.test(accountId))
    problems.push({ path: 'STEER53_ACCOUNT_ID', message: accountId ? `"${accountId}" is not a 12-digit AWS account id` : 'is not set' });
  if (problems.length > 0 || !rates.ok) throw new ValidationError('environment', problems);
  return { configPath, tableName, topicArn, eventBusName, apiRates: rates.value, accountId };
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
  const metrics = new CloudWatchMetrics({
    clients: new CloudWatchClients({ sts, createClient: (c) => trace(new CloudWatchClient(c)), pacing: { pacer, rates } }),
  });
  const events = new EventBridgePublisher({ client: trace(new EventBridgeClient({})), eventBusName: environment.eventBusName });
  // The edge is where the wall clock may be read; everything inside gets time from this port.
  const clock: Clock = { now: () => Date.now() };
  const capacity = awsCapacityProvider(config, { metrics, events, clock, trace, ...deadline });
  return {
    config,
    dns: new Route53Weights({ client: route53 }),
    metrics,
    store: new DynamoStateStore({ client: dynamo, tableName: environment.tableName }),
    tickClaims: new DynamoTickClaims({ client: dynamo, tableName: environment.tableName }),
    notifier: new SnsNotifier({ client: trace(new SNSClient({})), topicArn: environment.topicArn }),
    events,
    clock,
    log: powertoolsLog(options.log),
    newId: randomUUID,
    account: environment.accountId,
    ...(capacity ? { capacity } : {}),
    // The records' health checks (their ids come with the weights): read only for endpoints drained
    // for failing or just restored, so a quiet service makes no call. GetHealthCheck (its result
    // kept a few minutes by the adapter) and GetHealthCheckStatus go through the weights' client:
    // paced in the same Route 53 buckets, retried alike.
    healthChecks: new Route53HealthChecks({ client: route53, now: clock.now }),
    // A tick spends at most about five seconds of this function's Route 53 rate on health checks
    // (a status read each, their configurations kept); more due than that are read in turns.
    options: { healthCheckReadsPerTick: healthCheckReadsPerTick(rates.route53.requests.perSecond) },
  };
}

/** What the capacity providers share with the rest of the runtime. */
export interface CapacityWiring {
  readonly metrics: MetricsSource;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly trace: <T>(client: T) => T;
  readonly deadline?: () => number | undefined;
}

/**
 * The capacity providers, when some endpoint of the config names one (`capacity.scaling`);
 * undefined otherwise, and then no client of theirs is ever built. Their clients are built per API
 * and region on first use, traced, and retried within the invocation's deadline.
 */
export function awsCapacityProvider(config: Pick<Config, 'services'>, wiring: CapacityWiring): AwsCapacityProvider | undefined {
  if (!config.services.some((s) => s.endpoints.some((e) => e.capacity.scaling !== undefined))) return undefined;
  const retry = () => ({
    maxAttempts: CapacityRetryPolicy.maxAttempts,
    retryStrategy: new BoundedRetryStrategy({ ...CapacityRetryPolicy, ...(wiring.deadline ? { deadline: wiring.deadline } : {}) }),
  });
  const clients = new CapacityClients({
    sageMaker: (sdk, region) => wiring.trace(new sdk.SageMakerClient({ region, ...retry() })),
    applicationAutoScaling: (sdk, region) => wiring.trace(new sdk.ApplicationAutoScalingClient({ region, ...retry() })),
    ecs: (sdk, region) => wiring.trace(new sdk.ECSClient({ region, ...retry() })),
    autoScaling: (sdk, region) => wiring.trace(new sdk.AutoScalingClient({ region, ...retry() })),
  });
  return new AwsCapacityProvider({ clients, metrics: wiring.metrics, events: wiring.events, clock: wiring.clock, services: config.services });
}

/**
 * The use cases' log on Powertools' logger. The logger owns the `service` key (its own service name,
 * `steer53`): a `service` in the extra data is dropped with a warning, so the steer53 service the
 * use cases name goes out as `steer53Service`.
 */
export function powertoolsLog(logger: Log): Log {
  const renamed = (extra: Record<string, unknown>[]) =>
    extra.map((fields) => {
      if (!Object.hasOwn(fields, 'service')) return fields;
      const { service, ...rest } = fields;
      return { steer53Service: service, ...rest };
    });
  return {
    debug: (message, ...extra) => logger.debug(message, ...renamed(extra)),
    info: (message, ...extra) => logger.info(message, ...renamed(extra)),
    warn: (message, ...extra) => logger.warn(message, ...renamed(extra)),
    error: (message, ...extra) => logger.error(message, ...renamed(extra)),
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
