import assert from "node:assert/strict";
import { test } from "node:test";
import { CandleSeries, INTERVALS, movingAverage, vwap } from "../.test-build/candles.js";

const tr = (ts, price, qty = 1) => ({ trade_id: ts, sym: "ACME", price, qty, side: "buy", ts });

test("live trades extend the seed and fill quiet intervals flat", () => {
  const c = new CandleSeries("ACME", 1000);
  c.seed([{ t: 1000, o: "100.00", h: "100.50", l: "99.50", c: "100.10", v: 5 }]);
  c.addTrade(tr(1500, "100.20", 2));
  c.addTrade(tr(4200, "100.30", 1));
  assert.deepEqual(c.bars.map((b) => [b.t, b.o, b.h, b.l, b.c, b.v]), [
    [1000, 100, 100.5, 99.5, 100.2, 7],
    [2000, 100.2, 100.2, 100.2, 100.2, 0],
    [3000, 100.2, 100.2, 100.2, 100.2, 0],
    [4000, 100.3, 100.3, 100.3, 100.3, 1],
  ]);
  c.addTrade(tr(500, "1.00")); // older than the window: ignored
  assert.equal(c.bars.length, 4);
});

const bar = (t, c, v = 1, h = c, l = c) => ({ t, o: c, h, l, c, v });

test("timeframes run from one second to one hour", () => {
  assert.deepEqual(INTERVALS.map((iv) => iv.label), ["1s", "5s", "1m", "5m", "15m", "1h"]);
  assert.equal(INTERVALS.at(-1).ms, 3_600_000);
});

test("the moving average starts at the n-th bar and slides", () => {
  const bars = [bar(1, 10), bar(2, 20), bar(3, 30), bar(4, 40)];
  assert.deepEqual(movingAverage(bars, 3), [{ t: 3, value: 20 }, { t: 4, value: 30 }]);
  assert.deepEqual(movingAverage(bars.slice(0, 2), 3), []);
});

test("vwap weighs each bar's typical price by its volume and skips bars before any volume", () => {
  const bars = [bar(1, 10, 0), bar(2, 12, 1, 15, 9), bar(3, 20, 3)];
  // bar 2: typical (15 + 9 + 12) / 3 = 12, volume 1; bar 3: typical 20, volume 3
  assert.deepEqual(vwap(bars), [{ t: 2, value: 12 }, { t: 3, value: (12 + 60) / 4 }]);
});
