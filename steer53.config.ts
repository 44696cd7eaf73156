/**
 * Example policy: a chat completion service served from three regions behind chat.example.com.
 * The CDK app, the CLI and the simulator read this file (or the one you name with --config).
 * Every setting not written here has the documented default (see functions/core/config.ts).
 */
import { defineConfig } from './functions/core/config.js';
import { presets } from './functions/core/presets.js';

function region(setIdentifier: string, region: string, baselineWeight: number, warmRps: number, role: 'active' | 'standby' | 'overflow' = 'active') {
  const endpointName = `chat-llama-70b-${region}`;
  return {
    setIdentifier,
    region,
    baselineWeight,
    role,
    capacity: { warmRps, targetUtilization: 0.85 },
    load: { namespace: 'AWS/SageMaker', metricName: 'Invocations', dimensions: { EndpointName: endpointName, VariantName: 'AllTraffic' }, statistic: 'Sum' },
    signals: [
      // p99 model latency: trip at 2.0 s, clear only under 1.5 s (between the two, nothing moves).
      presets.sagemakerModelLatency({ name: 'p99-latency', endpointName, trip: 2000, clear: 1500 }),
      // GPUs saturated: a queue is forming even if latency has not caught up yet.
      presets.sagemakerGpuUtilization({ name: 'gpu-utilization', endpointName, gpuCount: 8, trip: 95, clear: 80 }),
      // Errors mean the region is failing, not slow: drain rather than shed. The share of
      // invocations answered with a 5xx, judged each minute on its count (one failure in five
      // invocations proves nothing; 17% of 1,600 drains at once), and the team's 5xx alarm.
      presets.sagemakerErrorRate({ name: 'error-rate', endpointName, trip: 5, clear: 1 }),
      {
        name: 'error-alarm',
        source: 'alarm' as const,
        alarm: { name: `${endpointName}-5xx` },
        severity: 'fail' as const,
      },
    ],
  };
}

export default defineConfig({
  version: 1,
  services: [
    {
      name: 'chat',
      dnsName: 'chat.example.com',
      recordType: 'A',
      hostedZoneId: 'Z0123456789EXAMPLE',
      policy: {
        detection: { breachesToDegrade: 3, window: 5, breachesToDrain: 2, clearsToRecover: 5 },
        dwell: { minSeconds: 600, growthFactor: 2, maxSeconds: 3600 },
        recovery: { steps: [0.1, 0.25, 0.5, 1], holdSeconds: 300 },
        safety: { minHealthyEndpoints: 1, maxShiftPerEvaluation: 0.5, failStaticFraction: 0.5, failStaticAction: 'hold' },
      },
      endpoints: [region('us-east-1', 'us-east-1', 100, 120), region('eu-west-1', 'eu-west-1', 100, 120), region('ap-northeast-1', 'ap-northeast-1', 50, 60)],
      // A practice failover every Tuesday at 10:00 UTC, ended at once if the guard alarm fires
      // (docs/deploy.md, "Operating it"):
      // drills: [{ endpoint: 'ap-northeast-1', schedule: '0 10 * * 2', durationMinutes: 15, guardAlarm: { name: 'chat-global-5xx', region: 'us-east-1' } }],
    },
  ],
});
