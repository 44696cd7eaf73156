/**
 * `steer53 demo`: the real engine, driven through a scripted incident on the example config —
 * eu-west-1's p99 climbs past its trip threshold for half an hour, then recovers — printing the
 * timeline of weights and reasons. No AWS, no simulator: just the decisions.
 */
import { decide } from '../../functions/core/engine.js';
import type { ServiceConfig } from '../../functions/core/config.js';
import type { EndpointObservations, ServiceState, Weights } from '../../functions/core/types.js';
import { loadConfigFile } from '../../functions/config/loadConfig.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1, 12, 0, 0);

/** p99 in ms the script gives each region at minute `m`. */
function scriptedP99(region: string, m: number): number {
  if (region === 'eu-west-1' && m >= 10 && m < 40) return m < 14 ? 1800 + (m - 10) * 250 : 2600;
  return 900 + ((m * 37) % 200);
}

export async function runDemo(configPath: string, out: (line: string) => void): Promise<void> {
  const config = await loadConfigFile(configPath);
  const service: ServiceConfig = config.services[0]!;
  const ids = service.endpoints.map((e) => e.setIdentifier);
  let state: ServiceState | undefined;
  let weights: Weights = Object.fromEntries(service.endpoints.map((e) => [e.setIdentifier, e.baselineWeight]));
  out(`steer53 demo: ${service.dnsName} (${ids.join(', ')}), eu-west-1 slows down from minute 10 to 40`);
  const printed = new Set<string>();
  out(`minute  ${ids.map((id) => id.padStart(15)).join('')}   what happened`);
  for (let m = 0; m <= 120; m++) {
    const now = START + m * MINUTE;
    const endpoints: Record<string, EndpointObservations> = {};
    const totalWeight = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
    for (const e of service.endpoints) {
      const share = (weights[e.setIdentifier] ?? 0) / totalWeight;
      const rps = 150 * share;
      const signals: Record<string, EndpointObservations['signals'][string]> = {};
      for (const signal of e.signals) {
        if (signal.source === 'alarm') signals[signal.name] = { alarmState: 'OK' };
        else if (signal.metric.metricName === 'ModelLatency')
          signals[signal.name] = { value: scriptedP99(e.region, m) * 1000, sampleCount: Math.round(rps * 60) };
        else signals[signal.name] = { value: Math.min(100, (rps / (e.capacity.warmRps ?? 100)) * 70) * 8 };
      }
      endpoints[e.setIdentifier] = { signals, requestRate: rps };
    }
    const { decision, nextState } = decide(service, { now, observations: { periodStart: now - 2 * MINUTE, endpoints }, state, currentWeights: weights });
    state = nextState;
    // Print what changed, and each kind of hold or refusal the first time it appears.
    const events = [...decision.reasons, ...decision.blocked].filter((r) => {
      const key = `${r.code} ${r.endpoint ?? ''}`;
      const seen = printed.has(key);
      printed.add(key);
      return decision.changes.length > 0 || decision.transitions.length > 0 || !seen;
    });
    if (events.length > 0 || decision.changes.length > 0) {
      weights = { ...decision.targetWeights };
      const row = ids.map((id) => String(weights[id]).padStart(15)).join('');
      out(
        `${String(m).padStart(6)}  ${row}   ${events.map((r) => `${r.code}: ${r.message}`).join(`\n${' '.repeat(8 + 15 * ids.length + 3)}`) || 'weights written'}`,
      );
    }
  }
}
