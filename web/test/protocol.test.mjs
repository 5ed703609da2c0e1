// Request ids: unique per tracker, so sockets of one session never collide.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestTracker, fillOf, randomPrefix } from "../.test-build/protocol.js";

test("each tracker numbers its requests under a random prefix of its own", async () => {
  const a = new RequestTracker("c");
  const b = new RequestTracker("c");
  const [first, p1] = a.request("ping");
  const [second, p2] = a.request("ping");
  const [other, p3] = b.request("ping");
  assert.match(first.msg_id, /^c[0-9a-f]{12}-1$/);
  assert.equal(second.msg_id, `${a.prefix}-2`);
  assert.notEqual(a.prefix, b.prefix);
  assert.notEqual(first.msg_id, other.msg_id);
  for (const t of [a, b]) t.failAll("test over");
  for (const p of [p1, p2, p3]) await assert.rejects(p, /test over/);
});

test("random prefixes keep their kind", () => {
  assert.match(randomPrefix("m"), /^m[0-9a-f]{12}$/);
});

test("a fill event's fill takes its order's id, client id, symbol and side", () => {
  const order = { order_id: 7, client_order_id: "w-1", sym: "ACME", side: "sell", status: "partially_filled", leaves_qty: 2 };
  const fill = { fill_id: 3, price: "101.00", qty: 3, liquidity: "maker", trade_id: 9, ts: 1 };
  assert.deepEqual(fillOf(order, fill), {
    fill_id: 3, price: "101.00", qty: 3, liquidity: "maker", trade_id: 9, ts: 1,
    order_id: 7, client_order_id: "w-1", sym: "ACME", side: "sell",
  });
});
