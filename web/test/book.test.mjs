// The protocol's sequence rule, on one symbol's stream.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BookStream } from "../.test-build/book.js";

function stream() {
  const trades = [];
  const statuses = [];
  const s = new BookStream("ACME", 2, { trade: (t) => trades.push(t), status: (x) => statuses.push(x) });
  return { s, trades, statuses };
}
const snap = (seq, bids, asks, status = "trading") => ({ sym: "ACME", seq, status, bids, asks });
const delta = (seq, bids = [], asks = []) => ({ op: "md.delta", payload: { sym: "ACME", seq, bids, asks } });
const trade = (seq, price = "100.00", qty = 1) => ({
  op: "md.trade", payload: { sym: "ACME", seq, trade_id: seq, price, qty, side: "buy", ts: seq },
});
const levels = (arr) => arr.map(([k, q]) => [String(k), q]);

test("events before the first snapshot are buffered, then applied past it", () => {
  const { s } = stream();
  assert.equal(s.onEvent(delta(5, [["99.00", 3]])), "buffered");
  assert.equal(s.onEvent(delta(6, [["99.50", 1]])), "buffered");
  assert.equal(s.onSnapshot(snap(5, [["99.00", 3]], [["101.00", 2]])), "applied");
  assert.equal(s.seq, 6);
  assert.deepEqual(levels(s.topBids(5)), [["9950", 1], ["9900", 3]]);
  assert.deepEqual(levels(s.topAsks(5)), [["10100", 2]]);
});

test("stale events are ignored, the next one applied, zero removes a level", () => {
  const { s } = stream();
  s.onSnapshot(snap(10, [["99.00", 3]], []));
  assert.equal(s.onEvent(delta(9, [["98.00", 1]])), "stale");
  assert.equal(s.onEvent(delta(10, [["98.00", 1]])), "stale");
  assert.equal(s.onEvent(delta(11, [["99.00", 0], ["98.50", 2]])), "applied");
  assert.deepEqual(levels(s.topBids(5)), [["9850", 2]]);
});

test("a gap asks for a snapshot and replays what came after it", () => {
  const { s, trades } = stream();
  s.onSnapshot(snap(1, [["99.00", 3]], []));
  assert.equal(s.onEvent(delta(3, [["99.10", 1]])), "gap"); // seq 2 missed
  assert.equal(s.awaitingSnapshot, true);
  assert.equal(s.onEvent(trade(4, "99.10")), "buffered");
  assert.equal(s.onEvent(delta(5, [["99.20", 4]])), "buffered");
  // The snapshot already holds seq 3; 4 and 5 follow it.
  assert.equal(s.onSnapshot(snap(3, [["99.10", 1], ["99.00", 3]], [])), "applied");
  assert.equal(s.seq, 5);
  assert.equal(s.gaps, 1);
  assert.deepEqual(levels(s.topBids(2)), [["9920", 4], ["9910", 1]]);
  assert.deepEqual(trades.map((t) => t.seq), [4]);
});

test("a hole inside the buffer asks again", () => {
  const { s } = stream();
  s.onSnapshot(snap(1, [], []));
  s.onEvent(delta(3));
  s.onEvent(delta(6));
  assert.equal(s.onSnapshot(snap(3, [], [])), "gap");
  assert.equal(s.awaitingSnapshot, true);
  assert.equal(s.onSnapshot(snap(5, [], [])), "applied");
  assert.equal(s.seq, 6);
});

test("a heartbeat ahead of us is a gap; one at our seq is not", () => {
  const { s } = stream();
  s.onSnapshot(snap(7, [], []));
  assert.equal(s.onHeartbeat(7), "stale");
  assert.equal(s.onHeartbeat(9), "gap");
  assert.equal(s.awaitingSnapshot, true);
});

test("status events are part of the stream", () => {
  const { s, statuses } = stream();
  s.onSnapshot(snap(1, [], []));
  s.onEvent({ op: "md.status", payload: { sym: "ACME", seq: 2, status: "halted" } });
  assert.equal(s.status, "halted");
  assert.deepEqual(statuses, ["halted"]);
});
