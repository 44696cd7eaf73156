/**
 * Nelder–Mead simplex minimisation (Lagarias et al. 1998 coefficients: reflection 1, expansion 2,
 * contraction ½, shrink ½). Derivative-free, so it suits an objective computed by simulation. The
 * calibration fits a handful of parameters in log space with it; a few hundred evaluations suffice.
 */

export interface MinimizeOptions {
  /** Initial step of each coordinate (same length as the start). @default 0.3 for every coordinate */
  readonly step?: readonly number[];
  /** Stop after this many objective evaluations. @default 200 × dimensions */
  readonly maxEvaluations?: number;
  /** Stop when the simplex's objective values differ by less than this. @default 1e-6 */
  readonly tolerance?: number;
}

export interface Minimum {
  readonly x: readonly number[];
  readonly value: number;
  readonly evaluations: number;
}

interface Vertex {
  x: number[];
  value: number;
}

export function nelderMead(objective: (x: readonly number[]) => number, start: readonly number[], options: MinimizeOptions = {}): Minimum {
  const n = start.length;
  const maxEvaluations = options.maxEvaluations ?? 200 * n;
  const tolerance = options.tolerance ?? 1e-6;
  let evaluations = 0;
  const f = (x: number[]): Vertex => {
    evaluations++;
    const value = objective(x);
    return { x, value: Number.isFinite(value) ? value : Number.POSITIVE_INFINITY };
  };
  const simplex: Vertex[] = [f([...start])];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i]! += options.step?.[i] ?? 0.3;
    simplex.push(f(x));
  }
  const along = (from: readonly number[], to: readonly number[], t: number) => from.map((v, j) => v + t * (to[j]! - v));

  while (evaluations < maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (worst.value - best.value < tolerance) break;
    const centroid = start.map((_, j) => simplex.slice(0, n).reduce((sum, v) => sum + v.x[j]!, 0) / n);
    const reflected = f(along(centroid, worst.x, -1));
    if (reflected.value < best.value) {
      const expanded = f(along(centroid, worst.x, -2));
      simplex[n] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < simplex[n - 1]!.value) {
      simplex[n] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = f(along(centroid, outside ? reflected.x : worst.x, 0.5));
      if (contracted.value < Math.min(worst.value, reflected.value)) simplex[n] = contracted;
      else for (let i = 1; i <= n; i++) simplex[i] = f(along(best.x, simplex[i]!.x, 0.5));
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return { x: simplex[0]!.x, value: simplex[0]!.value, evaluations };
}
