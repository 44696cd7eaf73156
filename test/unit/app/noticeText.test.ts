import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMeasure, MAX_SUBJECT_LENGTH, noticeAttributes, noticeBody, noticeSubject, peerTailText } from '../../../functions/app/noticeText.js';
import type { Decision, SignalVerdict } from '../../../functions/core/types.js';
import type { Notice } from '../../../functions/ports/notifier.js';
import { testConfig, T0 } from './runtimeFixtures.js';

const service = testConfig().services[0]!;

function signal(overrides: Partial<SignalVerdict> = {}): SignalVerdict {
  return {
    signal: 'p99-latency',
    verdict: 'breach',
    value: 2400,
    unit: 'ms',
    trip: 2000,
    clear: 1500,
    statistic: 'p99',
    sampleCount: 5000,
    severity: 'degrade',
    excess: 0.2,
    ...overrides,
  };
}

function decision(overrides: Partial<Decision> = {}): Decision {
  return {
    service: 'chat',
    at: T0,
    periodStart: T0 - 150_000,
    mode: 'normal',
    verdicts: {
      'eu-west-1': { verdict: 'breach', failing: false, excess: 0.2, signals: [signal()] },
      'us-east-1': { verdict: 'clear', failing: false, excess: 0, signals: [signal({ verdict: 'clear', value: 900, excess: 0 })] },
    },
    currentWeights: { 'us-east-1': 100, 'eu-west-1': 100 },
    targetWeights: { 'us-east-1': 160, 'eu-west-1': 40 },
    changes: [
      { setIdentifier: 'us-east-1', from: 100, to: 160 },
      { setIdentifier: 'eu-west-1', from: 100, to: 40 },
    ],
    emergency: false,
    rolloutEvents: [],
    capacityRequests: [],
    transitions: [{ endpoint: 'eu-west-1', from: 'healthy', to: 'degraded', reason: 'M_OF_N_BREACH', message: 'eu-west-1 degraded' }],
    reasons: [{ code: 'M_OF_N_BREACH', message: 'eu-west-1 degraded: p99 past trip', endpoint: 'eu-west-1' }],
    blocked: [],
    notifications: [{ severity: 'warning', reason: 'M_OF_N_BREACH', summary: 'chat.example.com: eu-west-1 degraded' }],
    ...overrides,
  };
}

const history = (verdicts: ('breach' | 'clear')[]) => verdicts.map((verdict, i) => ({ periodStart: T0 - (verdicts.length - i) * 60_000, verdict }));
const state = {
  endpoints: {
    'eu-west-1': {
      status: 'degraded',
      since: T0,
      history: history(['breach', 'breach', 'breach']),
      shed: 0.6,
      recoveryStep: 0,
      stepSince: T0,
      dwellSeconds: 300,
      failedRecoveries: 0,
    },
  },
  appliedWeights: null,
  recentChanges: [],
  overrides: {},
  failStaticSince: null,
  lastPeriodStart: null,
  lastEvaluatedAt: null,
} as const;

const shifted: Notice = {
  kind: 'traffic-shifted',
  severity: 'warning',
  reason: 'M_OF_N_BREACH',
  service,
  decision: decision(),
  state: state as never,
  trigger: 'schedule',
  decisionId: 'd-1',
  changeIds: ['/change/C1'],
};

describe('Function: noticeSubject', () => {
  it('says where traffic was cut, by how much, and on what evidence', () => {
    expect(noticeSubject(shifted)).toBe('[steer53] chat.example.com: eu-west-1 100->40 (p99 2.4 s > 2.0 s, 3 of 3 min)');
  });

  it('names the blocking rule when nothing moved', () => {
    expect(
      noticeSubject({
        ...shifted,
        kind: 'shift-blocked',
        decision: decision({ changes: [], blocked: [{ code: 'CHANGE_BUDGET_EXHAUSTED', message: 'budget' }] }),
      }),
    ).toBe('[steer53] chat.example.com: shift blocked (CHANGE_BUDGET_EXHAUSTED)');
  });

  it('names the DNS name once and spells the engine’s punctuation in ASCII', () => {
    const summary = 'chat.example.com: freeze set by alice (launch) expired — back to policy';
    const subject = noticeSubject({
      ...shifted,
      kind: 'state-changed',
      reason: 'OVERRIDE_EXPIRED',
      decision: decision({ changes: [], notifications: [{ severity: 'info', reason: 'OVERRIDE_EXPIRED', summary }] }),
    });
    expect(subject).toBe('[steer53] chat.example.com: freeze set by alice (launch) expired - back to policy');
  });

  it('names the endpoint coming back in a recovery, not the ones giving way', () => {
    const recovery = decision({
      changes: [
        { setIdentifier: 'us-east-1', from: 160, to: 130 },
        { setIdentifier: 'eu-west-1', from: 40, to: 70 },
      ],
      transitions: [],
      reasons: [{ code: 'RECOVERY_STEP', message: 'eu-west-1 steps up to 50% of baseline', endpoint: 'eu-west-1' }],
      notifications: [{ severity: 'info', reason: 'RECOVERY_STEP', summary: 'chat.example.com: eu-west-1 steps up' }],
      verdicts: { 'eu-west-1': { verdict: 'clear', failing: false, excess: 0, signals: [signal({ verdict: 'clear', value: 900, excess: 0 })] } },
    });
    expect(noticeSubject({ ...shifted, severity: 'info', reason: 'RECOVERY_STEP', decision: recovery })).toBe(
      '[steer53] chat.example.com: eu-west-1 40->70 (RECOVERY_STEP)',
    );
  });

  it('always fits SNS: ASCII, no line breaks, under 100 characters, whatever the names', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 128, unit: 'grapheme' }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        (id, from, to) => {
          const d = decision({
            changes: [{ setIdentifier: id, from, to }],
            verdicts: { [id]: { verdict: 'breach', failing: false, excess: 1, signals: [signal()] } },
          });
          const subject = noticeSubject({ ...shifted, decision: d });
          expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
          expect(subject).toMatch(/^[\x20-\x7e]+$/);
          expect(subject.startsWith('[steer53] chat.example.com: ')).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Function: noticeBody', () => {
  const body = noticeBody(shifted);

  it('shows weights before and after with shares', () => {
    expect(body).toMatch(/eu-west-1\s+100\s+40\s+50%\s+20%/);
    expect(body).toMatch(/us-east-1\s+100\s+160\s+50%\s+80%/);
  });

  it('shows each signal against its thresholds, and the reasons', () => {
    expect(body).toMatch(/eu-west-1\s+p99-latency p99\s+2\.4 s\s+> 2\.0 s\s+< 1\.5 s\s+5000\s+breach/);
    expect(body).toContain('[M_OF_N_BREACH] eu-west-1: eu-west-1 degraded: p99 past trip');
    expect(body).toContain('Decision:  d-1  (Route 53 change /change/C1)');
  });

  it('shows an error alarm set aside on too few requests as ALARM, its verdict saying why', () => {
    const errorAlarm = signal({
      signal: 'error-alarm',
      verdict: 'unknown',
      value: null,
      unit: '',
      trip: null,
      clear: null,
      statistic: null,
      sampleCount: 16,
      severity: 'fail',
      excess: 0,
      unknownCause: 'few-requests',
    });
    const held = decision({ verdicts: { ...decision().verdicts, 'eu-west-1': { verdict: 'hold', failing: false, excess: 0, signals: [errorAlarm] } } });
    expect(noticeBody({ ...shifted, decision: held })).toMatch(/eu-west-1\s+error-alarm\s+ALARM\s+-\s+-\s+16\s+unknown \(few-requests\)/);
  });

  it('says when an endpoint counts clear because its tail is no worse than its healthy peers’', () => {
    const peerClear = decision({
      verdicts: {
        'eu-west-1': {
          verdict: 'clear',
          failing: false,
          excess: 0,
          signals: [signal({ verdict: 'hold', value: 1650, excess: 0 })],
          asClearAsPeers: [{ signal: 'p99-latency', value: 1650, peersMedian: 1800, peers: ['us-east-1'] }],
        },
        'us-east-1': { verdict: 'hold', failing: false, excess: 0, signals: [signal({ verdict: 'hold', value: 1800, excess: 0 })] },
      },
    });
    const text = noticeBody({ ...shifted, decision: peerClear });
    expect(text).toMatch(/eu-west-1\s+p99-latency p99\s+1\.6 s\s+> 2\.0 s\s+< 1\.5 s\s+5000\s+hold/);
    expect(text).toContain('  - eu-west-1: clear, as clear as its healthy peers: p99-latency 1.6 s, no worse than us-east-1 (median 1.8 s)');
    expect(body).not.toContain('as clear as its healthy peers');
    // A value a few ms under the median is not shown as equal to it.
    const close = { ...peerClear.verdicts['eu-west-1']!, asClearAsPeers: [{ signal: 'p99-latency', value: 1764.3, peersMedian: 1790, peers: ['us-east-1'] }] };
    expect(peerTailText(close)).toBe('as clear as its healthy peers: p99-latency 1764 ms, no worse than us-east-1 (median 1790 ms)');
  });

  it('says how to freeze or override', () => {
    expect(body).toContain('npx steer53 freeze chat --reason "<why>"');
    expect(body).toContain('npx steer53 override chat --weights us-east-1=100,eu-west-1=100 --for 1h');
  });
});

describe('Function: noticeAttributes', () => {
  it('gives service, severity, reason and kind for subscription filters', () => {
    expect(noticeAttributes(shifted)).toEqual({ service: 'chat', severity: 'warning', reason: 'M_OF_N_BREACH', kind: 'traffic-shifted' });
  });
});

describe('Function: formatMeasure', () => {
  it.each([
    [2400, 'ms', '2.4 s'],
    [900, 'ms', '900 ms'],
    [1.25, 's', '1.3 s'],
    [87.4, '%', '87.4%'],
    [120, 'requests', '120 requests'],
    [3, '', '3'],
  ])('%s %s → %s', (value, unit, text) => expect(formatMeasure(value, unit)).toBe(text));
});
