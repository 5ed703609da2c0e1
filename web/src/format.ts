// One number format for the whole site, the SDK's and the server's: money (cash, PnL) to the currency's
// precision, which is the number of decimals the server writes cash with (enough for every tick, at least
// two), with thousands separators; prices to the symbol's tick. Display only: the arithmetic stays exact.

import { decimalsOf, fixed, grouped, isDecimalString } from "./decimal.ts";

/** Decimals of money, read off a cash string from the server ("1000000.000" -> 3); 2 until one arrives. */
export function moneyScale(cash: string | null | undefined): number {
  return cash && isDecimalString(cash) ? Math.max(2, decimalsOf(cash)) : 2;
}

/** Cash or PnL: "-1234.5" at scale 3 -> "-1,234.500". */
export function money(s: string | null | undefined, scale: number): string {
  return s ? grouped(fixed(s, scale)) : "—";
}

/** A price on the tick of its symbol: "100.5" with tick "0.01" -> "100.50". */
export function price(s: string | null | undefined, tick: string | undefined): string {
  return s ? fixed(s, decimalsOf(tick ?? "0.01")) : "—";
}
