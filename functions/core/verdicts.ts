/**
 * Verdicts: what one period's observations say of a signal and of an endpoint. A Schmitt
 * trigger per signal (trip and clear thresholds, nothing moves between them), and `unknown`
 * wherever the data cannot be trusted: missing, too few samples for the percentile to mean
 * anything, or an alarm with insufficient data. Missing data never counts as healthy.
 */
import type { Signal } from './config.js';
import { defaultMinSamples, expectsTail, percentileOf } from './percentiles.js';
import { tailEvidence } from './tailEvidence.js';
import type { AlarmObservation, EndpointObservations, EndpointVerdict, PeriodTail, SignalObservation, SignalVerdict, UnknownCause, Verdict } from './types.js';

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
    ...(signal.source === 'metric' && signal.perRequest === true ? { perRequest: true } : {}),
  };
}

/** What judging a signal takes from the policy's detection rules. */
export interface DetectionRules {
  readonly confidence: number;
  readonly severeExcess: number;
  readonly severeTailShare: number;
}

const DEFAULT_RULES: DetectionRules = { confidence: 0.99, severeExcess: 1, severeTailShare: 5 };

function alarmVerdict(signal: Extract<Signal, { source: 'alarm' }>, observation: Observation, rules: DetectionRules): SignalVerdict {
  if (observation === undefined || !('alarmState' in observation)) return unknown(signal, 'missing', null, null);
  if (observation.alarmState === 'INSUFFICIENT_DATA') return unknown(signal, 'insufficient-data', null, null);
  const verdict: Verdict = observation.alarmState === 'ALARM' ? 'breach' : 'clear';
  // An alarm says that, not how far: its breach sheds the minimum step (excess 0), unless its
  // threshold says how far (`excess`: an alarm on a latency ten times the trip stands for 9).
  const excess = verdict === 'breach' ? (signal.excess ?? 0) : 0;
  return {
    ...(excess > 0 ? { severe: excess >= rules.severeExcess } : {}),
    signal: signal.name,
    verdict,
    value: null,
    unit: '',
    trip: null,
    clear: null,
    statistic: null,
    sampleCount: null,
    severity: signal.severity,
    excess,
    fromAlarm: true,
  };
}

type MetricSignal = Extract<Signal, { source: 'metric' }>;

/** A metric signal's reading: its value against trip and clear, whatever decides the verdict. */
interface Reading {
  readonly base: Omit<SignalVerdict, 'verdict' | 'excess'>;
  /** How far past trip, in the signal's unit (positive = worse than trip). */
  readonly worse: number;
  readonly clearSide: boolean;
  readonly minSamples: number;
}

function readingOf(signal: MetricSignal, value: number, sampleCount: number | null): Reading {
  const worse = signal.direction === 'higher-is-worse' ? value - signal.trip : signal.trip - value;
  return {
    base: {
      signal: signal.name,
      value,
      unit: signal.unit,
      trip: signal.trip,
      clear: signal.clear,
      statistic: signal.metric.statistic,
      sampleCount,
      severity: signal.severity,
      scalesWithLoad: signal.scalesWithLoad,
    },
    worse,
    clearSide: signal.direction === 'higher-is-worse' ? value < signal.clear : value > signal.clear,
    minSamples: signal.minSamples ?? defaultMinSamples(signal.metric.statistic),
  };
}

/** One signal's verdict for one period. */
export function evaluateSignal(signal: Signal, observation: Observation, rules: DetectionRules = DEFAULT_RULES): SignalVerdict {
  if (signal.source === 'alarm') return alarmVerdict(signal, observation, rules);
  if (observation === undefined || !('value' in observation) || observation.value === null || !Number.isFinite(observation.value)) {
    return unknown(signal, 'missing', null, null);
  }
  const reading = readingOf(signal, observation.value * signal.scale, observation.sampleCount ?? null);
  if (signal.perRequest === true && observation.sampleCount !== undefined)
    return shareVerdict(signal, reading, observation.value, observation.sampleCount, rules);
  const percentile = percentileOf(signal.metric.statistic);
  if (percentile === undefined) return valueVerdict(signal, reading, rules);
  const allowed = signal.direction === 'higher-is-worse' ? 1 - percentile / 100 : percentile / 100;
  const samples = observation.sampleCount;
  if (samples !== undefined && observation.worseThanTrip !== undefined) {
    return tailVerdict(signal, reading, allowed, { samples, worse: observation.worseThanTrip }, rules);
  }
  const verdict = valueVerdict(signal, reading, rules);
  // Within trip, with no rank asked: at most the share the percentile allows was past trip.
  return samples !== undefined && samples > 0 && reading.worse <= 0 ? { ...verdict, tail: { samples, worse: allowed * samples, allowed } } : verdict;
}

/** The value against the Schmitt trigger, with a fixed minimum of samples for a percentile. */
function valueVerdict(signal: MetricSignal, reading: Reading, rules: DetectionRules): SignalVerdict {
  const { base, worse, clearSide, minSamples } = reading;
  if (base.sampleCount !== null && base.sampleCount < minSamples) {
    // A few requests all under the clear threshold still say "fast"; a few slow ones prove
    // nothing (the p99 of 50 requests is the single worst of them), so only the safe side counts.
    if (!clearSide) return unknown(signal, 'low-sample', base.value, base.sampleCount);
    return { ...base, verdict: 'clear', excess: 0, lowSample: true };
  }
  if (worse <= 0) return { ...base, verdict: clearSide ? 'clear' : 'hold', excess: 0 };
  const excess = worse / (Math.abs(signal.trip) || 1);
  return { ...base, verdict: 'breach', excess, severe: excess >= rules.severeExcess };
}

/**
 * A percentile judged on the count of samples worse than trip (tailEvidence.ts): a breach only
 * when that count proves it, however few the samples; clear on the value, as always.
 */
function tailVerdict(signal: MetricSignal, reading: Reading, allowed: number, count: PeriodTailCount, rules: DetectionRules): SignalVerdict {
  const { base, worse, clearSide, minSamples } = reading;
  const evidence = tailEvidence(count.samples, count.worse, allowed, rules.confidence, rules.severeTailShare);
  const worseShare = evidence.share;
  const tail = count.samples > 0 ? { tail: { samples: count.samples, worse: count.worse, allowed } } : {};
  if (evidence.breach) {
    const thin = count.samples * allowed < 1 ? { thin: true } : {};
    return { ...base, verdict: 'breach', excess: Math.max(0, worse) / (Math.abs(signal.trip) || 1), worseShare, ...tail, severe: evidence.severe, ...thin };
  }
  if (clearSide) return { ...base, verdict: 'clear', excess: 0, worseShare, ...tail, ...(count.samples < minSamples ? { lowSample: true } : {}) };
  if (count.samples < minSamples) return { ...unknown(signal, 'low-sample', base.value, base.sampleCount), worseShare, ...tail };
  return { ...base, verdict: 'hold', excess: 0, worseShare, ...tail };
}

type PeriodTailCount = Pick<PeriodTail, 'samples' | 'worse'>;

/**
 * A per-request share (`perRequest`: an error rate whose every sample is one request) judged on its
 * count as a percentile is: its trip is the share it allows, the failed requests are the tail, and
 * the breach is severe when they prove `1 + severeExcess` times that share (as a value is severe at
 * that multiple of its trip). One failure in five requests proves nothing against a 5% trip.
 */
function shareVerdict(signal: MetricSignal, reading: Reading, share: number, samples: number, rules: DetectionRules): SignalVerdict {
  const count = { samples, worse: Math.round(share * samples) };
  const verdict = tailVerdict(signal, reading, signal.trip / signal.scale, count, { ...rules, severeTailShare: 1 + rules.severeExcess });
  return { ...verdict, perRequest: true };
}

/**
 * A percentile or a per-request share with too few requests, or none at all (CloudWatch publishes no datapoint then); or
 * an alarm in INSUFFICIENT_DATA (an error alarm on a region with no requests has nothing to count).
 */
export function needsTraffic(v: SignalVerdict): boolean {
  return (
    v.unknownCause === 'low-sample' ||
    v.unknownCause === 'insufficient-data' ||
    (v.unknownCause === 'missing' && ((v.statistic !== null && percentileOf(v.statistic) !== undefined) || v.perRequest === true))
  );
}

/**
 * An endpoint's verdict from its signals' verdicts, worst first: any breach is a breach; else
 * any signal between its thresholds holds; else missing data is unknown. A drained endpoint
 * serves (almost) no requests, so its percentiles are low-sample or missing and its error alarms
 * INSUFFICIENT_DATA by design: for it alone, such signals are set aside when another signal (GPU,
 * errors) is clear — its instances report, so it is up — which lets it start a recovery whose
 * first small step then produces real evidence. A region still down reports nothing, so nothing is clear.
 * Any endpoint's alarm in INSUFFICIENT_DATA is set aside when a percentile or per-request share
 * counted enough of the period's requests and reads clear (`countedClear`).
 * With `alarmLag` (just restored by its health check), a fail-severity alarm still in ALARM, or a
 * per-request error rate still breaching (its minute published a minute or two late, from before
 * the return), is set aside the same way: it has not yet counted the endpoint's return.
 */
export function evaluateEndpoint(
  signals: readonly Signal[],
  observations: EndpointObservations | undefined,
  options: { readonly drained?: boolean; readonly alarmLag?: boolean; readonly rules?: DetectionRules } = {},
): EndpointVerdict {
  const verdicts = signals.map((signal) => {
    const v = evaluateSignal(signal, observations?.signals[signal.name], options.rules);
    return options.alarmLag && (v.fromAlarm === true || v.perRequest === true) && v.verdict === 'breach' && v.severity === 'fail'
      ? unknown(signal, 'alarm-lag', v.value, v.sampleCount)
      : v;
  });
  // A drained endpoint serves few requests by design: there its alarm's ALARM is still its failure.
  const few = options.drained ? undefined : fewRequests(signals, verdicts, observations);
  return combineSignals(
    few === undefined
      ? verdicts
      : verdicts.map((v, i) => (v.fromAlarm === true && v.verdict === 'breach' && v.severity === 'fail' ? unknown(signals[i]!, 'few-requests', null, few) : v)),
    options,
  );
}

/**
 * The requests behind an error alarm in ALARM when they are too few to prove anything; undefined
 * otherwise. The endpoint's fail-severity per-request share (its error rate) needs its trip share to
 * expect `TAIL_EXPECTED` failures (200 requests at a 5% trip). When it counted fewer this period and
 * did not prove its trip, or has no datapoint yet while the endpoint's busiest recent minute
 * (`requestRate`) had fewer, an alarm on those same requests (one error among 16 is past any
 * threshold) proves no more than the share does: it is set aside (`few-requests`) rather than
 * drain the endpoint. A share that proves its trip on few requests (every one failing) breaches on
 * its own. Not on a drained endpoint (evaluateEndpoint).
 */
function fewRequests(signals: readonly Signal[], verdicts: readonly SignalVerdict[], observations: EndpointObservations | undefined): number | undefined {
  const i = signals.findIndex((s) => s.source === 'metric' && s.perRequest === true && s.severity === 'fail');
  const signal = signals[i];
  const share = verdicts[i];
  if (signal?.source !== 'metric' || share === undefined || share.verdict === 'breach') return undefined;
  const requests =
    share.tail?.samples ?? (share.unknownCause === 'missing' && typeof observations?.requestRate === 'number' ? observations.requestRate * 60 : undefined);
  return requests !== undefined && !expectsTail(requests, signal.trip / signal.scale) ? Math.round(requests) : undefined;
}

/**
 * A percentile or a per-request share that counted at least the requests it needs this period
 * (not low-sample, and enough that its trip share expects `TAIL_EXPECTED` of them in the tail: 1,000
 * for a p99, 200 for a 5% error rate) and reads clear. An alarm in INSUFFICIENT_DATA beside it had no
 * datapoint in its own window (a 10-second latency alarm on a bursty region, quiet for half a minute):
 * it has nothing to say that the count does not, and is set aside rather than make the period unknown
 * (docs/runtime.md, "An alarm with nothing to count"). A few fast requests (a canary's) do not speak for it.
 */
function countedClear(verdicts: readonly SignalVerdict[]): boolean {
  return verdicts.some((v) => v.verdict === 'clear' && v.lowSample !== true && v.tail !== undefined && expectsTail(v.tail.samples, v.tail.allowed));
}

/** The endpoint's verdict from its signals' verdicts (evaluateEndpoint's rules; `drained` sets aside what needs traffic). */
export function combineSignals(verdicts: readonly SignalVerdict[], options: { readonly drained?: boolean } = {}): EndpointVerdict {
  let breach = false;
  let failing = false;
  let hold = false;
  let missing = false;
  let clear = false;
  let excess = 0;
  let severe = false;
  const counted = countedClear(verdicts);
  for (const v of verdicts) {
    if (counted && v.unknownCause === 'insufficient-data') continue;
    if (v.verdict === 'breach') {
      breach = true;
      if (v.severe) severe = true;
      if (v.severity === 'fail') failing = true;
      if (v.excess > excess) excess = v.excess;
    } else if (v.verdict === 'hold') hold = true;
    else if (v.verdict === 'clear') clear = true;
    else if (!(options.drained && needsTraffic(v)) && v.unknownCause !== 'alarm-lag' && v.unknownCause !== 'few-requests') missing = true;
  }
  const verdict: Verdict = breach ? 'breach' : hold ? 'hold' : missing || !clear ? 'unknown' : 'clear';
  return { verdict, failing, excess, ...(breach ? { severe } : {}), signals: verdicts };
}
