// Order book ladder for the selected symbol: asks above, bids below, size
// bars, the user's own resting orders marked with the quantity ahead of
// them in the level's queue; click a level to price the ticket. Rows are
// built once per depth and only their text changes.

import { formatUnits } from "../decimal.ts";
import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import type { Trading } from "../trading.ts";
import { h, setClass, setText } from "./dom.ts";

interface LevelRow {
  el: HTMLElement;
  own: HTMLElement;
  price: HTMLElement;
  qty: HTMLElement;
  bar: HTMLElement;
  side: "ask" | "bid";
  value: string; // price currently shown ("" when empty)
}

const DEPTHS = [5, 10, 20];

export function ladderView(market: Market, trading: Trading, onPick: (price: string) => void): HTMLElement {
  let depth = 10;
  const asksEl = h("div", { class: "ladder-side asks", testid: "ladder-asks" });
  const bidsEl = h("div", { class: "ladder-side bids", testid: "ladder-bids" });
  const spread = h("div", { class: "ladder-spread", testid: "ladder-spread" });
  const seqEl = h("span", { class: "muted small", testid: "ladder-seq" });
  const depthSel = h(
    "select",
    {
      testid: "ladder-depth",
      title: "Book depth",
      onchange: () => {
        depth = Number(depthSel.value);
        build();
        schedule(render);
      },
    },
    ...DEPTHS.map((d) => h("option", { value: String(d), selected: d === depth }, String(d))),
  );
  const root = h(
    "section",
    { class: "panel ladder", testid: "ladder" },
    h(
      "header",
      { class: "panel-head" },
      h("span", null, "Order book"),
      seqEl,
      h("label", { class: "muted small depth-label" }, "depth", depthSel),
    ),
    h(
      "div",
      { class: "ladder-cols" },
      h("span", { title: "Your resting quantity, and in brackets the quantity ahead of it in the queue" }, "Mine (ahead)"),
      h("span", { class: "num" }, "Price"),
      h("span", { class: "num" }, "Size"),
    ),
    h("div", { class: "ladder-body" }, asksEl, spread, bidsEl),
  );

  let askRows: LevelRow[] = [];
  let bidRows: LevelRow[] = [];

  const makeRow = (side: "ask" | "bid", i: number): LevelRow => {
    const own = h("span", { class: "own" });
    const price = h("span", { class: "num price" });
    const qty = h("span", { class: "num" });
    const bar = h("i", { class: "bar" });
    const row: LevelRow = { el: h("div", { class: `lvl ${side}` }, bar, own, price, qty), own, price, qty, bar, side, value: "" };
    row.el.dataset.testid = `ladder-${side}-${i}`;
    row.el.addEventListener("click", () => {
      if (row.value) onPick(row.value);
    });
    return row;
  };

  const build = () => {
    askRows = Array.from({ length: depth }, (_, i) => makeRow("ask", i));
    bidRows = Array.from({ length: depth }, (_, i) => makeRow("bid", i));
    // Best ask sits just above the spread: draw asks from worst to best.
    asksEl.replaceChildren(...askRows.slice().reverse().map((r) => r.el));
    bidsEl.replaceChildren(...bidRows.map((r) => r.el));
  };

  const fill = (
    rows: LevelRow[],
    levels: [bigint, number][],
    own: Map<bigint, number>,
    ahead: (level: bigint) => number | undefined,
    scale: number,
    maxQty: number,
  ) => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const lv = levels[i];
      if (!lv) {
        if (r.value !== "") {
          r.value = "";
          setText(r.price, "");
          setText(r.qty, "");
          setText(r.own, "");
          r.bar.style.width = "0";
          r.el.removeAttribute("data-price");
          r.el.removeAttribute("data-own");
          r.el.removeAttribute("data-ahead");
          setClass(r.el, `lvl ${r.side}`);
        }
        continue;
      }
      const [key, qty] = lv;
      const price = formatUnits(key, scale);
      r.value = price;
      r.el.dataset.price = price;
      setText(r.price, price);
      setText(r.qty, String(qty));
      const mine = own.get(key) ?? 0;
      const before = mine ? ahead(key) : undefined;
      setText(r.own, mine ? (before === undefined ? String(mine) : `${mine} (${before})`) : "");
      if (mine) r.el.dataset.own = String(mine);
      else r.el.removeAttribute("data-own");
      if (before !== undefined) r.el.dataset.ahead = String(before);
      else r.el.removeAttribute("data-ahead");
      setClass(r.el, `lvl ${r.side} filled${mine ? " mine" : ""}`);
      const w = `${Math.max(2, Math.round((qty / maxQty) * 100))}%`;
      if (r.bar.style.width !== w) r.bar.style.width = w;
    }
  };

  const render = () => {
    const sym = market.selected;
    const stream = market.streams.get(sym);
    if (!stream) return;
    const scale = stream.scale;
    const asks = stream.topAsks(depth);
    const bids = stream.topBids(depth);
    let maxQty = 1;
    for (const [, q] of asks) maxQty = Math.max(maxQty, q);
    for (const [, q] of bids) maxQty = Math.max(maxQty, q);
    const key = (p: string) => stream.priceKey(p);
    const own = trading.ownLevels(sym, key);
    fill(askRows, asks, own.sell, (level) => trading.aheadAt(sym, "sell", level, key), scale, maxQty);
    fill(bidRows, bids, own.buy, (level) => trading.aheadAt(sym, "buy", level, key), scale, maxQty);
    if (asks[0] && bids[0]) {
      setText(spread, `spread ${formatUnits(asks[0][0] - bids[0][0], scale)}`);
    } else {
      setText(spread, asks[0] || bids[0] ? "one-sided book" : "empty book");
    }
    setText(seqEl, stream.awaitingSnapshot ? "resyncing…" : `seq ${stream.seq ?? "—"}`);
    root.dataset.sym = sym;
    root.dataset.seq = String(stream.seq ?? "");
    root.dataset.synced = String(!stream.awaitingSnapshot);
  };

  build();
  market.changes.on("book", () => schedule(render));
  market.changes.on("selected", () => schedule(render));
  trading.changes.on("orders", () => schedule(render));
  schedule(render);
  return root;
}
