// Candle series for one symbol and interval: seeded from `candles.get`,
// extended from live md.trade events. Numbers here are for drawing only.

import type { Candle, Trade } from "./protocol.ts";

export interface Bar {
  t: number; // interval start, ms
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

/** Timeframes from one second to one hour; the server builds each from its one-second bars, which it keeps
 * for a day and across restarts, so a long timeframe has history as soon as the page opens. */
export const INTERVALS: { label: string; ms: number }[] = [
  { label: "1s", ms: 1_000 },
  { label: "5s", ms: 5_000 },
  { label: "1m", ms: 60_000 },
  { label: "5m", ms: 300_000 },
  { label: "15m", ms: 900_000 },
  { label: "1h", ms: 3_600_000 },
];

export interface Point {
  t: number;
  value: number;
}

/** Simple moving average of the closes over `n` bars (from the n-th bar on). */
export function movingAverage(bars: Bar[], n: number): Point[] {
  const out: Point[] = [];
  let sum = 0;
  for (let i = 0; i < bars.length; i++) {
    sum += bars[i].c;
    if (i >= n) sum -= bars[i - n].c;
    if (i >= n - 1) out.push({ t: bars[i].t, value: sum / n });
  }
  return out;
}

/** Volume-weighted average price from the first bar shown, each bar's volume at its typical price
 * (high + low + close) / 3: the usual estimate when only bars are at hand. Bars before any volume have none. */
export function vwap(bars: Bar[]): Point[] {
  const out: Point[] = [];
  let pv = 0;
  let v = 0;
  for (const b of bars) {
    pv += ((b.h + b.l + b.c) / 3) * b.v;
    v += b.v;
    if (v > 0) out.push({ t: b.t, value: pv / v });
  }
  return out;
}

/** Longest run of flat candles filled in for a quiet stretch. */
const MAX_FLAT_FILL = 600;
/** Bars kept in memory per series. */
const MAX_BARS = 3_000;

export class CandleSeries {
  bars: Bar[] = [];
  /** Bars changed or added since the last `takeChanged()`. */
  private changed: Bar[] = [];
  /** Set when history was replaced (the chart must reload everything). */
  reset = true;

  constructor(
    readonly sym: string,
    readonly intervalMs: number,
  ) {}

  seed(candles: Candle[]): void {
    this.bars = candles
      .map((c) => ({ t: c.t, o: +c.o, h: +c.h, l: +c.l, c: +c.c, v: c.v }))
      .sort((a, b) => a.t - b.t);
    this.changed = [];
    this.reset = true;
  }

  addTrade(tr: Trade): void {
    const price = +tr.price;
    const t = Math.floor(tr.ts / this.intervalMs) * this.intervalMs;
    const last = this.bars[this.bars.length - 1];
    if (!last) {
      this.push({ t, o: price, h: price, l: price, c: price, v: tr.qty });
      return;
    }
    if (t < last.t) return; // older than what we show: the seed already holds it
    if (t === last.t) {
      last.h = Math.max(last.h, price);
      last.l = Math.min(last.l, price);
      last.c = price;
      last.v += tr.qty;
      this.markChanged(last);
      return;
    }
    // Flat candles for quiet intervals, as the server does, so there are no holes.
    const missing = (t - last.t) / this.intervalMs - 1;
    if (missing > 0 && missing <= MAX_FLAT_FILL) {
      for (let k = 1; k <= missing; k++) {
        const c = last.c;
        this.push({ t: last.t + k * this.intervalMs, o: c, h: c, l: c, c, v: 0 });
      }
    }
    this.push({ t, o: price, h: price, l: price, c: price, v: tr.qty });
  }

  takeChanged(): Bar[] {
    const out = this.changed;
    this.changed = [];
    return out;
  }

  private push(b: Bar): void {
    this.bars.push(b);
    if (this.bars.length > MAX_BARS) {
      this.bars.splice(0, this.bars.length - MAX_BARS);
      this.reset = true;
    }
    this.markChanged(b);
  }

  private markChanged(b: Bar): void {
    if (this.changed[this.changed.length - 1] !== b) this.changed.push(b);
  }
}
