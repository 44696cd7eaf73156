/**
 * Shared fixtures for the runtime tests: a small validated config, and a runtime built from the
 * in-memory adapters with a manual clock and counting ids.
 */
import { validateConfig } from '../../../functions/config/loadConfig.js';
import type { Config, ServiceConfig } from '../../../functions/core/config.js';
import {
  CollectingEventPublisher,
  CollectingNotifier,
  InMemoryDnsWeights,
  InMemoryMetrics,
  InMemoryStateStore,
  ManualClock,
} from '../../../functions/adapters/memory/index.js';
import type { Runtime, RuntimeOptions } from '../../../functions/app/runtime.js';
import type { Log } from '../../../functions/ports/log.js';
import type { StateStore } from '../../../functions/ports/stateStore.js';
import type { DnsWeights } from '../../../functions/ports/dnsWeights.js';
import type { MetricsSource } from '../../../functions/ports/metrics.js';
import type { Notifier } from '../../../functions/ports/notifier.js';
import type { EventPublisher } from '../../../functions/ports/eventPublisher.js';
import { recordSetOf } from '../../../functions/app/evaluateService.js';

/** 2026-01-01T00:10:30Z: the judged period (60 s delay) is 00:08:00–00:09:00. */
export const T0 = Date.UTC(2026, 0, 1, 0, 10, 30);
export const MINUTE = 60_000;
/** Start of the period judged at `now` with the default 60 s metric delay and 60 s periods. */
export function judgedStart(now: number): number {
  return Math.floor((now - MINUTE) / MINUTE) * MINUTE - MINUTE;
}

export const ZONE = 'Z0123456789EXAMPLE';
/** The account the test controller runs in (the handler fixtures' events come from it). */
export const ACCOUNT = '123456789012';

function endpoint(setIdentifier: string, region: string, extra: Record<string, unknown> = {}) {
  return {
    setIdentifier,
    region,
    baselineWeight: 100,
    signals: [
      {
        name: 'p99-latency',
        source: 'metric',
        metric: {
          namespace: 'AWS/SageMaker',
          metricName: 'ModelLatency',
          dimensions: { EndpointName: `chat-${region}`, VariantName: 'AllTraffic' },
          statistic: 'p99',
        },
        unit: 'ms',
        scale: 0.001,
        trip: 2000,
        clear: 1500,
      },
      { name: 'error-alarm', source: 'alarm', alarm: { name: `chat-${region}-5xx` }, severity: 'fail' },
    ],
    ...extra,
  };
}

export const rawConfig = {
  version: 1,
  services: [
    {
      name: 'chat',
      dnsName: 'chat.example.com',
      hostedZoneId: ZONE,
      policy: {
        detection: { breachesToDegrade: 3, window: 3, breachesToDrain: 2, clearsToRecover: 3 },
        dwell: { minSeconds: 0, maxSeconds: 0 },
        recovery: { steps: [0.5, 1], holdSeconds: 0 },
        safety: { maxShiftPerEvaluation: 1, failStaticFraction: 0.5 },
        deadbandWeight: 1,
      },
      endpoints: [endpoint('us-east-1', 'us-east-1'), endpoint('eu-west-1', 'eu-west-1'), endpoint('ap-northeast-1', 'ap-northeast-1')],
    },
  ],
};

type EditableEndpoint = Record<string, unknown> & { setIdentifier: string; signals: Record<string, unknown>[] };
export interface EditableRawConfig {
  services: (Record<string, unknown> & { endpoints: EditableEndpoint[] })[];
}

/** A copy of `rawConfig` a test may edit before validating it (the shape of a config file, loosely typed). */
export function editableRawConfig(): EditableRawConfig {
  return structuredClone(rawConfig) as never;
}

export function testConfig(raw: unknown = rawConfig): Config {
  return validateConfig(structuredClone(raw), 'test config');
}

export interface CollectedLog extends Log {
  readonly lines: { level: string; message: string; extra: Record<string, unknown>[] }[];
}

export function collectingLog(): CollectedLog {
  const lines: CollectedLog['lines'] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      void lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface MemoryWorld {
  readonly config: Config;
  readonly service: ServiceConfig;
  readonly clock: ManualClock;
  readonly dns: InMemoryDnsWeights;
  readonly metrics: InMemoryMetrics;
  readonly store: InMemoryStateStore;
  readonly notifier: CollectingNotifier;
  readonly events: CollectingEventPublisher;
  readonly log: CollectedLog;
  runtime(
    overrides?: Partial<{ store: StateStore; dns: DnsWeights; metrics: MetricsSource; notifier: Notifier; events: EventPublisher; options: RuntimeOptions }>,
  ): Runtime;
  /** Feeds one period of p99 latency (ms) per endpoint, with enough samples, and every alarm OK. */
  feed(periodStart: number, latencyMs: Readonly<Record<string, number | null>>, sampleCount?: number): void;
}

export function memoryWorld(config: Config = testConfig(), start = T0): MemoryWorld {
  const service = config.services[0]!;
  const clock = new ManualClock(start);
  const dns = new InMemoryDnsWeights({ clock });
  for (const s of config.services) dns.defineRecordSet(recordSetOf(s), Object.fromEntries(s.endpoints.map((e) => [e.setIdentifier, e.baselineWeight])));
  const metrics = new InMemoryMetrics();
  for (const s of config.services) {
    for (const e of s.endpoints)
      for (const sig of e.signals) if (sig.source === 'alarm') metrics.setAlarmState({ name: sig.alarm.name!, region: sig.alarm.region ?? e.region }, 'OK');
  }
  const store = new InMemoryStateStore();
  const notifier = new CollectingNotifier();
  const events = new CollectingEventPublisher();
  const log = collectingLog();
  let id = 0;
  return {
    config,
    service,
    clock,
    dns,
    metrics,
    store,
    notifier,
    events,
    log,
    runtime: (overrides = {}) => ({
      config,
      dns: overrides.dns ?? dns,
      metrics: overrides.metrics ?? metrics,
      store: overrides.store ?? store,
      notifier: overrides.notifier ?? notifier,
      events: overrides.events ?? events,
      clock,
      log,
      newId: () => `id-${String(++id).padStart(4, '0')}`,
      account: ACCOUNT,
      ...(overrides.options ? { options: overrides.options } : {}),
    }),
    feed(periodStart, latencyMs, sampleCount = 5000) {
      for (const [id, ms] of Object.entries(latencyMs)) {
        if (ms === null) continue;
        // ModelLatency is in microseconds.
        metrics.recordSignal(service, id, 'p99-latency', periodStart, { value: ms * 1000, sampleCount });
      }
    },
  };
}
