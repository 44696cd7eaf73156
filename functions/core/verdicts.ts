/**
 * Verdicts: what one period's observations say of a signal and of an endpoint. A Schmitt
 * trigger per signal (trip and clear thresholds, nothing moves between them), and `unknown`
 * wherever the data cannot be trusted: missing, too few samples for the percentile to mean
 * anything, or an alarm with insufficient data. Missing data never counts as healthy.
 */
import type { Signal } from './config.js';
import { defaultMinSamples, percentileOf } from './percentiles.js';
import type { AlarmObservation, EndpointObservations, EndpointVerdict, SignalObservation, SignalVerdict, UnknownCause, Verdict } from './types.js';

type Observation = SignalObservation | AlarmObservation | undefined;

function unknown(signal: Signal, cause: UnknownCause, value: number | null, sampleCount: number | null): SignalVerdict {
  return {
    signal: signal.name,
    verdict: 'unknown',
    value,
    unit: signal.source === 'metric' ? signal.unit : '',
    trip: signal.source === 'metric' ? signal.trip : null,
    clear: signal.source === 'metric' ? signal.clear : null,
    statistic: signal.source === 'metric' ? signal.metric.statistic : null,
    sampleCount,
    severity: signal.severity,
    unknownCause: cause,
    excess: 0,
  };
}

/** One signal's verdict for one period. */
export function evaluateSignal(signal: Signal, observation: Observation): SignalVerdict {
  if (signal.source === 'alarm') {
    if (observation === undefined || !('alarmState' in observation)) return unknown(signal, 'missing', null, null);
    if (observation.alarmState === 'INSUFFICIENT_DATA') return unknown(signal, 'insufficient-data', null, null);
    const verdict: Verdict = observation.alarmState === 'ALARM' ? 'breach' : 'clear';
    // An alarm says that, not how far: its breach sheds the minimum step (excess 0).
    return {
      signal: signal.name,
      verdict,
      value: null,
      unit: '',
      trip: null,
      clear: null,
      statistic: null,
      sampleCount: null,
      severity: signal.severity,
      excess: 0,
    };
  }

  if (observation === undefined || !('value' in observation) || observation.value === null || !Number.isFinite(observation.value)) {
    return unknown(signal, 'missing', null, null);
  }
  const value = observation.value * signal.scale;
  const sampleCount = observation.sampleCount ?? null;
  // Below ~10/(1−p) samples a percentile is mostly noise (p99 of 50 requests is the 1st worst).
  const minSamples = signal.minSamples ?? defaultMinSamples(signal.metric.statistic);
  const worse = signal.direction === 'higher-is-worse' ? value - signal.trip : signal.trip - value;
  const breach = worse > 0;
  const clear = signal.direction === 'higher-is-worse' ? value < signal.clear : value > signal.clear;
  if (sampleCount !== null && sampleCount < minSamples) {
    // A few requests all under the clear threshold still say "fast"; a few slow ones prove
    // nothing (the p99 of 50 requests is the single worst of them), so only the safe side counts.
    if (!clear) return unknown(signal, 'low-sample', value, sampleCount);
    return {
      signal: signal.name,
      verdict: 'clear',
      value,
      unit: signal.unit,
      trip: signal.trip,
      clear: signal.clear,
      statistic: signal.metric.statistic,
      sampleCount,
      severity: signal.severity,
      excess: 0,
      lowSample: true,
      scalesWithLoad: signal.scalesWithLoad,
    };
  }
  return {
    signal: signal.name,
    verdict: breach ? 'breach' : clear ? 'clear' : 'hold',
    value,
    unit: signal.unit,
    trip: signal.trip,
    clear: signal.clear,
    statistic: signal.metric.statistic,
    sampleCount,
    severity: signal.severity,
    excess: breach ? worse / (Math.abs(signal.trip) || 1) : 0,
    scalesWithLoad: signal.scalesWithLoad,
  };
}

/** A percentile with too few requests, or none at all (CloudWatch publishes no datapoint then). */
function needsTraffic(v: SignalVerdict): boolean {
  return v.unknownCause === 'low-sample' || (v.unknownCause === 'missing' && v.statistic !== null && percentileOf(v.statistic) !== undefined);
}

/**
 * An endpoint's verdict from its signals' verdicts, worst first: any breach is a breach; else
 * any signal between its thresholds holds; else missing data is unknown. A drained endpoint
 * serves (almost) no requests, so its percentiles are low-sample or missing by design: for it
 * alone, such signals are set aside when another signal (GPU, errors) is clear, which lets it
 * start a recovery whose first small step then produces real evidence.
 */
export function evaluateEndpoint(
  signals: readonly Signal[],
  observations: EndpointObservations | undefined,
  options: { readonly drained?: boolean } = {},
): EndpointVerdict {
  const verdicts = signals.map((signal) => evaluateSignal(signal, observations?.signals[signal.name]));
  let breach = false;
  let failing = false;
  let hold = false;
  let missing = false;
  let clear = false;
  let excess = 0;
  for (const v of verdicts) {
    if (v.verdict === 'breach') {
      breach = true;
      if (v.severity === 'fail') failing = true;
      if (v.excess > excess) excess = v.excess;
    } else if (v.verdict === 'hold') hold = true;
    else if (v.verdict === 'clear') clear = true;
    else if (!(options.drained && needsTraffic(v))) missing = true;
  }
  const verdict: Verdict = breach ? 'breach' : hold ? 'hold' : missing || !clear ? 'unknown' : 'clear';
  return { verdict, failing, excess, signals: verdicts };
}
