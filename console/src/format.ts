// Numbers and times as the console shows them.

const bitUnits = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
const byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** `value` in the largest unit of `units` (each `base` times the last) that keeps it at or above 1. */
function scaled(value: number | null | undefined, base: number, units: string[], decimals: (unit: number, v: number) => number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  let unit = 0;
  let v = value;
  while (Math.abs(v) >= base && unit < units.length - 1) {
    v /= base;
    unit++;
  }
  return `${v.toFixed(decimals(unit, v))} ${units[unit]}`;
}

export const bitsPerSecond = (value: number | null | undefined) => scaled(value, 1000, bitUnits, (unit, v) => (v >= 100 || unit === 0 ? 0 : 1));

export const bytes = (value: number | null | undefined) => scaled(value, 1024, byteUnits, (unit) => (unit === 0 ? 0 : 1));

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time, to the second: 2026-12-01 21:04:05. */
export function time(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "in 12 s", "3 min ago". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "–";
  const seconds = (new Date(iso).getTime() - now) / 1000;
  return seconds >= 0 ? `in ${duration(seconds)}` : `${duration(-seconds)} ago`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function percent(part: number, whole: number): number {
  return whole <= 0 ? 100 : Math.min(100, Math.round((100 * part) / whole));
}
