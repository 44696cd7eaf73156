/**
 * The benchmark's outputs: the JSON document (the exact shape the issue gives), a markdown table,
 * and the plain summary `npm start` prints.
 */
import type { ControllerMetrics } from './metrics.js';
import type { ScenarioResult } from './run.js';
import { CONTROLLER_NAMES, type ControllerName } from './world.js';

export interface BenchDocument {
  readonly scenarios: readonly {
    readonly name: string;
    readonly incident: boolean;
    readonly controllers: Readonly<Record<ControllerName, ControllerMetrics>>;
  }[];
}

/** Exactly the shape: `{"scenarios":[{"name","incident","controllers":{…}}]}`. */
export function benchDocument(results: readonly ScenarioResult[]): BenchDocument {
  return {
    scenarios: results.map((r) => ({
      name: r.scenario.spec.name,
      incident: r.scenario.hasIncident,
      controllers: Object.fromEntries(CONTROLLER_NAMES.map((name) => [name, roundMetrics(r.metrics[name])])) as Record<ControllerName, ControllerMetrics>,
    })),
  };
}

function roundMetrics(m: ControllerMetrics): ControllerMetrics {
  return { ...m, sloMissFraction: Math.round(m.sloMissFraction * 1e6) / 1e6 };
}

function seconds(s: number | null): string {
  return s === null ? '–' : `${Math.round(s)}`;
}

export function formatFraction(x: number): string {
  return `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 2)}%`;
}

/** The full table, one row per scenario and controller, then every target with its verdict. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  const lines = [
    '| scenario | controller | sloMissFraction | dnsChanges | flaps | timeToMitigateS | timeToBaselineS | safetyViolations |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    for (const name of CONTROLLER_NAMES) {
      const m = r.metrics[name];
      lines.push(
        `| ${r.scenario.spec.name}${r.scenario.hasIncident ? '' : ' (no incident)'} | ${name} | ${m.sloMissFraction.toFixed(4)} | ${m.dnsChanges} | ${m.flaps} | ${seconds(m.timeToMitigateS)} | ${seconds(m.timeToBaselineS)} | ${m.safetyViolations} |`,
      );
    }
  }
  lines.push('', '| scenario | target | met | value |', '|---|---|---|---|');
  for (const r of results) for (const t of r.targets) lines.push(`| ${r.scenario.spec.name} | ${t.target} | ${t.met ? 'yes' : '**no**'} | ${t.detail} |`);
  return lines.join('\n');
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** A compact table for the terminal: SLO miss per controller, steer53's counts, targets met. */
export function summaryTable(results: readonly ScenarioResult[]): string {
  const header = [
    pad('scenario', 30),
    ...CONTROLLER_NAMES.map((n) => pad(n, Math.max(n.length, 9), true)),
    pad('steer53 changes/flaps/safety', 29, true),
    '  targets',
  ];
  const lines = [header.join('  ')];
  for (const r of results) {
    const s = r.metrics.steer53;
    const met = r.targets.filter((t) => t.met).length;
    lines.push(
      [
        pad(r.scenario.spec.name, 30),
        ...CONTROLLER_NAMES.map((n) => pad(formatFraction(r.metrics[n].sloMissFraction), Math.max(n.length, 9), true)),
        pad(`${s.dnsChanges}/${s.flaps}/${s.safetyViolations}`, 29, true),
        `  ${met}/${r.targets.length}${
          met < r.targets.length
            ? ' (missed: ' +
              r.targets
                .filter((t) => !t.met)
                .map((t) => t.target)
                .join('; ') +
              ')'
            : ''
        }`,
      ].join('  '),
    );
  }
  lines.push('', 'Columns 2–6: share of requests that failed or missed the latency SLO, per controller.');
  return lines.join('\n');
}
