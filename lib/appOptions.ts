/**
 * What bin/app.ts deploys, from three sources: the policy config, an optional infrastructure file
 * (`steer53.infra.ts`: subscriptions, publishers, native deployment sources, managed records,
 * health checks; typed with `defineInfrastructure`), and `-c key=value` context for the few
 * settings one changes per environment. Context wins over the file, the file over defaults.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../functions/core/config.js';
import { Steer53Error } from '../functions/core/errors.js';
import type { Steer53StacksOptions } from './steer53Stacks.js';

/** Everything of a deployment except the policy config, as written in `steer53.infra.ts`. */
export type InfrastructureOptions = Omit<Steer53StacksOptions, 'config' | 'region'> & {
  /** The controller's region. @default context `region`, else CDK_DEFAULT_REGION, else 'us-east-1' */
  readonly region?: string;
};

/** Types a `steer53.infra.ts` (default export). */
export function defineInfrastructure(options: InfrastructureOptions): InfrastructureOptions {
  return options;
}

/** The infrastructure file bin/app.ts reads when `-c infra=` is not given and the file exists. */
export const DefaultInfrastructureFile = 'steer53.infra.ts';

/** Imports an infrastructure file (TypeScript or JavaScript module with a default export). */
export async function loadInfrastructureFile(path: string): Promise<InfrastructureOptions> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new Steer53Error(`The infrastructure file ${path} does not exist.`);
  const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  if (module.default === null || typeof module.default !== 'object' || Array.isArray(module.default)) {
    throw new Steer53Error(`The infrastructure file ${path} needs a default export: export default defineInfrastructure({ ... }).`);
  }
  return module.default as InfrastructureOptions;
}

/** A comma-separated context value (or a JSON array given through cdk.json) as a list. */
export function contextList(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export interface AppInputs {
  readonly config: Config;
  /** Context lookup (`app.node.tryGetContext`). */
  readonly context: (key: string) => unknown;
  /** The CDK CLI's environment (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly infrastructure: InfrastructureOptions;
}

/** The options for `addSteer53Stacks`: context over the infrastructure file over defaults. */
export function resolveAppOptions({ config, context, env, infrastructure }: AppInputs): Steer53StacksOptions {
  const text = (key: string): string | undefined => {
    const value = context(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const region = text('region') ?? infrastructure.region ?? env.CDK_DEFAULT_REGION ?? 'us-east-1';
  const account = text('account') ?? infrastructure.account ?? env.CDK_DEFAULT_ACCOUNT;
  const name = text('name') ?? infrastructure.name;
  const emails = contextList(context('notifyEmails'));
  const urls = contextList(context('notifyHttpsUrls'));
  const accountIds = contextList(context('deploymentAccounts'));
  const principalArns = contextList(context('deploymentPrincipals'));
  const publishers = infrastructure.deploymentEventPublishers;
  return {
    ...infrastructure,
    config,
    region,
    ...(account ? { account } : {}),
    ...(name ? { name } : {}),
    notifications: {
      emails: emails ?? infrastructure.notifications?.emails ?? [],
      httpsUrls: urls ?? infrastructure.notifications?.httpsUrls ?? [],
    },
    ...(accountIds || principalArns || publishers
      ? {
          deploymentEventPublishers: {
            accountIds: accountIds ?? publishers?.accountIds ?? [],
            principalArns: principalArns ?? publishers?.principalArns ?? [],
          },
        }
      : {}),
  };
}
