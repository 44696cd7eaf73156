/**
 * Pacing wired into SDK clients: a middleware inside the retry loop (so every attempt, retries
 * included, takes its tokens, as AWS counts every attempt) that waits for the call's turn in the
 * invocation's token buckets before the request is sent.
 */
import type { ApiRates, PacedCost, Pacer, TokenBucket } from './pacing.js';

/** What of an SDK client this needs; every v3 client has it. */
interface Stacked {
  readonly middlewareStack: {
    add(
      middleware: (next: (args: { input: object }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: object }) => Promise<unknown>,
      options: object,
    ): void;
  };
}

/** Adds pacing to `client`: each attempt of a command waits for `costOf(command, input)` (no cost: no wait). */
export function pacedClient<C>(client: C, pacer: Pacer, costOf: (command: string, input: object) => PacedCost): C {
  (client as unknown as Stacked).middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const cost = costOf(command, args.input);
      if (cost.length > 0) await pacer.take(command, cost);
      return next(args);
    },
    // finalizeRequest at low priority runs inside the retry middleware (finalizeRequest, high).
    { step: 'finalizeRequest', priority: 'low', name: 'steer53Pacing' },
  );
  return client;
}

/** Route 53's two account buckets: every request takes one request token; a change batch also one change token per Change. */
export function route53Costs(pacer: Pacer, rates: ApiRates): (command: string, input: object) => PacedCost {
  const requests = pacer.bucket(rates.route53.requests);
  const changes = pacer.bucket(rates.route53.changes);
  return (command, input) => {
    const changed =
      command === 'ChangeResourceRecordSetsCommand' ? ((input as { ChangeBatch?: { Changes?: unknown[] } }).ChangeBatch?.Changes?.length ?? 0) : 0;
    return changed > 0
      ? [
          { bucket: requests, tokens: 1 },
          { bucket: changes, tokens: changed },
        ]
      : [{ bucket: requests, tokens: 1 }];
  };
}

/** One region's (and account's) CloudWatch buckets: GetMetricData and DescribeAlarms; other calls unpaced. */
export function cloudWatchCosts(pacer: Pacer, rates: ApiRates): (command: string, input: object) => PacedCost {
  const buckets: Record<string, TokenBucket> = {
    GetMetricDataCommand: pacer.bucket(rates.cloudWatch.getMetricData),
    DescribeAlarmsCommand: pacer.bucket(rates.cloudWatch.describeAlarms),
  };
  return (command) => {
    const bucket = buckets[command];
    return bucket ? [{ bucket, tokens: 1 }] : [];
  };
}
