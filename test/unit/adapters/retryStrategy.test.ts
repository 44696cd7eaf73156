/**
 * The AWS clients' retry strategy: which errors are retried, how long each wait may be, and that
 * no retry starts that could outlast the invocation. Then, with a Route 53 client answering over
 * HTTP as Route 53 does, that the SDK itself classifies Route 53's throttling errors as retryable.
 */
import { Readable } from 'node:stream';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import {
  BoundedRetryStrategy,
  DEADLINE_MARGIN_MS,
  Route53RetryPolicy,
  type BoundedRetryStrategyOptions,
} from '../../../functions/adapters/aws/retryStrategy.js';
import { testCredentials } from '../../support/belowRetries.js';

type ErrorType = 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR';

/** The waits the strategy asks for, retry after retry, until it refuses (then how many attempts were made). */
async function waits(options: BoundedRetryStrategyOptions, errorType: ErrorType = 'THROTTLING'): Promise<{ delays: number[]; attempts: number }> {
  const strategy = new BoundedRetryStrategy(options);
  let token = await strategy.acquireInitialRetryToken('');
  const delays: number[] = [];
  for (;;) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType });
    } catch {
      return { delays, attempts: token.getRetryCount() + 1 };
    }
    delays.push(token.getRetryDelay());
  }
}

describe('Class: BoundedRetryStrategy', () => {
  it.each<[string, ErrorType, number]>([
    ['retries throttling errors', 'THROTTLING', 4],
    ['retries transient errors (5xx, timeouts, resets)', 'TRANSIENT', 4],
    ['does not retry other server errors', 'SERVER_ERROR', 1],
    ['does not retry client errors (AccessDenied, InvalidInput)', 'CLIENT_ERROR', 1],
  ])('%s', async (_name, errorType, attempts) => {
    expect((await waits({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 }, errorType)).attempts).toBe(attempts);
  });

  it('waits with exponential backoff and full jitter', async () => {
    expect(await waits({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 })).toEqual({ delays: [50, 100, 200], attempts: 4 });
  });

  it('caps each wait', async () => {
    expect((await waits({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
  });

  it('waits at most 6.2 s in all for Route 53, far within a handler timeout', async () => {
    const { delays, attempts } = await waits({ ...Route53RetryPolicy, random: () => 0.999999 });
    expect(attempts).toBe(6);
    expect(delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6200);
  });

  it('starts no retry whose longest wait would end within the margin of the deadline', async () => {
    const now = 10_000;
    // The first wait may be up to 200 ms, the second 400 ms: 200 + margin fits, 400 + margin not.
    const deadline = now + DEADLINE_MARGIN_MS + 300;
    expect(await waits({ ...Route53RetryPolicy, random: () => 0, now: () => now, deadline: () => deadline })).toEqual({ delays: [0], attempts: 2 });
  });

  it('retries as usual outside an invocation (no deadline)', async () => {
    expect((await waits({ ...Route53RetryPolicy, random: () => 0, deadline: () => undefined })).attempts).toBe(6);
  });
});

/** An HTTP response as Route 53 sends it. */
function route53Response(statusCode: number, xml: string) {
  return { response: { statusCode, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(xml)]) } };
}

const failed = (code: string, message = 'Rate exceeded') =>
  route53Response(
    400,
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>0c3b5f1a-0000-4000-8000-000000000000</RequestId></ErrorResponse>`,
  );
const changed = () =>
  route53Response(
    200,
    '<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C2</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>',
  );

describe("The SDK's classification of Route 53 errors", () => {
  it.each(['Throttling', 'PriorRequestNotComplete'])('retries a %s response from Route 53 and returns the answer that follows', async (code) => {
    const responses = [failed(code), failed(code), changed()];
    const client = new Route53Client({
      region: 'us-east-1',
      credentials: testCredentials,
      maxAttempts: 4,
      retryStrategy: new BoundedRetryStrategy({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 }),
      requestHandler: { handle: async () => responses.shift()! },
    });
    const output = await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: 'Z0123456789EXAMPLE',
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'chat.example.com.', Type: 'A', SetIdentifier: 'a', Weight: 5 } }] },
      }),
    );
    expect(output.ChangeInfo?.Id).toBe('/change/C2');
    expect(output.$metadata.attempts).toBe(3);
    expect(responses).toHaveLength(0);
  });

  it('gives up on InvalidInput at once', async () => {
    const responses = [failed('InvalidInput', 'Invalid XML ; cvc-complex-type.2.4.b'), changed()];
    const client = new Route53Client({
      region: 'us-east-1',
      credentials: testCredentials,
      retryStrategy: new BoundedRetryStrategy({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 }),
      requestHandler: { handle: async () => responses.shift()! },
    });
    const error = await client
      .send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z0123456789EXAMPLE', ChangeBatch: { Changes: [] } }))
      .catch((e: unknown) => e as { name: string; $metadata: { attempts: number } });
    expect(error).toMatchObject({ name: 'InvalidInput', $metadata: { attempts: 1 } });
    expect(responses).toHaveLength(1);
  });
});
