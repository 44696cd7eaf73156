/**
 * Small SVG chart primitives for the report: axes, step areas, lines, bands. Plain strings, no
 * dependencies, so the report is one self-contained file.
 */

export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  /** Time domain, seconds. */
  readonly t0: number;
  readonly t1: number;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function xOf(frame: Frame, t: number): number {
  return frame.left + ((t - frame.t0) / (frame.t1 - frame.t0)) * (frame.width - frame.left - frame.right);
}

export function plotHeight(frame: Frame): number {
  return frame.height - frame.top - frame.bottom;
}

export function n(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** Time axis with a tick every `every` seconds, labelled in minutes, and light grid lines. */
export function timeAxis(frame: Frame, every = 1800): string {
  const parts: string[] = [];
  const y = frame.height - frame.bottom;
  for (let t = Math.ceil(frame.t0 / every) * every; t <= frame.t1 + 1e-9; t += every) {
    const x = xOf(frame, t);
    parts.push(`<line x1="${n(x)}" y1="${frame.top}" x2="${n(x)}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${n(x)}" y="${y + 14}" class="tick" text-anchor="middle">${Math.round(t / 60)}m</text>`);
  }
  parts.push(`<line x1="${frame.left}" y1="${y}" x2="${frame.width - frame.right}" y2="${y}" class="axis"/>`);
  return parts.join('');
}

/** Vertical bands across the plot, e.g. incidents. */
export function bands(frame: Frame, spans: readonly { from: number; to: number; cls: string; title: string }[]): string {
  return spans
    .map((s) => {
      const x0 = xOf(frame, Math.max(frame.t0, s.from));
      const x1 = xOf(frame, Math.min(frame.t1, s.to));
      return `<rect x="${n(x0)}" y="${frame.top}" width="${n(Math.max(1, x1 - x0))}" height="${n(plotHeight(frame))}" class="${s.cls}"><title>${escapeHtml(s.title)}</title></rect>`;
    })
    .join('');
}

/** A polyline path through (t, y) points; NaN breaks the line. */
export function linePath(points: readonly [number, number][]): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${n(x)} ${n(y)}`;
    pen = true;
  }
  return d;
}
