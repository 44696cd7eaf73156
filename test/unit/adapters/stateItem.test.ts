import { describe, expect, it } from 'vitest';
import { InMemoryStateStore } from '../../../functions/adapters/memory/memoryStateStore.js';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import { CorruptStateError, UnsupportedStateVersionError } from '../../../functions/ports/errors.js';
import { readStateItem, STATE_SCHEMA_VERSION, toStateItem } from '../../../functions/ports/stateItem.js';
import { makeService, MINUTE, T0 } from '../../support/engineFixtures.js';

const service = makeService({ n: 2 });
const state = initialServiceState(service, T0, { a: 100, b: 100 });
/** The state as layouts 1-3 held it: no capacity handshake. */
const { capacity: _capacity, ...stateV3 } = state;
type Item = Record<string, unknown>;
const current = (): Item => structuredClone(toStateItem('chat', 3, { state, pending: null, driftSignature: null, blockedSignature: null, updatedAt: T0 }));

/** The item with one attribute changed (or removed, for `undefined`) at a dotted path. */
function withAttribute(path: string, value: unknown): Item {
  const item = current();
  const keys = path.split('.');
  const parent = keys.slice(0, -1).reduce((node, key) => node[key] as Item, item);
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  return item;
}

describe('Function: readStateItem', () => {
  it('reads what toStateItem writes', () => {
    const { decision } = decide(service, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints: {} }, state });
    const pending = {
      decisionId: 'd',
      recordedAt: T0,
      record: { hostedZoneId: 'Z', dnsName: 'x', recordType: 'A' },
      from: { a: 1 },
      to: { a: 2 },
      decision,
      trigger: 's',
    };
    const item = toStateItem('chat', 3, { state, pending, driftSignature: 'd', blockedSignature: 'b', updatedAt: T0 });
    expect(item.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(readStateItem('chat', structuredClone(item))).toEqual({
      service: 'chat',
      version: 3,
      state,
      pending,
      driftSignature: 'd',
      blockedSignature: 'b',
      updatedAt: T0,
    });
  });

  it('reads the engine’s own weights where Route 53 holds them at another scale, and none where it does not', () => {
    const item = toStateItem('chat', 3, { state, pending: null, driftSignature: null, blockedSignature: null, updatedAt: T0, engineWeights: { a: 150, b: 0 } });
    expect(readStateItem('chat', structuredClone(item)).engineWeights).toEqual({ a: 150, b: 0 });
    expect('engineWeights' in readStateItem('chat', current())).toBe(false);
  });

  it('migrates layout 1: the keys a rollout remembered join the state’s, as older ones', () => {
    const rollout = { version: 'v2', phase: 'deploying' as const, since: T0, lastEventAt: T0, step: 0, stepSince: T0, extensions: 0, preDeployFactor: 1 };
    const v1 = { ...stateV3, rollouts: { a: { ...rollout, seen: ['k1', 'k2'] } }, deploymentKeys: ['k2', 'k3'] };
    const read = readStateItem('chat', { ...current(), schemaVersion: 1, state: v1 }).state!;
    expect(read.rollouts).toEqual({ a: rollout });
    expect(read.deploymentKeys).toEqual(['k1', 'k2', 'k3']);
  });

  it('migrates layout 2, whose recent changes do not say which way they moved', () => {
    const v2 = { ...stateV3, recentChanges: [{ at: T0 - MINUTE, emergency: false }] };
    expect(readStateItem('chat', { ...current(), schemaVersion: 2, state: v2 }).state).toEqual({ ...v2, capacity: {} });
    // A layout-2 item never had `moved`: one that does was not written by a steer53 of that layout.
    const forged = { ...stateV3, recentChanges: [{ at: T0 - MINUTE, emergency: false, moved: { a: 1 } }] };
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 2, state: forged })).toThrow(CorruptStateError);
  });

  it('migrates layout 3, which asked for no capacity; an item of layout 3 with a capacity handshake was not written by one', () => {
    const v3 = { ...stateV3, recentChanges: [{ at: T0 - MINUTE, emergency: false, moved: { a: 1 as const } }] };
    expect(readStateItem('chat', { ...current(), schemaVersion: 3, state: v3 }).state).toEqual({ ...v3, capacity: {} });
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 3, state })).toThrow(CorruptStateError);
  });

  it('reads the capacity handshake of layout 4, and refuses one of the wrong shape', () => {
    const handshake = { base: 10, asked: 18, askedAt: T0, timedOut: false, perInstanceRps: 3.5, requests: [T0], lastInService: 10, releasedAt: null };
    const v4 = { ...state, capacity: { b: handshake } };
    expect(readStateItem('chat', { ...current(), state: v4 }).state).toEqual(v4);
    expect(readStateItem('chat', { ...current(), schemaVersion: 4, state: v4 }).state).toEqual(v4);
    expect(() => readStateItem('chat', { ...current(), state: { ...state, capacity: { b: { ...handshake, asked: -1 } } } })).toThrow(
      /state\.capacity\.b\.asked/,
    );
  });

  it('reads the limit an endpoint learned (layout 5); a layout-4 item with one was not written by one, and a limit of the wrong shape is refused', () => {
    const learned = { ...state, endpoints: { ...state.endpoints, a: { ...state.endpoints.a!, learnedLimit: { utilisation: 0.62, at: T0 } } } };
    expect(readStateItem('chat', { ...current(), state: learned }).state).toEqual(learned);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 4, state: learned })).toThrow(/state\.endpoints\.a\.learnedLimit/);
    const negative = { ...state, endpoints: { ...state.endpoints, a: { ...state.endpoints.a!, learnedLimit: { utilisation: -1, at: T0 } } } };
    expect(() => readStateItem('chat', { ...current(), state: negative })).toThrow(/state\.endpoints\.a\.learnedLimit\.utilisation/);
  });

  it('reads what an endpoint’s health check said of its failure (layout 6); a layout-5 item with it was not written by one', () => {
    const seen = { ...state, endpoints: { ...state.endpoints, a: { ...state.endpoints.a!, healthCheckFailed: true, alarmLagUntil: T0 + 5 * MINUTE } } };
    expect(readStateItem('chat', { ...current(), state: seen }).state).toEqual(seen);
    expect(readStateItem('chat', { ...current(), schemaVersion: 5, state }).state).toEqual(state);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 5, state: seen })).toThrow(/state\.endpoints\.a\.healthCheckFailed/);
    const wrong = { ...state, endpoints: { ...state.endpoints, a: { ...state.endpoints.a!, alarmLagUntil: 'soon' } } };
    expect(() => readStateItem('chat', { ...current(), state: wrong })).toThrow(/state\.endpoints\.a\.alarmLagUntil/);
  });

  it('reads a failed recovery step an endpoint has not yet gone back from (layout 7); a layout-6 item with one was not written by one', () => {
    const recovering = { ...state.endpoints.a!, status: 'recovering' as const, recoveryFrom: 0 };
    const held = { ...state, endpoints: { ...state.endpoints, a: { ...recovering, recoveryFailed: { at: T0, until: T0 + 5 * MINUTE, backTo: 0 } } } };
    expect(readStateItem('chat', { ...current(), state: held }).state).toEqual(held);
    expect(readStateItem('chat', { ...current(), schemaVersion: 6, state }).state).toEqual(state);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 6, state: held })).toThrow(/state\.endpoints\.a\.recoveryFailed/);
    const wrong = { ...state, endpoints: { ...state.endpoints, a: { ...recovering, recoveryFailed: { at: T0, backTo: 0 } } } };
    expect(() => readStateItem('chat', { ...current(), state: wrong })).toThrow(/state\.endpoints\.a\.recoveryFailed\.until/);
  });

  it('reads what a load profile was learned on (layout 8); a layout-7 item’s profiles have none, and one with it was not written by one', () => {
    const profile = { n: 12, u: 6, uu: 3.1, y: 2400, yy: 480_100, uy: 1200, at: T0 };
    const learned = { ...state, loadProfiles: { a: { ...profile, basis: 'p99@p50' } } };
    expect(readStateItem('chat', { ...current(), state: learned }).state).toEqual(learned);
    const v7 = { ...state, loadProfiles: { a: profile } };
    expect(readStateItem('chat', { ...current(), schemaVersion: 7, state: v7 }).state).toEqual(v7);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 7, state: learned })).toThrow(/state\.loadProfiles\.a\.basis/);
    const wrong = { ...state, loadProfiles: { a: { ...profile, basis: 7 } } };
    expect(() => readStateItem('chat', { ...current(), state: wrong })).toThrow(/state\.loadProfiles\.a\.basis/);
  });

  it('reads that an endpoint’s health check passed when it was drained (layout 9); a layout-8 item with it was not written by one', () => {
    const drained = { ...state.endpoints.a!, status: 'drained' as const, failed: true, shed: 1 };
    const seen = { ...state, endpoints: { ...state.endpoints, a: { ...drained, checkPassedAtDrain: true } } };
    expect(readStateItem('chat', { ...current(), state: seen }).state).toEqual(seen);
    expect(readStateItem('chat', { ...current(), schemaVersion: 8, state }).state).toEqual(state);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 8, state: seen })).toThrow(/state\.endpoints\.a\.checkPassedAtDrain/);
    const wrong = { ...state, endpoints: { ...state.endpoints, a: { ...drained, checkPassedAtDrain: 'yes' } } };
    expect(() => readStateItem('chat', { ...current(), state: wrong })).toThrow(/state\.endpoints\.a\.checkPassedAtDrain/);
  });

  it('reads the last fail static and whether it was told (layout 10); a layout-9 item with it was not written by one', () => {
    const kept = { ...state, failStaticNotice: { since: T0 - 9 * MINUTE, told: true, endedAt: T0 - MINUTE } };
    expect(readStateItem('chat', { ...current(), state: kept }).state).toEqual(kept);
    const going = { ...state, failStaticSince: T0 - 2 * MINUTE, failStaticNotice: { since: T0 - 2 * MINUTE, told: false } };
    expect(readStateItem('chat', { ...current(), state: going }).state).toEqual(going);
    expect(readStateItem('chat', { ...current(), schemaVersion: 9, state }).state).toEqual(state);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 9, state: kept })).toThrow(/state\.failStaticNotice/);
    expect(() => readStateItem('chat', { ...current(), state: { ...state, failStaticNotice: { since: T0, told: 'no' } } })).toThrow(
      /state\.failStaticNotice\.told/,
    );
  });

  it('reads the counts a period kept with its verdict (layout 11); a layout-10 item with them was not written by one', () => {
    const period = { periodStart: T0 - MINUTE, verdict: 'unknown' as const, tails: { p99: { samples: 54, worse: 3, allowed: 0.01 } } };
    const kept = { ...state, endpoints: { ...state.endpoints, a: { ...state.endpoints.a!, history: [period] } } };
    expect(readStateItem('chat', { ...current(), state: kept }).state).toEqual(kept);
    expect(readStateItem('chat', { ...current(), schemaVersion: 10, state }).state).toEqual(state);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 10, state: kept })).toThrow(/state\.endpoints\.a\.history\[0\]\.tails/);
    const negative = { ...period, tails: { p99: { samples: 54, worse: -1, allowed: 0.01 } } };
    const wrong = { ...state, endpoints: { ...state.endpoints, a: { ...state.endpoints.a!, history: [negative] } } };
    expect(() => readStateItem('chat', { ...current(), state: wrong })).toThrow(/state\.endpoints\.a\.history\[0\]\.tails\.p99\.worse/);
  });

  it('reads that a drained endpoint’s checkers were seen failing (layout 12); a layout-11 item with it was not written by one', () => {
    const drained = { ...state.endpoints.a!, status: 'drained' as const, failed: true, checkersSawFailure: true };
    const kept = { ...state, endpoints: { ...state.endpoints, a: drained } };
    expect(readStateItem('chat', { ...current(), state: kept }).state).toEqual(kept);
    expect(readStateItem('chat', { ...current(), schemaVersion: 11, state }).state).toEqual(state);
    expect(() => readStateItem('chat', { ...current(), schemaVersion: 11, state: kept })).toThrow(/state\.endpoints\.a\.checkersSawFailure/);
    const wrong = { ...state, endpoints: { ...state.endpoints, a: { ...drained, checkersSawFailure: 'yes' } } };
    expect(() => readStateItem('chat', { ...current(), state: wrong })).toThrow(/state\.endpoints\.a\.checkersSawFailure/);
  });

  it('reads the way a recent change moved each endpoint, and nothing else there', () => {
    const v3 = { ...state, recentChanges: [{ at: T0 - MINUTE, emergency: false, moved: { a: 1 as const, b: -1 as const } }] };
    expect(readStateItem('chat', { ...current(), state: v3 }).state).toEqual(v3);
    const sideways = { ...state, recentChanges: [{ at: T0 - MINUTE, emergency: false, moved: { a: 2 } }] };
    expect(() => readStateItem('chat', { ...current(), state: sideways })).toThrow(CorruptStateError);
  });

  it('migrates layout 1, where the state’s later fields are absent when empty', () => {
    const { rollouts: _r, demandHistory: _d, deploymentKeys: _k, drillStarts: _s, loadProfiles: _l, ...v1 } = stateV3;
    expect(readStateItem('chat', { ...current(), schemaVersion: 1, state: v1 }).state).toEqual(state);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a newer layout', { ...current(), schemaVersion: STATE_SCHEMA_VERSION + 1 }, 'schemaVersion'],
    ['no layout number', withAttribute('schemaVersion', undefined), 'schemaVersion'],
    ['a layout number that is not a number', withAttribute('schemaVersion', '2'), 'schemaVersion'],
  ])('refuses an item of %s, saying which layouts it reads', (_name, item, field) => {
    expect(() => readStateItem('chat', item)).toThrow(UnsupportedStateVersionError);
    expect(() => readStateItem('chat', item)).toThrow(
      expect.objectContaining({ field, message: expect.stringContaining(`reads layouts 1 to ${STATE_SCHEMA_VERSION}`) }),
    );
  });

  it.each<[string, Record<string, unknown> | null, string]>([
    ['not an object', null, '(root)'],
    ['a version of 0', withAttribute('version', 0), 'version'],
    ['no state', withAttribute('state', undefined), 'state'],
    ['an endpoint in a state the engine does not have', withAttribute('state.endpoints.a.status', 'sleeping'), 'state.endpoints.a.status'],
    ['a field of the current layout missing', withAttribute('state.rollouts', undefined), 'state.rollouts'],
    ['an attribute steer53 does not write in the state', withAttribute('state.surprise', 1), 'state.surprise'],
    ['a weight that is not a number', withAttribute('state.appliedWeights.a', 'high'), 'state.appliedWeights.a'],
    ['an engine weight that is not a number', withAttribute('engineWeights', { a: 'high' }), 'engineWeights.a'],
    [
      'an intent without its decision',
      withAttribute('pending', {
        decisionId: 'd',
        recordedAt: T0,
        record: { hostedZoneId: 'Z', dnsName: 'x', recordType: 'A' },
        from: {},
        to: {},
        trigger: 's',
      }),
      'pending.decision',
    ],
  ])('refuses an item with %s, naming the field', (_name, item, field) => {
    expect(() => readStateItem('chat', item)).toThrow(CorruptStateError);
    expect(() => readStateItem('chat', item)).toThrow(
      expect.objectContaining({ service: 'chat', field, message: expect.stringContaining(`not readable: ${field}: `) }),
    );
  });

  it('leaves attributes outside the state alone (DynamoDB keys, a tag added by hand)', () => {
    expect(readStateItem('chat', { ...current(), pk: 'SERVICE#chat', sk: 'STATE', owner: 'team-a' }).state).toEqual(state);
  });
});

describe('Class: InMemoryStateStore', () => {
  it('reads through the same schema: a broken item fails the load rather than being decided from', async () => {
    const store = new InMemoryStateStore();
    store.seedItem({ ...withAttribute('state.endpoints.b.shed', 2), service: 'chat' });
    await expect(store.load('chat')).rejects.toThrow(expect.objectContaining({ name: 'CorruptStateError', field: 'state.endpoints.b.shed' }));
  });
});
