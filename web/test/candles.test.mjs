import assert from "node:assert/strict";
import { test } from "node:test";
import { CandleSeries } from "../.test-build/candles.js";

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
