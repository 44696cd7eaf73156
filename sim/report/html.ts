/**
 * The simulation report: one self-contained HTML file (inline SVG, CSS and a few lines of JS; no
 * network), with per scenario the controllers' metrics side by side, the SLO misses of every
 * controller over time, and for each controller: the weights it wrote (stacked) with where client
 * traffic really went, each region's p99 against the trip and clear thresholds, and the endpoint
 * states and incidents as bands.
 */
import { describeExpectation, describeOutcome } from '../expectations.js';
import type { ScenarioOutcome, ScenarioResult } from '../run.js';
import { formatFraction, missedLines, overSeeds, runsOf } from '../summary.js';
import { CONTROLLER_NAMES, type ControllerName, type RunResult } from '../world.js';
import { bands, escapeHtml, linePath, n, plotHeight, timeAxis, xOf, type Frame } from './svg.js';

const ENDPOINT_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#e15759'];
const CONTROLLER_COLORS: Record<ControllerName, string> = {
  steer53: '#1f6feb',
  static: '#8b949e',
  'route53-health-check': '#d29922',
  'route53-alarm-health-check': '#bf8700',
  'naive-threshold': '#cf222e',
  oracle: '#2da44e',
};
const STATUS_CLASS: Record<string, string> = { healthy: 'st-healthy', degraded: 'st-degraded', drained: 'st-drained', recovering: 'st-recovering' };
const WIDTH = 1180;

function frameFor(result: ScenarioResult, height: number, bottom = 22): Frame {
  return { width: WIDTH, height, left: 104, right: 150, top: 10, bottom, t0: 0, t1: result.scenario.spec.duration };
}

function incidentSpans(result: ScenarioResult): { from: number; to: number; cls: string; title: string }[] {
  const spans = result.scenario.incidents.map((i) => ({
    from: i.start,
    to: i.end,
    cls: i.harmful ? 'incident' : 'incident-obs',
    title: `${i.label} (${Math.round(i.start / 60)}–${Math.round(i.end / 60)} min)`,
  }));
  for (const d of result.scenario.deployments) {
    spans.push({
      from: d.start,
      to: d.outcomeAt,
      cls: 'deploy',
      title: `${d.label}: deploying (${Math.round(d.start / 60)}–${Math.round(d.outcomeAt / 60)} min)`,
    });
  }
  for (const source of result.scenario.spec.demand.sources) {
    for (const shape of source.shapes) {
      spans.push({
        from: shape.start,
        to: shape.start + shape.ramp + shape.hold + shape.decay,
        cls: 'incident',
        title: `demand ×${shape.factor} (${source.name ?? 'surge'})`,
      });
    }
  }
  return spans;
}

function incidentBands(result: ScenarioResult, frame: Frame): string {
  return bands(frame, incidentSpans(result));
}

/** A solid strip along the top marks each span even where the chart below is opaque; drawn last. */
function incidentStrips(result: ScenarioResult, frame: Frame): string {
  return incidentSpans(result)
    .map((span) => {
      const x0 = xOf(frame, Math.max(frame.t0, span.from));
      const x1 = xOf(frame, Math.min(frame.t1, span.to));
      return `<rect x="${n(x0)}" y="${frame.top}" width="${n(Math.max(1, x1 - x0))}" height="3" class="${span.cls}-strip"><title>${escapeHtml(span.title)}</title></rect>`;
    })
    .join('');
}

function legend(frame: Frame, items: readonly { label: string; color: string; dash?: boolean }[]): string {
  const x = frame.width - frame.right + 12;
  return items
    .map((item, i) => {
      const y = frame.top + 10 + i * 16;
      const mark = item.dash
        ? `<line x1="${x}" y1="${y - 4}" x2="${x + 14}" y2="${y - 4}" stroke="${item.color}" stroke-width="2" stroke-dasharray="4 3"/>`
        : `<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${item.color}" rx="2"/>`;
      return `${mark}<text x="${x + 20}" y="${y}" class="legend">${escapeHtml(item.label)}</text>`;
    })
    .join('');
}

/** Stacked shares of the weights the controller wrote, with dotted lines where client traffic went. */
function weightsChart(result: ScenarioResult, run: RunResult): string {
  const { scenario } = result;
  const lane = scenario.deployments.length > 0 ? ROLLOUT_LANE : 0;
  const frame = { ...frameFor(result, 170 + lane), top: 10 + lane };
  const h = plotHeight(frame);
  const y = (share: number) => frame.top + h * (1 - share);
  const ids = scenario.endpoints;
  // Step function of written shares.
  const times = [0, ...run.writes.map((w) => w.t), scenario.spec.duration];
  const weightsAt = [scenario.baselineWeights, ...run.writes.map((w) => w.after)];
  const sharesAt = weightsAt.map((ws) => {
    const total = ws.reduce((a, b) => a + b, 0);
    return ws.map((w) => (total > 0 ? w / total : 1 / ws.length));
  });
  let areas = '';
  for (let e = ids.length - 1; e >= 0; e--) {
    // Cumulative top edge of endpoints 0..e, and bottom edge of 0..e-1.
    const top: [number, number][] = [];
    const bottom: [number, number][] = [];
    for (let k = 0; k < sharesAt.length; k++) {
      const s = sharesAt[k]!;
      const upper = s.slice(0, e + 1).reduce((a, b) => a + b, 0);
      const lower = s.slice(0, e).reduce((a, b) => a + b, 0);
      const x0 = xOf(frame, times[k]!);
      const x1 = xOf(frame, times[k + 1]!);
      top.push([x0, y(upper)], [x1, y(upper)]);
      bottom.push([x0, y(lower)], [x1, y(lower)]);
    }
    const d = `M${top.map(([a, b]) => `${n(a)} ${n(b)}`).join('L')}L${bottom
      .reverse()
      .map(([a, b]) => `${n(a)} ${n(b)}`)
      .join('L')}Z`;
    areas += `<path d="${d}" fill="${ENDPOINT_COLORS[e % ENDPOINT_COLORS.length]}" fill-opacity="0.8"><title>${escapeHtml(ids[e]!)}</title></path>`;
  }
  // Where clients actually went (DNS propagation and caches): cumulative boundaries per minute.
  let lived = '';
  for (let e = 0; e < ids.length - 1; e++) {
    const points: [number, number][] = [];
    for (let m = 0; m < run.minutes; m++) {
      let cumulative = 0;
      for (let k = 0; k <= e; k++) cumulative += run.series.share[k]![m]!;
      points.push([xOf(frame, (m + 0.5) * 60), y(cumulative)]);
    }
    lived += `<path d="${linePath(points)}" class="lived"/>`;
  }
  const writes = run.writes
    .map(
      (w) =>
        `<line x1="${n(xOf(frame, w.t))}" y1="${frame.top + h}" x2="${n(xOf(frame, w.t))}" y2="${frame.top + h + 5}" class="write"><title>${escapeHtml(`${Math.round(w.t / 60)}m: ${w.before.join('/')} → ${w.after.join('/')} ${w.why}`)}</title></line>`,
    )
    .join('');
  const yTicks = [0, 0.5, 1].map((v) => `<text x="${frame.left - 6}" y="${n(y(v) + 4)}" class="tick" text-anchor="end">${v * 100}%</text>`).join('');
  return svg(
    frame,
    `${timeAxis(frame)}${areas}${incidentBands(result, frame)}${lived}${writes}${yTicks}${incidentStrips(result, frame)}${lane > 0 ? rolloutLayer(result, run, frame) : ''}<text x="40" y="${frame.top + h / 2}" class="ylabel" transform="rotate(-90 40 ${frame.top + h / 2})">weight share</text>` +
      legend(frame, [
        ...ids.map((id, i) => ({ label: id, color: ENDPOINT_COLORS[i % ENDPOINT_COLORS.length]! })),
        { label: 'client traffic', color: '#24292f', dash: true },
        ...(lane > 0
          ? [
              { label: 'deploying', color: '#9ec5f0' },
              { label: 'rollback requested', color: '#cf222e' },
              { label: 'rollout succeeded', color: '#1a7f37' },
            ]
          : []),
      ]),
  );
}

/** Room above the weights chart for the rollout lane: the pipeline's events, then steer53's. */
const ROLLOUT_LANE = 50;

const PIPELINE_WORDS: Record<string, string> = { started: 'deploy started', succeeded: 'deployed', failed: 'deploy failed', 'rolled-back': 'rolled back' };

/**
 * Deployments over the weights chart: a lane above it with the pipeline's events (top row) and
 * steer53's canary steps and published events (second row); the span the new version served in
 * this run as a band under the endpoint's name; a line down the chart at every event.
 */
function rolloutLayer(result: ScenarioResult, run: RunResult, frame: Frame): string {
  const { scenario } = result;
  const h = plotHeight(frame);
  const rowPipeline = frame.top - ROLLOUT_LANE + 12;
  const rowSteer = frame.top - ROLLOUT_LANE + 28;
  const bandY = frame.top - ROLLOUT_LANE + 36;
  // Labels of one row never overlap: placed left to right, one that would is moved right of the one before.
  const labels: { row: number; x: number; text: string; cls: string; px: number }[] = [];
  const place = (row: number, x: number, text: string, cls: string, px = 6.2): void => {
    labels.push({ row, x, text, cls, px });
  };
  let out = `<text x="${frame.left - 6}" y="${rowPipeline}" class="tick" text-anchor="end">pipeline</text><text x="${frame.left - 6}" y="${rowSteer}" class="tick" text-anchor="end">steer53</text>`;
  scenario.deployments.forEach((d, i) => {
    // What the endpoint served: deploying, then the new version until this run rolled it back.
    const marks = run.rollout.filter((m) => m.deployment === i);
    const back = marks.find((m) => m.what === 'rolled-back' && !m.duplicate)?.t ?? scenario.spec.duration;
    const x0 = xOf(frame, d.start);
    const x1 = xOf(frame, Math.min(d.outcomeAt, back));
    out += `<rect x="${n(x0)}" y="${bandY}" width="${n(Math.max(1, x1 - x0))}" height="8" class="rl-deploying"><title>${escapeHtml(`${d.endpoint} deploying ${d.version}`)}</title></rect>`;
    if (d.spec.outcome === 'succeeded' && back > d.outcomeAt) {
      const xb = xOf(frame, back);
      out += `<rect x="${n(x1)}" y="${bandY}" width="${n(Math.max(1, xb - x1))}" height="8" class="${d.badVersion ? 'rl-bad' : 'rl-good'}"><title>${escapeHtml(`${d.endpoint} serving ${d.version}${d.badVersion ? ' (the bad version)' : ''} from ${Math.round(d.outcomeAt / 60)}m${back < scenario.spec.duration ? ` to ${Math.round(back / 60)}m` : ''}`)}</title></rect>`;
      out += `<text x="${n(x1 + 4)}" y="${bandY + 7}" class="rl-band-label">${escapeHtml(`${d.endpoint} on ${d.version}`)}</text>`;
    }
    for (const m of marks) {
      const x = xOf(frame, m.t);
      const title = `${Math.floor(m.t / 60)}m${String(m.t % 60).padStart(2, '0')}s ${m.by === 'pipeline' ? 'pipeline' : 'steer53'}: ${m.endpoint} ${m.version} ${m.what}${m.duplicate ? ' (delivered again)' : ''}`;
      if (m.by === 'pipeline') {
        out += `<line x1="${n(x)}" y1="${rowPipeline + 3}" x2="${n(x)}" y2="${frame.top + h}" class="rl-event"><title>${escapeHtml(title)}</title></line>`;
        const text = `${PIPELINE_WORDS[m.what] ?? m.what}${m.duplicate ? ' (again)' : ''}`;
        place(rowPipeline, x, text, 'rl-label');
      } else {
        const cls = m.what === 'Rollback Requested' ? 'rl-rollback' : 'rl-success';
        out += `<line x1="${n(x)}" y1="${rowSteer + 3}" x2="${n(x)}" y2="${frame.top + h}" class="${cls}"><title>${escapeHtml(title)}</title></line>`;
        const text = m.what === 'Rollback Requested' ? 'rollback requested' : 'rollout succeeded';
        place(rowSteer, x, text, `${cls}-label`, 6.8);
      }
    }
  });
  // Canary steps, from steer53's own reasons (before its published events in the row: drawn first).
  let steps = '';
  for (const evaluation of run.evaluations) {
    for (const note of evaluation.rollout ?? []) {
      const step = /^CANARY_STEP: .*?(?:canary at|now) (\d+%) of baseline/.exec(note);
      if (!step) continue;
      const x = xOf(frame, evaluation.t);
      steps += `<line x1="${n(x)}" y1="${rowSteer + 3}" x2="${n(x)}" y2="${frame.top}" class="rl-step"><title>${escapeHtml(`${Math.floor(evaluation.t / 60)}m: ${note}`)}</title></line>`;
      place(rowSteer, x, step[1]!, 'rl-step-label', 5.6);
    }
  }
  const rowEnd = new Map<number, number>();
  for (const label of labels.sort((a, b) => a.x - b.x)) {
    const at = Math.max(label.x + 3, (rowEnd.get(label.row) ?? -Infinity) + 6);
    rowEnd.set(label.row, at + label.text.length * label.px);
    out += `<text x="${n(at)}" y="${label.row}" class="${label.cls}">${escapeHtml(label.text)}</text>`;
  }
  return steps + out;
}

/** Each region's true p99 per minute (log scale) against trip and clear. */
function latencyChart(result: ScenarioResult, run: RunResult): string {
  const frame = frameFor(result, 200);
  const { scenario } = result;
  const h = plotHeight(frame);
  const lo = Math.log10(100);
  const hi = Math.log10(scenario.spec.requestTimeoutSeconds * 1000);
  const y = (ms: number) => frame.top + h * (1 - (Math.log10(Math.min(Math.max(ms, 100), 10 ** hi)) - lo) / (hi - lo));
  const ids = scenario.endpoints;
  const thresholds = new Map<string, { trip: number; clear: number }>();
  scenario.service.endpoints.forEach((endpoint, r) => {
    for (const binding of scenario.bindings[r]!.values()) {
      if (binding.measure !== 'latency') continue;
      const toMs = 1 / binding.toUnit;
      thresholds.set(`${binding.signal.trip * toMs}/${binding.signal.clear * toMs}`, { trip: binding.signal.trip * toMs, clear: binding.signal.clear * toMs });
      break;
    }
    void endpoint;
  });
  let lines = '';
  for (const { trip, clear } of thresholds.values()) {
    lines += `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${n(y(trip))}" y2="${n(y(trip))}" class="trip"/><text x="${frame.width - frame.right + 4}" y="${n(y(trip) - 2)}" class="tick trip-label">trip ${trip} ms</text>`;
    lines += `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${n(y(clear))}" y2="${n(y(clear))}" class="clear"/><text x="${frame.width - frame.right + 4}" y="${n(y(clear) + 11)}" class="tick clear-label">clear ${clear} ms</text>`;
  }
  let series = '';
  ids.forEach((id, r) => {
    const points: [number, number][] = [];
    for (let m = 0; m < run.minutes; m++) {
      const v = run.series.p99[r]![m]!;
      // Minutes with almost no traffic (a drained region) say little: leave them out.
      points.push([xOf(frame, (m + 0.5) * 60), run.series.requests[r]![m]! >= 30 && Number.isFinite(v) ? y(v) : NaN]);
    }
    series += `<path d="${linePath(points)}" stroke="${ENDPOINT_COLORS[r % ENDPOINT_COLORS.length]}" class="series"><title>${escapeHtml(id)} p99</title></path>`;
  });
  const ticks = [100, 300, 1000, 3000, 10000, 30000]
    .filter((v) => Math.log10(v) <= hi + 1e-9)
    .map(
      (v) =>
        `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${n(y(v))}" y2="${n(y(v))}" class="grid"/><text x="${frame.left - 6}" y="${n(y(v) + 4)}" class="tick" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`,
    )
    .join('');
  return svg(
    frame,
    `${incidentBands(result, frame)}${ticks}${timeAxis(frame)}${lines}${series}${incidentStrips(result, frame)}<text x="40" y="${frame.top + h / 2}" class="ylabel" transform="rotate(-90 40 ${frame.top + h / 2})">p99 TTFT</text>${legend(frame, ids.map((id, i) => ({ label: id, color: ENDPOINT_COLORS[i % ENDPOINT_COLORS.length]! })).slice(0, 5))}`,
  );
}

/** Endpoint states (per controller evaluation) and incidents, as rows of bands. */
function statesChart(result: ScenarioResult, run: RunResult): string {
  const { scenario } = result;
  const ids = scenario.endpoints;
  const rowH = 18;
  const rows = ids.length + 1;
  const frame: Frame = { ...frameFor(result, rows * (rowH + 4) + 34), top: 6 };
  let out = '';
  ids.forEach((id, r) => {
    const y0 = frame.top + r * (rowH + 4);
    out += `<text x="${frame.left - 6}" y="${y0 + 13}" class="tick" text-anchor="end">${escapeHtml(id)}</text>`;
    out += `<rect x="${frame.left}" y="${y0}" width="${n(frame.width - frame.left - frame.right)}" height="${rowH}" class="st-healthy"/>`;
    for (const span of runsOf(run.evaluations, (e) => e.statuses[r] ?? 'healthy', scenario.spec.duration)) {
      if (span.value === 'healthy') continue;
      const x0 = xOf(frame, span.from);
      out += `<rect x="${n(x0)}" y="${y0}" width="${n(Math.max(1, xOf(frame, span.to) - x0))}" height="${rowH}" class="${STATUS_CLASS[span.value] ?? 'st-other'}"><title>${escapeHtml(`${id} ${span.value} from ${Math.round(span.from / 60)}m to ${Math.round(span.to / 60)}m`)}</title></rect>`;
    }
    for (const incident of scenario.incidents.filter((i) => i.regions.includes(r))) {
      const x0 = xOf(frame, incident.start);
      out += `<rect x="${n(x0)}" y="${y0 + rowH - 4}" width="${n(xOf(frame, incident.end) - x0)}" height="4" class="${incident.harmful ? 'inc-mark' : 'inc-mark-obs'}"><title>${escapeHtml(incident.label)}</title></rect>`;
    }
    scenario.deployments.forEach((d, i) => {
      if (d.region !== r) return;
      const back = run.rollout.find((m) => m.deployment === i && m.what === 'rolled-back' && !m.duplicate)?.t ?? scenario.spec.duration;
      const x0 = xOf(frame, d.start);
      const x1 = xOf(frame, Math.min(d.outcomeAt, back));
      out += `<rect x="${n(x0)}" y="${y0 + rowH - 4}" width="${n(Math.max(1, x1 - x0))}" height="4" class="rl-deploying"><title>${escapeHtml(`${d.label}: deploying`)}</title></rect>`;
      if (d.spec.outcome === 'succeeded' && back > d.outcomeAt) {
        out += `<rect x="${n(x1)}" y="${y0 + rowH - 4}" width="${n(Math.max(1, xOf(frame, back) - x1))}" height="4" class="${d.badVersion ? 'rl-bad' : 'rl-good'}"><title>${escapeHtml(`${d.endpoint} serving ${d.version}`)}</title></rect>`;
      }
    });
  });
  const fsY = frame.top + ids.length * (rowH + 4);
  out += `<text x="${frame.left - 6}" y="${fsY + 13}" class="tick" text-anchor="end">fail static</text>`;
  for (const span of runsOf(run.evaluations, (e) => e.mode ?? 'normal', scenario.spec.duration)) {
    if (span.value !== 'fail-static') continue;
    const x0 = xOf(frame, span.from);
    out += `<rect x="${n(x0)}" y="${fsY}" width="${n(Math.max(1, xOf(frame, span.to) - x0))}" height="${rowH}" class="st-failstatic"><title>fail static from ${Math.round(span.from / 60)}m to ${Math.round(span.to / 60)}m</title></rect>`;
  }
  return svg(
    frame,
    `${out}${timeAxis({ ...frame, top: frame.height - frame.bottom })}${legend({ ...frame, top: 0 }, [
      { label: 'healthy', color: '#dafbe1' },
      { label: 'degraded', color: '#f2cc60' },
      { label: 'drained', color: '#ff8182' },
      { label: 'recovering', color: '#80ccff' },
      { label: 'fail static', color: '#b392f0' },
      { label: 'incident', color: '#cf222e' },
    ])}`,
  );
}

/** SLO misses per minute, every controller, on one chart. */
function missChart(result: ScenarioResult): string {
  const frame = frameFor(result, 170);
  const h = plotHeight(frame);
  const perMinute = CONTROLLER_NAMES.map((name) => {
    const run = result.runs[name];
    const values: number[] = [];
    for (let m = 0; m < run.minutes; m++) {
      let requests = 0;
      let bad = 0;
      for (let r = 0; r < result.scenario.endpoints.length; r++) {
        requests += run.series.requests[r]![m]!;
        bad += run.series.failed[r]![m]! + run.series.missed[r]![m]!;
      }
      values.push(requests > 0 ? bad / requests : 0);
    }
    return values;
  });
  const peak = Math.max(0.01, ...perMinute.flat());
  const top = peak > 0.5 ? 1 : peak > 0.2 ? 0.5 : peak > 0.05 ? 0.2 : peak > 0.01 ? 0.05 : 0.01;
  const y = (v: number) => frame.top + h * (1 - Math.min(v, top) / top);
  let series = '';
  // steer53 last, so it is drawn on top.
  const order = [...CONTROLLER_NAMES.filter((c) => c !== 'steer53'), 'steer53' as const];
  order.forEach((name) => {
    const c = CONTROLLER_NAMES.indexOf(name);
    const points = perMinute[c]!.map((v, m): [number, number] => [xOf(frame, (m + 0.5) * 60), y(v)]);
    series += `<path d="${linePath(points)}" stroke="${CONTROLLER_COLORS[name]}" class="series${name === 'steer53' ? ' bold' : ''}"><title>${name}</title></path>`;
  });
  const ticks = [0, top / 2, top]
    .map(
      (v) =>
        `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${n(y(v))}" y2="${n(y(v))}" class="grid"/><text x="${frame.left - 6}" y="${n(y(v) + 4)}" class="tick" text-anchor="end">${(v * 100).toFixed(v * 100 < 1 ? 1 : 0)}%</text>`,
    )
    .join('');
  return svg(
    frame,
    `${incidentBands(result, frame)}${ticks}${timeAxis(frame)}${series}${incidentStrips(result, frame)}<text x="40" y="${frame.top + h / 2}" class="ylabel" transform="rotate(-90 40 ${frame.top + h / 2})">SLO missed</text>${legend(
      frame,
      CONTROLLER_NAMES.map((name) => ({ label: name, color: CONTROLLER_COLORS[name] })),
    )}`,
  );
}

function svg(frame: Frame, body: string): string {
  return `<svg viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

function seconds(s: number | null): string {
  if (s === null) return '<span class="na">never</span>';
  return s < 120 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`;
}

/** `mean / worst` over several seeds, the one value over one. */
function meanWorst<T>(outcome: ScenarioOutcome, mean: T, worst: T, format: (x: T) => string): string {
  return outcome.results.length > 1 ? `${format(mean)} <span class="muted">/ ${format(worst)}</span>` : format(mean);
}

function benefitText(x: number | null): string {
  return x === null ? '<span class="na">–</span>' : `${Math.round(x * 100)}%`;
}

function countText(x: number): string {
  return Number.isInteger(x) ? `${x}` : x.toFixed(1);
}

function metricsTable(outcome: ScenarioOutcome): string {
  const all = new Map(CONTROLLER_NAMES.map((name) => [name, overSeeds(outcome, name)]));
  // Capacity costs only where a region can be asked for more.
  const scales = outcome.results[0]!.scenario.regions.some((region) => region.scaling !== null);
  const best = Math.min(...CONTROLLER_NAMES.filter((c) => c !== 'oracle').map((c) => all.get(c)!.mean.sloMissFraction));
  const rows = CONTROLLER_NAMES.map((name) => {
    const { mean, worst } = all.get(name)!;
    const cell = <T>(m: T, w: T, f: (x: T) => string) => meanWorst(outcome, m, w, f);
    return `<tr class="${name === 'steer53' ? 'me' : ''}"><th><span class="dot" style="background:${CONTROLLER_COLORS[name]}"></span>${name}</th><td class="${mean.sloMissFraction === best && name !== 'oracle' ? 'best' : ''}">${cell(mean.sloMissFraction, worst.sloMissFraction, formatFraction)}</td><td>${cell(mean.benefit, worst.benefit, benefitText)}</td><td>${cell(mean.dnsChanges, worst.dnsChanges, countText)}</td><td class="${worst.flaps > 0 ? 'bad' : ''}">${cell(mean.flaps, worst.flaps, countText)}</td><td>${cell(mean.timeToMitigateS, worst.timeToMitigateS, seconds)}</td><td>${cell(mean.timeToBaselineS, worst.timeToBaselineS, seconds)}</td><td class="${worst.safetyViolations > 0 ? 'bad' : ''}">${cell(mean.safetyViolations, worst.safetyViolations, countText)}</td>${scales ? `<td>${cell(mean.extraInstanceHours, worst.extraInstanceHours, (x) => x.toFixed(2))}</td>` : ''}</tr>`;
  }).join('');
  const seeds =
    outcome.results.length > 1
      ? `<p class="muted small">Each cell: mean / worst seed over seeds ${outcome.results.map((r) => r.scenario.spec.seed).join(', ')} (the worst benefit is the lowest, the worst of the rest the highest; “never” on any seed makes both never).</p>`
      : '';
  return `<table class="metrics"><thead><tr><th>controller</th><th title="requests that failed or missed the latency SLO">SLO missed</th><th title="share of the oracle's benefit over static: (static − it) / (static − oracle); – where the oracle gains < 0.005">benefit</th><th>DNS changes</th><th title="a weight move of more than one unit reversed within 10 minutes">flaps</th><th title="incident start to the first change that reduced the harm">time to mitigate</th><th title="incident end to weights back at baseline">time to baseline</th><th>safety violations</th>${scales ? '<th title="replica-hours beyond the regions\' configured replicas: what asking for capacity cost">extra instance-hours</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>${seeds}`;
}

/** Every expectation of the scenario's `expect:` block as a chip: met, MISSED or skipped, with what was measured. */
function expectationChips(outcome: ScenarioOutcome): string {
  if (outcome.expectations.length === 0) return '';
  const chips = outcome.expectations
    .map((c) => {
      const cls = c.status === 'met' ? 'ok' : c.status === 'missed' ? 'miss' : 'skip';
      const mark = c.status === 'met' ? '✓' : c.status === 'missed' ? '✗ MISSED' : '– skipped';
      return `<span class="chip ${cls}">${mark} ${escapeHtml(describeExpectation(c))}: ${escapeHtml(describeOutcome(c))}</span>`;
    })
    .join(' ');
  return `<h4>Expectations of steer53 (the scenario's <code>expect:</code>)</h4><div class="targets">${chips}</div>`;
}

function timeline(run: RunResult, ids: readonly string[]): string {
  if (run.writes.length === 0) return '<p class="muted">No DNS changes.</p>';
  const rows = run.writes
    .slice(0, 40)
    .map(
      (w) =>
        `<tr><td>${Math.floor(w.t / 60)}m${String(Math.round(w.t % 60)).padStart(2, '0')}s</td><td>${w.kind === 'api' ? 'Route 53 write' : 'health check'}${w.emergency ? ' (emergency)' : ''}</td><td class="mono">${ids.map((id, i) => `${escapeHtml(id)} ${w.before[i]}→${w.after[i]}`).join(', ')}</td><td class="mono small">${escapeHtml(w.why)}</td></tr>`,
    )
    .join('');
  const more = run.writes.length > 40 ? `<p class="muted">…and ${run.writes.length - 40} more.</p>` : '';
  return `<details><summary>${run.writes.length} DNS change${run.writes.length === 1 ? '' : 's'}</summary><table class="timeline">${rows}</table>${more}</details>`;
}

function scenarioSection(outcome: ScenarioOutcome, index: number): string {
  // Charts show the first seed run; the tables cover every seed.
  const result = outcome.results[0]!;
  const { scenario } = result;
  const panels = CONTROLLER_NAMES.map((name) => {
    const run = result.runs[name];
    return `<div class="panel" data-controller="${name}"${name === 'steer53' ? '' : ' hidden'}>
<h4>Weights written, and where client traffic went</h4>${weightsChart(result, run)}
<h4>p99 time to first token per region</h4>${latencyChart(result, run)}
<h4>Endpoint states and incidents</h4>${statesChart(result, run)}
${timeline(run, scenario.endpoints)}</div>`;
  }).join('');
  const tabs = CONTROLLER_NAMES.map((name) => `<button class="tab${name === 'steer53' ? ' active' : ''}" data-controller="${name}">${name}</button>`).join('');
  return `<section id="s${index}" class="scenario">
<h2>${escapeHtml(scenario.spec.name)} ${scenario.hasIncident ? '' : '<span class="tag">no incident</span>'}</h2>
<p class="desc">${escapeHtml(scenario.spec.description)}</p>
<p class="muted small">${Math.round(scenario.spec.duration / 60)} min${scenario.spec.duration < outcome.fileDurationSeconds ? ` (cut from ${Math.round(outcome.fileDurationSeconds / 60)})` : ''} · ${outcome.results.length > 1 ? `seeds ${outcome.results.map((r) => r.scenario.spec.seed).join(', ')} (charts: seed ${scenario.spec.seed})` : `seed ${scenario.spec.seed}`} · SLO: time to first token ≤ ${scenario.spec.slo.latencyMs} ms · DNS TTL ${scenario.spec.dns.ttlSeconds} s · source ${escapeHtml(scenario.source)}</p>
${expectationChips(outcome)}
${metricsTable(outcome)}
<h4>Requests missing the SLO, per minute, every controller</h4>${missChart(result)}
<div class="tabs">${tabs}</div>${panels}</section>`;
}

function overview(outcomes: readonly ScenarioOutcome[]): string {
  const header = `<tr><th>scenario</th>${CONTROLLER_NAMES.map((c) => `<th><span class="dot" style="background:${CONTROLLER_COLORS[c]}"></span>${c}</th>`).join('')}<th>expectations</th></tr>`;
  const rows = outcomes
    .map((o, i) => {
      const met = o.expectations.filter((c) => c.status === 'met').length;
      const missed = o.expectations.filter((c) => c.status === 'missed').length;
      const skipped = o.expectations.filter((c) => c.status === 'skipped').length;
      const verdict = `<span class="chip ${missed > 0 ? 'miss' : 'ok'}">${met}/${met + missed} met${missed > 0 ? `, ${missed} MISSED` : ''}</span>${skipped > 0 ? ` <span class="chip skip">${skipped} skipped</span>` : ''}`;
      return `<tr><th><a href="#s${i}">${escapeHtml(o.results[0]!.scenario.spec.name)}</a></th>${CONTROLLER_NAMES.map((c) => `<td class="${c === 'steer53' ? 'me' : ''}">${formatFraction(overSeeds(o, c).mean.sloMissFraction)}</td>`).join('')}<td>${verdict}</td></tr>`;
    })
    .join('');
  const missed = missedLines(outcomes);
  const list =
    missed.length > 0
      ? `<div class="missed"><b>Missed expectations (${missed.length})</b><ul>${missed.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul></div>`
      : '';
  return `<table class="metrics overview"><thead>${header}</thead><tbody>${rows}</tbody></table>${list}`;
}

const STYLE = `
body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:#24292f;margin:0;background:#f6f8fa}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:0 0 4px}h4{margin:14px 0 4px;font-size:13px;color:#57606a;font-weight:600}
.scenario{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:18px 22px;margin:18px 0}
.desc{margin:4px 0}.muted{color:#57606a}.small{font-size:12px}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.tag{font-size:12px;background:#eaeef2;border-radius:10px;padding:2px 8px;font-weight:500;vertical-align:middle}
table.metrics{border-collapse:collapse;margin:10px 0}
table.metrics th,table.metrics td{border-bottom:1px solid #d8dee4;padding:4px 12px;text-align:right;white-space:nowrap}
table.metrics th:first-child{text-align:left}table.metrics thead th{font-size:12px;color:#57606a;font-weight:600}
tr.me th,tr.me td,td.me{background:#ddf4ff}td.best{font-weight:700;color:#1a7f37}td.bad{font-weight:700;color:#cf222e}.na{color:#8c959f}
.dot{display:inline-block;width:9px;height:9px;border-radius:5px;margin-right:6px}
.chip{display:inline-block;border-radius:12px;padding:2px 10px;font-size:12px;margin:2px 4px 2px 0}
.chip.ok{background:#dafbe1;color:#116329}.chip.miss{background:#ffebe9;color:#a40e26;font-weight:600}.chip.skip{background:#eaeef2;color:#57606a}
.missed{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:8px 14px;margin:10px 0;color:#a40e26}.missed ul{margin:4px 0;padding-left:20px}
.tabs{margin:14px 0 0;border-bottom:1px solid #d0d7de}
.tab{font:inherit;border:1px solid transparent;border-bottom:none;background:none;padding:5px 12px;cursor:pointer;border-radius:6px 6px 0 0;color:#57606a}
.tab.active{border-color:#d0d7de;background:#fff;color:#24292f;font-weight:600;margin-bottom:-1px}
svg{display:block;max-width:100%;height:auto}
.grid{stroke:#eaeef2;stroke-width:1}.axis{stroke:#8c959f}.tick{font-size:11px;fill:#57606a}.legend{font-size:12px;fill:#24292f}.ylabel{font-size:11px;fill:#57606a;text-anchor:middle}
.incident{fill:#cf222e;fill-opacity:.08}.incident-obs{fill:#8250df;fill-opacity:.08}.incident-strip{fill:#cf222e}.incident-obs-strip{fill:#8250df}
.series{fill:none;stroke-width:1.4}.series.bold{stroke-width:2.4}
.lived{fill:none;stroke:#24292f;stroke-width:1.2;stroke-dasharray:3 3;opacity:.75}
.write{stroke:#24292f;stroke-width:1.5}
.trip{stroke:#cf222e;stroke-dasharray:6 4;stroke-width:1.3}.clear{stroke:#1a7f37;stroke-dasharray:6 4;stroke-width:1.3}
.trip-label{fill:#cf222e}.clear-label{fill:#1a7f37}
.st-healthy{fill:#dafbe1}.st-degraded{fill:#f2cc60}.st-drained{fill:#ff8182}.st-recovering{fill:#80ccff}.st-other{fill:#d0d7de}.st-failstatic{fill:#8250df;fill-opacity:.6}
.inc-mark{fill:#cf222e}.inc-mark-obs{fill:#8250df}
.deploy{fill:#0969da;fill-opacity:.07}.deploy-strip{fill:#0969da}
.rl-deploying{fill:#0969da;fill-opacity:.35}.rl-bad{fill:#cf222e;fill-opacity:.55}.rl-good{fill:#1a7f37;fill-opacity:.45}.rl-band-label{font-size:9px;fill:#24292f}
.rl-event{stroke:#0969da;stroke-width:1;stroke-dasharray:2 2}.rl-label{font-size:11px;fill:#0969da}
.rl-rollback{stroke:#cf222e;stroke-width:1.8}.rl-rollback-label{font-size:11px;fill:#cf222e;font-weight:600}
.rl-success{stroke:#1a7f37;stroke-width:1.8}.rl-success-label{font-size:11px;fill:#1a7f37;font-weight:600}
.rl-step{stroke:#57606a;stroke-width:1}.rl-step-label{font-size:10px;fill:#57606a}
details{margin-top:8px}summary{cursor:pointer;color:#0969da}
table.timeline{border-collapse:collapse;margin-top:6px}table.timeline td{padding:2px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}
`;

const SCRIPT = `
document.querySelectorAll('.scenario').forEach(function (section) {
  section.querySelectorAll('.tab').forEach(function (tab) {
    tab.addEventListener('click', function () {
      var name = tab.getAttribute('data-controller');
      section.querySelectorAll('.tab').forEach(function (t) { t.classList.toggle('active', t === tab); });
      section.querySelectorAll('.panel').forEach(function (p) { p.hidden = p.getAttribute('data-controller') !== name; });
    });
  });
});
`;

export function renderReport(results: readonly ScenarioOutcome[], meta: { readonly title?: string; readonly generatedFor?: string } = {}): string {
  const title = meta.title ?? 'steer53 simulation report';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Every scenario runs the same world, demand and seed under every controller: <b>steer53</b> (the real engine with the scenario's policy), <b>static</b> (no controller), <b>route53-health-check</b> (Route 53 failover: 30 s checks, 3 failures, hard-down only), <b>naive-threshold</b> (drain on any breach, restore on any clear) and <b>oracle</b> (knows the truth at once, still pays DNS propagation and TTL). Controllers other than the oracle see only what CloudWatch shows. Shaded bands are incidents (red), observation outages (purple) and deployments (blue); above a deployment's weights chart, its lane shows the pipeline's events, steer53's canary steps and what it told the pipeline, and how long the new version served. ${meta.generatedFor ? escapeHtml(meta.generatedFor) : ''}</p>
${overview(results)}
${results.map((r, i) => scenarioSection(r, i)).join('\n')}
</main><script>${SCRIPT}</script></body></html>
`;
}
