// Request ids: unique per tracker, so sockets of one session never collide.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestTracker, randomPrefix } from "../.test-build/protocol.js";

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
