/**
 * aws-sdk-client-mock replaces a client's `send`, so the SDK's middleware, its retries included,
 * never runs. To test what the SDK's retry strategy does, the client under test keeps its real
 * `send`, and its commands are answered by another, mocked client from inside the middleware stack,
 * below the retry middleware: every attempt reaches the mock (`commandCalls` counts attempts), and
 * what the mock throws is classified and retried by the SDK as a real service error would be.
 */
import type { BoundedRetryStrategy } from '../../functions/adapters/aws/retryStrategy.js';

/** What of an SDK client this needs; every v3 client has both. */
interface Stacked {
  readonly middlewareStack: {
    add(middleware: (next: unknown, context: { commandName?: string }) => (args: { input: object }) => Promise<unknown>, options: object): void;
  };
}
interface Sending {
  send(command: object): Promise<object>;
}
type CommandClass = new (input: never) => object;

/**
 * Answers `client`'s commands with `answering`'s (a client mocked with aws-sdk-client-mock), after
 * the client's retry middleware. `commands` names the command classes the client may send.
 */
export function answerBelowRetries<C extends Stacked>(client: C, answering: Sending, commands: readonly CommandClass[]): C {
  const byName = new Map(commands.map((command) => [command.name, command]));
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = byName.get(String(context.commandName));
      if (!command) throw new Error(`answerBelowRetries: no command class given for ${String(context.commandName)}`);
      const output = await answering.send(new command(args.input as never));
      return { output: { $metadata: {}, ...output }, response: {} };
    },
    // The deserialize step runs inside finalizeRequest, where the retry middleware is.
    { step: 'deserialize', priority: 'high', name: 'steer53AnswerBelowRetries' },
  );
  return client;
}

/** Static credentials, so that the SDK can sign requests that never leave the process. */
export const testCredentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } as const;

/**
 * The strategy's decisions, with every wait it asks for recorded in `waits` instead of slept: the
 * SDK's retry middleware sleeps for the token's delay, and tests must not.
 */
export function recordingWaits(strategy: BoundedRetryStrategy, waits: number[]): BoundedRetryStrategy {
  const recording = Object.create(strategy) as BoundedRetryStrategy;
  recording.refreshRetryTokenForRetry = async (token, errorInfo) => {
    const next = await strategy.refreshRetryTokenForRetry(token, errorInfo);
    waits.push(next.getRetryDelay());
    return { getRetryCount: () => next.getRetryCount(), getRetryDelay: () => 0 };
  };
  return recording;
}
