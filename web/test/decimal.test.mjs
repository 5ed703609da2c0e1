// Exact decimal helpers: tick checks and PnL never go through floats.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  add, fixed, formatUnits, grouped, isMultipleOf, mulInt, parseDec, formatDec, sub, toUnits, trimmed,
} from "../.test-build/decimal.js";

test("tick multiples are exact where floats are not", () => {
  assert.equal(isMultipleOf("0.3", "0.1"), true); // 0.3 % 0.1 != 0 in floats
  assert.equal(isMultipleOf("100.25", "0.05"), true);
  assert.equal(isMultipleOf("42.52", "0.05"), false);
  assert.equal(isMultipleOf("1.2455", "0.001"), false);
  assert.equal(isMultipleOf("30000.5", "0.5"), true);
  assert.equal(isMultipleOf("7", "0.25"), true);
});

test("units round-trip and refuse lost digits", () => {
  assert.equal(toUnits("100.25", 2), 10025n);
  assert.equal(toUnits("100.2", 2), 10020n);
  assert.equal(toUnits("100.250", 2), 10025n);
  assert.equal(toUnits("100.251", 2), null);
  assert.equal(formatUnits(10025n, 2), "100.25");
  assert.equal(formatUnits(-5n, 2), "-0.05");
  assert.equal(formatUnits(7n, 0), "7");
});

test("pnl arithmetic and display rounding", () => {
  const u = mulInt(sub(parseDec("100.20"), parseDec("100.1375")), 8);
  assert.equal(formatDec(u), "0.5000");
  assert.equal(fixed("2.105", 2), "2.11");
  assert.equal(fixed("-2.105", 2), "-2.11");
  assert.equal(formatDec(add(parseDec("0.1"), parseDec("0.2"))), "0.3");
  assert.equal(grouped("1000000.00"), "1,000,000.00");
  assert.equal(grouped("-1234.5"), "-1,234.5");
  assert.equal(trimmed("99.985000", 2), "99.985");
  assert.equal(trimmed("100.000000", 2), "100.00");
});

test("non-decimals are refused", () => {
  assert.throws(() => parseDec("1e3"));
  assert.throws(() => parseDec("12.5x"));
  assert.throws(() => parseDec(""));
});
