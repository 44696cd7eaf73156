/**
 * Renders a notice for people: a subject that fits SNS's limit and says what happened, and a body
 * an on-call engineer can act on from one screen (before/after weights, the signals against their
 * thresholds, the reasons, and how to freeze or override). Pure: the SNS adapter, the CLI and the
 * simulator all render with it.
 */
import type { Decision, EndpointState, EndpointVerdict, Reason, SignalVerdict, Weights } from '../core/types.js';
import type { Notice } from '../ports/notifier.js';
import { ownValue, weightsAfter } from './weightRecords.js';

/** SNS subjects must be ASCII, without line breaks, and under 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;

/** `2400 ms` → `2.4 s`: latency thresholds read best in seconds once past a second. */
export function formatMeasure(value: number, unit: string): string {
  if (unit === 'ms' && Math.abs(value) >= 1000) return `${(value / 1000).toFixed(1)} s`;
  if (unit === 's') return `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)} s`;
  return asMeasured(value, unit);
}

/** The value in its own unit, not scaled: `1764 ms`, `87.4%`. */
function asMeasured(value: number, unit: string): string {
  if (unit === '%') return `${round(value)}%`;
  return unit === '' ? `${round(value)}` : `${round(value)} ${unit}`;
}

function round(value: number): string {
  return String(Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 10) / 10);
}

/** Readable ASCII for the characters steer53's own sentences use; anything else becomes `?`. */
const ASCII_SPELLINGS: ReadonlyMap<string, string> = new Map([
  ['→', '->'],
  ['—', '-'],
  ['–', '-'],
  ['×', 'x'],
  ['…', '...'],
  ['µ', 'u'],
  ['≥', '>='],
  ['≤', '<='],
  ['±', '+/-'],
  ['’', "'"],
]);

export function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (c) => ASCII_SPELLINGS.get(c) ?? '?');
}

/** A notification summary without the DNS name the engine puts in front (the subject has it already). */
function withoutName(summary: string, dnsName: string): string {
  return summary.startsWith(`${dnsName}: `) ? summary.slice(dnsName.length + 2) : summary;
}

/**
 * The endpoint a change is about: the one the notice's reason names when it moved (a recovery
 * names the endpoint coming back, not the ones giving way), else the one that lost most traffic.
 */
function focusOf(notice: Notice, decision: Decision): Decision['changes'][number] {
  const named = decision.reasons.find((r) => r.code === notice.reason && r.endpoint !== undefined)?.endpoint;
  const change = named === undefined ? undefined : decision.changes.find((c) => c.setIdentifier === named);
  return change ?? [...decision.changes].sort((a, b) => a.to - a.from - (b.to - b.from))[0]!;
}

/** Breaching periods out of the recent window, e.g. `3 of 5 min`. */
function breachCount(state: EndpointState | undefined, periodSeconds: number): string | undefined {
  if (!state || state.history.length === 0) return undefined;
  const breaches = state.history.filter((h) => h.verdict === 'breach' || h.verdict === 'fail').length;
  const n = state.history.length;
  return periodSeconds === 60 ? `${breaches} of ${n} min` : `${breaches} of ${n} periods`;
}

function worstSignal(signals: readonly SignalVerdict[]): SignalVerdict | undefined {
  return [...signals].filter((s) => s.verdict === 'breach').sort((a, b) => b.excess - a.excess)[0];
}

function signalComparison(signal: SignalVerdict): string {
  if (signal.value === null) return `${signal.statistic ?? signal.signal} missing`;
  const label = signal.statistic ?? signal.signal;
  if (signal.trip === null) return `${signal.signal} ${signal.verdict}`;
  const lowerIsWorse = signal.clear !== null && signal.clear > signal.trip;
  return `${label} ${formatMeasure(signal.value, signal.unit)} ${lowerIsWorse ? '<' : '>'} ${formatMeasure(signal.trip, signal.unit)}`;
}

export function noticeSubject(notice: Notice): string {
  const prefix = `[steer53] ${notice.service.dnsName}: `;
  const decision = notice.decision;
  let what: string;
  let why = '';
  if (notice.kind === 'drift-detected' && notice.drift) {
    what = `weights changed outside steer53 (${notice.drift.endpoints.map((id) => `${id} ${ownValue(notice.drift!.expected, id) ?? '?'}->${ownValue(notice.drift!.actual, id) ?? '?'}`).join(', ')})`;
  } else if (decision && decision.changes.length > 0) {
    const change = focusOf(notice, decision);
    what = `${change.setIdentifier} ${change.from}->${change.to}`;
    const focus = change.setIdentifier;
    const verdict = ownValue(decision.verdicts, focus);
    const signal = verdict ? worstSignal(verdict.signals) : undefined;
    if (signal) {
      const count = breachCount(ownValue(notice.state?.endpoints, focus), notice.service.policy.evaluationPeriodSeconds);
      why = ` (${signalComparison(signal)}${count ? `, ${count}` : ''})`;
    } else {
      why = ` (${notice.reason})`;
    }
  } else if (decision && decision.blocked.length > 0) {
    what = `shift blocked (${decision.blocked[0]!.code})`;
  } else {
    what = withoutName(decision?.notifications[0]?.summary ?? notice.reason, notice.service.dnsName);
  }
  const full = ascii(prefix + what + why);
  if (full.length <= MAX_SUBJECT_LENGTH) return full;
  const short = ascii(prefix + what);
  if (short.length <= MAX_SUBJECT_LENGTH) return short;
  return `${short.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

function share(weights: Weights, id: string): string {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  return total === 0 ? '-' : `${Math.round(((ownValue(weights, id) ?? 0) / total) * 100)}%`;
}

/** A plain-text table: the first `textColumns` columns left-aligned, numbers right-aligned. */
function table(rows: readonly (readonly string[])[], textColumns = 1): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ')}`.trimEnd());
}

/** `as clear as its healthy peers: p99-ttft 1.8 s, no worse than b, c (median 1.85 s)`; '' when the verdict is its own. */
export function peerTailText(verdict: EndpointVerdict): string {
  if (verdict.asClearAsPeers === undefined || verdict.asClearAsPeers.length === 0) return '';
  const tails = verdict.asClearAsPeers.map((t) => {
    const unit = unitOf(verdict, t.signal);
    let [value, median] = [formatMeasure(t.value, unit), formatMeasure(t.peersMedian, unit)];
    // Rounded alike, a value just under the median would read as equal to it: show both as measured.
    if (value === median && t.value !== t.peersMedian) [value, median] = [asMeasured(t.value, unit), asMeasured(t.peersMedian, unit)];
    return `${t.signal} ${value}, no worse than ${t.peers.join(', ')} (median ${median})`;
  });
  return `as clear as its healthy peers: ${tails.join('; ')}`;
}

function unitOf(verdict: EndpointVerdict, signal: string): string {
  return verdict.signals.find((s) => s.signal === signal)?.unit ?? '';
}

/** An alarm signal's state as CloudWatch shows it; one in ALARM that was set aside (lag, too few requests) still reads ALARM, its verdict says why. */
export function alarmText(signal: SignalVerdict): string {
  if (signal.verdict === 'breach' || signal.unknownCause === 'alarm-lag' || signal.unknownCause === 'few-requests') return 'ALARM';
  if (signal.verdict === 'clear') return 'OK';
  return signal.unknownCause === 'insufficient-data' ? 'INSUFFICIENT_DATA' : 'missing';
}

export function noticeBody(notice: Notice): string {
  const d = notice.decision;
  const lines = [
    ...headerLines(notice),
    ...(notice.drift ? driftLines(notice.drift) : []),
    ...(d ? [...weightLines(d), ...reasonLines(d), ...signalLines(notice, d)] : []),
    ...whatYouCanDo(notice),
  ];
  return lines.join('\n');
}

const HEADLINES: Readonly<Record<Notice['kind'], (dnsName: string) => string>> = {
  'drift-detected': (dnsName) => `Route 53 weights of ${dnsName} were changed outside steer53.`,
  'shift-blocked': (dnsName) => `steer53 wanted to move traffic for ${dnsName}, and a safety rule or override stopped it.`,
  'traffic-shifted': (dnsName) => `steer53 moved traffic for ${dnsName}.`,
  'state-changed': (dnsName) => `steer53 changed the state of ${dnsName}'s endpoints.`,
};

function headerLines(notice: Notice): string[] {
  const s = notice.service;
  const d = notice.decision;
  const changes = notice.changeIds && notice.changeIds.length > 0 ? `  (Route 53 change ${notice.changeIds.join(', ')})` : '';
  return [
    HEADLINES[notice.kind](s.dnsName),
    '',
    `Service:   ${s.name} (${s.dnsName} ${s.recordType}, hosted zone ${s.hostedZoneId})`,
    `Severity:  ${notice.severity}    Reason: ${notice.reason}${d ? `    Mode: ${d.mode}` : ''}`,
    `Trigger:   ${notice.trigger}`,
    ...(d ? [`Decided:   ${new Date(d.at).toISOString()} (period from ${new Date(d.periodStart).toISOString()})${d.emergency ? '  EMERGENCY' : ''}`] : []),
    ...(notice.decisionId ? [`Decision:  ${notice.decisionId}${changes}`] : []),
  ];
}

function driftLines(drift: NonNullable<Notice['drift']>): string[] {
  const ids = [...new Set([...Object.keys(drift.expected), ...Object.keys(drift.actual)])];
  return [
    '',
    'Weights (steer53 last wrote → Route 53 holds now):',
    ...table([
      ['endpoint', 'expected', 'actual'],
      ...ids.map((id) => [id, String(ownValue(drift.expected, id) ?? '-'), String(ownValue(drift.actual, id) ?? '-')]),
    ]),
    '',
    'steer53 treats Route 53 as the truth for its next decision. If the edit was deliberate, freeze or pin the service so',
    'steer53 does not move it back; otherwise nothing is needed.',
  ];
}

function weightLines(d: Decision): string[] {
  const ids = Object.keys({ ...d.currentWeights, ...d.targetWeights });
  const after: Weights = weightsAfter(d.currentWeights, d.changes);
  const rows = ids.map((id) => [
    id,
    String(ownValue(d.currentWeights, id) ?? '-'),
    String(ownValue(after, id) ?? '-'),
    share(d.currentWeights, id),
    share(after, id),
  ]);
  return [
    '',
    'Weights (Route 53 weighted records):',
    ...table([['endpoint', 'before', 'after', 'share before', 'share after'], ...rows]),
    ...(d.changes.length === 0 ? ['  (no weight was changed)'] : []),
  ];
}

function reasonLines(d: Decision): string[] {
  const reason = (r: Reason) => `  - [${r.code}]${r.endpoint ? ` ${r.endpoint}:` : ''} ${r.message}`;
  return [
    ...(d.reasons.length > 0 ? ['', 'Why:', ...d.reasons.map(reason)] : []),
    ...(d.transitions.length > 0
      ? ['', 'Endpoint states:', ...d.transitions.map((t) => `  - ${t.endpoint}: ${t.from} → ${t.to} [${t.reason}] ${t.message}`)]
      : []),
    ...(d.blocked.length > 0 ? ['', 'Blocked:', ...d.blocked.map(reason)] : []),
    ...(d.capacityRequests.length > 0
      ? [
          '',
          'Capacity asked:',
          ...d.capacityRequests.map((c) => `  - ${c.endpoint}: hold ${c.to} instances (${c.from} held, ${c.inService} in service) [${c.reason}] ${c.message}`),
        ]
      : []),
  ];
}

/** Each endpoint's signals against their thresholds, and its breaching periods against the detection window. */
function signalLines(notice: Notice, d: Decision): string[] {
  const { policy } = notice.service;
  const rows: string[][] = [['endpoint', 'signal', 'value', 'trip', 'clear', 'samples', 'verdict']];
  for (const [id, verdict] of Object.entries(d.verdicts)) {
    rows.push(...verdict.signals.map((sig) => signalRow(id, sig)));
    const count = breachCount(ownValue(notice.state?.endpoints, id), policy.evaluationPeriodSeconds);
    if (count)
      rows.push([id, 'breaching periods', count, `${policy.detection.breachesToDegrade} of ${policy.detection.window} degrade`, '', '', verdict.verdict]);
  }
  const peers = Object.entries(d.verdicts).flatMap(([id, verdict]) => {
    const text = peerTailText(verdict);
    return text ? [`  - ${id}: clear, ${text}`] : [];
  });
  return rows.length > 1 ? ['', 'Signals (value against thresholds):', ...table(rows, 2), ...peers] : [];
}

function signalRow(id: string, sig: SignalVerdict): string[] {
  const lowerIsWorse = sig.trip !== null && sig.clear !== null && sig.clear > sig.trip;
  return [
    id,
    `${sig.signal}${sig.statistic ? ` ${sig.statistic}` : ''}`,
    sig.trip === null && sig.statistic === null ? alarmText(sig) : sig.value === null ? 'missing' : formatMeasure(sig.value, sig.unit),
    sig.trip === null ? '-' : `${lowerIsWorse ? '<' : '>'} ${formatMeasure(sig.trip, sig.unit)}`,
    sig.clear === null ? '-' : `${lowerIsWorse ? '>' : '<'} ${formatMeasure(sig.clear, sig.unit)}`,
    sig.sampleCount === null ? '-' : String(sig.sampleCount),
    sig.verdict + (sig.unknownCause ? ` (${sig.unknownCause})` : ''),
  ];
}

function whatYouCanDo(notice: Notice): string[] {
  const s = notice.service;
  const d = notice.decision;
  const pin = d
    ? Object.entries(d.currentWeights)
        .map(([id, w]) => `${id}=${w}`)
        .join(',')
    : '';
  return [
    '',
    'What you can do:',
    `  Stop automatic changes:     npx steer53 freeze ${s.name} --reason "<why>"`,
    `  Pin weights for a while:    npx steer53 override ${s.name} --weights ${pin || '<endpoint>=<weight>,...'} --for 1h --reason "<why>"`,
    `  See status and history:     npx steer53 status ${s.name}   /   npx steer53 history ${s.name}`,
    `  What it would do now:       npx steer53 plan ${s.name}`,
    "  (each with --table <the stack's TableName output>, or STEER53_TABLE_NAME set; see docs/deploy.md)",
    '  Alarms keep notifying while a service is frozen; every override expires on its own, at the latest 7 days after it was set.',
  ];
}

/** SNS MessageAttributes, so subscriptions can filter (e.g. only `critical`, or one service). */
export function noticeAttributes(notice: Notice): { service: string; severity: string; reason: string; kind: string } {
  return { service: notice.service.name, severity: notice.severity, reason: notice.reason, kind: notice.kind };
}
