/**
 * One CloudWatch client per region and account role: CloudWatch is regional, and metrics of
 * another account are read with credentials from STS AssumeRole on that account's role. Clients
 * are created once per cold start and reused.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

interface AssumedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type CredentialProvider = () => Promise<AssumedCredentials>;
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { AwsCallError, isTransientAwsError, MissingStsClientError } from './errors.js';
import { cloudWatchCosts, pacedClient } from './pacedClients.js';
import type { ApiRates, Pacer } from './pacing.js';

export interface CloudWatchClientsOptions {
  /** STS client used to assume account roles; required only when a signal names `accountRoleArn`. */
  readonly sts?: STSClient;
  /** RoleSessionName for assumed roles (shows in the other account's CloudTrail). @default 'steer53' */
  readonly sessionName?: string;
  /** Builds a client; tests pass one returning mocked clients. @default new CloudWatchClient(config) */
  readonly createClient?: (config: { region: string; credentials?: CredentialProvider }) => CloudWatchClient;
  /**
   * Paces each client's GetMetricData and DescribeAlarms calls to the rates, with buckets of its
   * own: CloudWatch's quotas are per account and region. @default not paced
   */
  readonly pacing?: { readonly pacer: Pacer; readonly rates: ApiRates };
}

export class CloudWatchClients {
  readonly #clients = new Map<string, CloudWatchClient>();
  readonly #options: CloudWatchClientsOptions;

  constructor(options: CloudWatchClientsOptions = {}) {
    this.#options = options;
  }

  /** The client for a region, in this account or (with `roleArn`) in the role's account. */
  clientFor(region: string, roleArn?: string): CloudWatchClient {
    const key = `${region}|${roleArn ?? ''}`;
    let client = this.#clients.get(key);
    if (!client) {
      const create = this.#options.createClient ?? ((config) => new CloudWatchClient(config));
      client = create(roleArn ? { region, credentials: this.#assumeRole(roleArn) } : { region });
      const pacing = this.#options.pacing;
      if (pacing) client = pacedClient(client, pacing.pacer, cloudWatchCosts(pacing.pacer, pacing.rates));
      this.#clients.set(key, client);
    }
    return client;
  }

  /** A credential provider for the role; the SDK caches its answer until shortly before `expiration`. */
  #assumeRole(roleArn: string): CredentialProvider {
    return async (): Promise<AssumedCredentials> => {
      const sts = this.#options.sts;
      if (!sts) throw new MissingStsClientError(roleArn);
      const context = { operation: 'sts:AssumeRole', target: roleArn };
      let answer: AssumeRoleCommandOutput;
      try {
        answer = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: this.#options.sessionName ?? 'steer53' }));
      } catch (error) {
        throw new AwsCallError(context, error, isTransientAwsError(error));
      }
      const c = answer.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new AwsCallError(context, 'AssumeRole returned no credentials', false);
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken !== undefined ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration !== undefined ? { expiration: c.Expiration } : {}),
      };
    };
  }
}
