// Time-series charts on uPlot. Each chart asks the API for about one point per pixel of its own
// width (the metrics API's `step`), so a 30-day range never brings raw samples to the browser;
// dragging across a chart zooms all charts to that span at a finer step.
import uPlot from "uplot";
import { MetricSeries } from "./api";

export const ranges: Array<[string, number]> = [["1h", 3600], ["6h", 6 * 3600], ["24h", 86400], ["7d", 7 * 86400], ["30d", 30 * 86400]];

/**
 * Steps the metrics store answers from a tier of its own: up to 2 minutes raw samples, whole
 * 5 minutes from the 5-minute rollups, whole hours from the 1-hour rollups. A step between two of
 * them would make the API read the finer tier (raw samples for a 30-day chart).
 */
const tierSteps = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/**
 * Seconds per point so that the span fills `pixels` with at most one point each, never below
 * `floor` (the poll interval), rounded up to a step the store serves from one tier.
 */
export function stepFor(spanSeconds: number, pixels: number, floor: number): number {
  const wanted = Math.max(floor, Math.ceil(spanSeconds / Math.max(100, pixels)));
  return tierSteps.find((s) => s >= wanted) ?? Math.ceil(wanted / 86400) * 86400;
}

export interface Line {
  label: string;
  stroke: string;
}

const axisWidth = 80;

const palette = ["#2b7bb9", "#e07b39", "#3a9d5d", "#9b59b6", "#c0392b", "#16a085", "#7f8c8d", "#d4a017"];

export function colour(i: number): string {
  return palette[i % palette.length];
}

/** Points of several series merged onto one time axis (seconds), nulls where a series has none. */
export function align(series: Array<Array<[number, number | null]>>): uPlot.AlignedData {
  const times = [...new Set(series.flatMap((points) => points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((points) => {
    const column: Array<number | null> = new Array(times.length).fill(null);
    for (const [t, v] of points) column[index.get(t)!] = v;
    return column;
  });
  return [times, ...columns] as uPlot.AlignedData;
}

/** A series' points as [seconds, value]: raw or rate points carry `value`, buckets `avg`. */
export function points(series: MetricSeries | undefined, scale = 1): Array<[number, number | null]> {
  if (!series) return [];
  return series.points.map((p) => {
    const v = p.value ?? p.avg ?? null;
    return [Date.parse(p.ts) / 1000, v === null ? null : v * scale];
  });
}

export class TimeChart {
  private plot: uPlot | null = null;
  private drawn: (() => void) | null = null;
  readonly element: HTMLElement;
  private readonly body: HTMLElement;

  constructor(readonly title: string, private readonly format: (v: number) => string, private readonly onZoom: (from: number, to: number) => void) {
    this.body = document.createElement("div");
    this.body.className = "chart-body";
    const heading = document.createElement("h3");
    heading.textContent = title;
    this.element = document.createElement("div");
    this.element.className = "chart";
    this.element.dataset.chart = title;
    this.element.dataset.points = "0";
    this.element.append(heading, this.body);
  }

  /** The plot area's width in CSS pixels (without the axis), for the step. */
  get width(): number {
    if (this.plot) return Math.max(100, this.plot.over.clientWidth);
    return Math.max(300, (this.body.clientWidth || this.element.clientWidth || 800) - axisWidth - 20);
  }

  /** Draws the data; resolves once uPlot has drawn it. */
  show(lines: Line[], data: uPlot.AlignedData, from: number, to: number): Promise<void> {
    const pointCount = data.slice(1).reduce((n, column) => n + (column as Array<number | null>).filter((v) => v !== null && v !== undefined).length, 0);
    this.element.dataset.points = String(pointCount);
    const done = new Promise<void>((resolve) => { this.drawn = resolve; });
    const labels = lines.map((l) => l.label).join("|");
    if (this.plot && this.plot.series.length === lines.length + 1 && this.element.dataset.lines === labels) {
      this.plot.batch(() => {
        this.plot!.setData(data, false);
        this.plot!.setScale("x", { min: from, max: to });
      });
    } else {
      this.plot?.destroy();
      this.element.dataset.lines = labels;
      this.plot = new uPlot(this.options(lines, from, to), data, this.body);
    }
    return done;
  }

  private options(lines: Line[], from: number, to: number): uPlot.Options {
    const format = this.format;
    return {
      width: Math.max(300, this.body.clientWidth || 800),
      height: 200,
      scales: { x: { time: true, min: from, max: to } },
      series: [{}, ...lines.map((line) => ({ label: line.label, stroke: line.stroke, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? "–" : format(v)) }))],
      axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map(format), size: axisWidth }],
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      hooks: {
        setSelect: [(u: uPlot) => {
          if (u.select.width < 5) return;
          const min = u.posToVal(u.select.left, "x");
          const max = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.onZoom(min, max);
        }],
        draw: [() => {
          const resolve = this.drawn;
          this.drawn = null;
          resolve?.();
        }],
      },
    };
  }

  resize(): void {
    this.plot?.setSize({ width: Math.max(300, this.body.clientWidth || 800), height: 200 });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}
