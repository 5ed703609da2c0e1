// Exact decimal arithmetic on the protocol's price strings.
//
// Prices and cash travel as decimal strings ("100.25"). The page never turns
// an order price into a float: it validates and formats with BigInt values
// scaled by a power of ten. Floats appear only for display-only ratios
// (percent change) and for the chart, which draws numbers.

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/** A decimal as an integer `units` times 10^-scale. */
export interface Dec {
  units: bigint;
  scale: number;
}

export function isDecimalString(s: string): boolean {
  return DECIMAL_RE.test(s);
}

/** Number of digits after the point ("100.25" -> 2, "7" -> 0). */
export function decimalsOf(s: string): number {
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.length - dot - 1;
}

export function parseDec(s: string): Dec {
  const t = s.trim();
  if (!DECIMAL_RE.test(t)) throw new Error(`not a decimal: ${JSON.stringify(s)}`);
  const neg = t.startsWith("-");
  const body = neg ? t.slice(1) : t;
  const dot = body.indexOf(".");
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  const scale = dot < 0 ? 0 : body.length - dot - 1;
  const units = BigInt(digits);
  return { units: neg ? -units : units, scale };
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Re-express `d` with `scale` digits; exact when growing, truncating when shrinking. */
export function rescale(d: Dec, scale: number): Dec {
  if (scale === d.scale) return d;
  if (scale > d.scale) return { units: d.units * pow10(scale - d.scale), scale };
  return { units: d.units / pow10(d.scale - scale), scale };
}

/** `s` as an integer number of 10^-scale units, or null if that loses digits. */
export function toUnits(s: string, scale: number): bigint | null {
  const d = parseDec(s);
  if (d.scale <= scale) return rescale(d, scale).units;
  const back = rescale(rescale(d, scale), d.scale);
  return back.units === d.units ? rescale(d, scale).units : null;
}

/** Format an integer count of 10^-scale units as a decimal string. */
export function formatUnits(units: bigint, scale: number): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  let s = abs.toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, "0");
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }
  return neg && abs !== 0n ? `-${s}` : s;
}

export function formatDec(d: Dec): string {
  return formatUnits(d.units, d.scale);
}

/** True when `value` is an exact multiple of `step` (both decimal strings). */
export function isMultipleOf(value: string, step: string): boolean {
  const a = parseDec(value);
  const b = parseDec(step);
  const scale = Math.max(a.scale, b.scale);
  const bu = rescale(b, scale).units;
  if (bu === 0n) return true;
  return rescale(a, scale).units % bu === 0n;
}

export function add(a: Dec, b: Dec): Dec {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale).units + rescale(b, scale).units, scale };
}

export function sub(a: Dec, b: Dec): Dec {
  return add(a, { units: -b.units, scale: b.scale });
}

export function mulInt(a: Dec, n: number | bigint): Dec {
  return { units: a.units * BigInt(n), scale: a.scale };
}

export function compareDec(a: Dec, b: Dec): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale).units;
  const y = rescale(b, scale).units;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Round half away from zero to `scale` digits. */
export function roundDec(d: Dec, scale: number): Dec {
  if (d.scale <= scale) return rescale(d, scale);
  const div = pow10(d.scale - scale);
  const neg = d.units < 0n;
  const abs = neg ? -d.units : d.units;
  let q = abs / div;
  if ((abs % div) * 2n >= div) q += 1n;
  return { units: neg ? -q : q, scale };
}

/** Display helper: a decimal string rounded to `scale` digits ("" for null). */
export function fixed(s: string | null | undefined, scale: number): string {
  if (s === null || s === undefined || s === "" || !isDecimalString(s)) return s ?? "";
  return formatDec(roundDec(parseDec(s), scale));
}

/** Adds thousands separators to the integer part of a decimal string. */
export function grouped(s: string): string {
  const neg = s.startsWith("-");
  const body = neg ? s.slice(1) : s;
  const dot = body.indexOf(".");
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? "" : body.slice(dot);
  return (neg ? "-" : "") + int.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + frac;
}

/** Drops trailing zeros beyond `minScale` digits ("99.985000", 2 -> "99.985"). Display only. */
export function trimmed(s: string | null | undefined, minScale: number): string {
  if (!s || !isDecimalString(s)) return s ?? "";
  const d = parseDec(s);
  let scale = d.scale;
  let units = d.units;
  while (scale > minScale && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return formatDec(rescale({ units, scale }, Math.max(scale, minScale)));
}
