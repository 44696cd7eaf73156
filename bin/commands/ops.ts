/**
 * What the operator commands share (`status`, `history`, `plan`, `freeze`, `unfreeze`,
 * `override`, `drain`, `undrain`): the service named on the command line, looked up in the
 * config; the controller's DynamoDB table (`--table`, or STEER53_TABLE_NAME); the AWS clients,
 * built with the normal credential chain (the tests pass their own); and who the operator is.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ServiceConfig, ValidationProblem } from '../../functions/core/config.js';
import { ValidationError } from '../../functions/core/errors.js';
import { loadConfigFile } from '../../functions/config/loadConfig.js';
import { DynamoStateStore } from '../../functions/adapters/aws/dynamoStateStore.js';

/** Where an operator command writes, and the clients and clock it uses (the tests pass their own). */
export interface OpsIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** @default new DynamoDBClient({ region }) */
  readonly dynamo?: (region: string | undefined) => DynamoDBClient;
  /** @default new STSClient({ region }) */
  readonly sts?: (region: string | undefined) => STSClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Options every operator command takes. */
export const OPS_OPTIONS = {
  table: { type: 'string' },
  region: { type: 'string' },
  config: { type: 'string', default: 'steer53.config.ts' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const OPS_USAGE_TAIL = '[--table <name>] [--region <r>] [--config <file>] [--json]';

/** Bad arguments: every problem, then the usage; exit code 2. */
export function usageError(io: Pick<OpsIo, 'err'>, usage: string, problems: readonly ValidationProblem[]): number {
  for (const p of problems) io.err(`${p.path}: ${p.message}`);
  io.err(`usage: ${usage}`);
  return 2;
}

export interface ParsedOps {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Parses the command's arguments; a malformed one is a usage error (undefined, already reported). */
export function parseOps(args: string[], extra: NonNullable<ParseArgsConfig['options']>, io: OpsIo, usage: string): ParsedOps | undefined {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...OPS_OPTIONS, ...extra }, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    usageError(io, usage, [{ path: '(arguments)', message: (error as Error).message }]);
    return undefined;
  }
}

/** The one `<service>` a read command takes: a problem when none or several are named. */
export function checkOneService(positionals: readonly string[], problems: ValidationProblem[]): void {
  if (positionals.length === 1) return;
  problems.push({
    path: '<service>',
    message: positionals.length === 0 ? 'is required' : `name one service (got ${positionals.map((p) => `"${p}"`).join(' ')})`,
  });
}

/** The table: `--table`, else STEER53_TABLE_NAME; checked like the handlers check it. */
export function tableOf(values: ParsedOps['values'], io: OpsIo, problems: ValidationProblem[]): string {
  const table = (values.table as string | undefined) ?? (io.env ?? process.env).STEER53_TABLE_NAME ?? '';
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(table)) {
    problems.push({
      path: '--table',
      message: table ? `"${table}" is not a DynamoDB table name` : 'is required (or set STEER53_TABLE_NAME): the table the TrafficController construct created',
    });
  }
  return table;
}

/** The service of that name in the config file, or a ValidationError listing the ones there are. */
export async function serviceOf(configPath: string, name: string): Promise<ServiceConfig> {
  const config = await loadConfigFile(configPath);
  const service = config.services.find((s) => s.name === name);
  if (!service)
    throw new ValidationError(configPath, [
      { path: '(service)', message: `has no service "${name}" (services: ${config.services.map((s) => s.name).join(', ')})` },
    ]);
  return service;
}

/** False, with the message said, when the table's client has no region to call. */
export async function tableRegionReady(io: OpsIo, command: string, region: string | undefined): Promise<boolean> {
  if (await hasRegion(io.dynamo?.(region) ?? new DynamoDBClient(region ? { region } : {}))) return true;
  io.err(noRegionMessage(command));
  return false;
}

export function stateStoreOf(io: OpsIo, table: string, region: string | undefined): DynamoStateStore {
  const client = io.dynamo?.(region) ?? new DynamoDBClient(region ? { region } : {});
  return new DynamoStateStore({ client, tableName: table });
}

/** What every AWS command says when no region is configured: the SDK's own error ("Region is missing") names neither the flag nor the variable. */
export function noRegionMessage(command: string): string {
  return `steer53 ${command}: no AWS region is configured; pass --region <region>, or set AWS_REGION (or a region in your AWS profile)`;
}

/**
 * Whether the client has a region: the SDK resolves it from the client's options, AWS_REGION or the
 * profile, and its region provider rejects when none of them gives one. Asked before the first call,
 * so a missing region is reported as such and not as a credentials problem.
 */
export async function hasRegion(client: { readonly config: { readonly region: () => Promise<string> } }): Promise<boolean> {
  try {
    return (await client.config.region()).length > 0;
  } catch {
    return false;
  }
}

/** The operator's IAM principal, as AWS knows it, for the audit log; undefined (reported) when it cannot be told. */
export async function callerOf(io: Pick<OpsIo, 'err' | 'sts'>, region: string | undefined, command: string): Promise<string | undefined> {
  const sts = io.sts?.(region) ?? new STSClient(region ? { region } : {});
  if (!(await hasRegion(sts))) {
    io.err(noRegionMessage(command));
    return undefined;
  }
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    return identity.Arn ?? identity.UserId ?? 'unknown';
  } catch (error) {
    io.err(`steer53 ${command}: cannot tell who you are (sts:GetCallerIdentity failed: ${(error as Error).message}); check your AWS credentials`);
    return undefined;
  }
}

/** A short AWS failure for people: the error's name and message, and what to check. */
export function awsFailure(io: OpsIo, command: string, what: string, error: unknown): number {
  const e = error as Error;
  io.err(`steer53 ${command}: could not ${what}: ${e.name}: ${e.message}`);
  return 1;
}
