/**
 * Latency against load, learned per endpoint, so a canary is compared like with like.
 *
 * A DNS canary runs at a small share of its baseline, so its GPUs are nearly idle, while the
 * control endpoints run at their usual 50–80%. An LLM endpoint's latency rises with load long
 * before any queue forms (a fuller batch slows every prefill: 0.05 s alone, 0.09 s at 16
 * concurrent requests on one public benchmark), so an idle canary can be 40% slower per request
 * and still read faster than a busy control. Comparing the two as they are passes bad versions.
 *
 * So the engine learns, from normal operation, how each endpoint's latency moves with its
 * utilisation (requests per second over warm capacity), below the knee where queues form:
 *
 *   latency ≈ a_e + b · utilisation
 *
 * with an intercept per endpoint (regions differ in network and hardware) and one slope shared
 * by the service's endpoints (they run the same model on the same serving stack), fitted by
 * least squares on exponentially decayed sums — a handful of numbers per endpoint in the state.
 * The canary is then judged against its own endpoint's line at the canary's utilisation, scaled
 * by how the control endpoints run against their lines right now (a traffic mix that makes
 * every region slower makes the canary's expectation slower too). The prediction's standard
 * error comes with it; a judge that cannot trust the line says so and falls back.
 *
 * Pure: sums in, sums out.
 */
import type { LoadProfile } from './types.js';

export type { LoadProfile };

/** The sums after one more point, older points decayed by `halfLifeMs`. */
export function addPoint(profile: LoadProfile | undefined, u: number, y: number, at: number, halfLifeMs: number): LoadProfile {
  const decay = profile === undefined ? 0 : 0.5 ** (Math.max(0, at - profile.at) / halfLifeMs);
  const p = profile ?? { n: 0, u: 0, uu: 0, y: 0, yy: 0, uy: 0, at };
  return {
    n: p.n * decay + 1,
    u: p.u * decay + u,
    uu: p.uu * decay + u * u,
    y: p.y * decay + y,
    yy: p.yy * decay + y * y,
    uy: p.uy * decay + u * y,
    at,
  };
}

/** The service's shared slope of latency against utilisation, and what is needed to trust it. */
export interface LoadFit {
  /** Latency per unit of utilisation (never negative: latency does not fall with load). */
  readonly slope: number;
  /** Residual variance around the lines. */
  readonly variance: number;
  /** Σ over endpoints of Σ (u − ū_e)²: how much the utilisations varied. */
  readonly spread: number;
}

/** Fits one slope to every endpoint's points, each endpoint around its own mean. */
export function fitSlope(profiles: readonly LoadProfile[]): LoadFit | null {
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  let n = 0;
  let groups = 0;
  for (const p of profiles) {
    if (p.n < 2) continue;
    sxx += Math.max(0, p.uu - (p.u * p.u) / p.n);
    sxy += p.uy - (p.u * p.y) / p.n;
    syy += Math.max(0, p.yy - (p.y * p.y) / p.n);
    n += p.n;
    groups++;
  }
  const dof = n - groups - 1;
  // Rounding leaves a constant load a spread of ~1e-17: any real spread is far above this floor.
  if (groups === 0 || sxx <= 1e-9 * n || dof <= 0) return null;
  const slope = Math.max(0, sxy / sxx);
  const variance = Math.max(0, syy - 2 * slope * sxy + slope * slope * sxx) / dof;
  return { slope, variance, spread: sxx };
}

/** Standard deviations either side of the mean load within which a line is trusted: about the loads it was learned on. */
export const LEARNED_RANGE_SD = 2;

/** The utilisations a profile was learned on: its mean load ± LEARNED_RANGE_SD standard deviations. */
export function learnedRange(profile: LoadProfile): { readonly low: number; readonly high: number } {
  const mean = profile.u / profile.n;
  const sd = Math.sqrt(Math.max(0, profile.uu / profile.n - mean * mean));
  return { low: mean - LEARNED_RANGE_SD * sd, high: mean + LEARNED_RANGE_SD * sd };
}

/** An endpoint's expected latency at utilisation `u`, with its standard error: its line, on the shared slope. */
export function predict(profile: LoadProfile, fit: LoadFit, u: number): { readonly value: number; readonly error: number } {
  const meanU = profile.u / profile.n;
  const value = profile.y / profile.n + fit.slope * (u - meanU);
  const error = Math.sqrt(fit.variance * (1 / profile.n + ((u - meanU) * (u - meanU)) / fit.spread));
  return { value, error };
}
