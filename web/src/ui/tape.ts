// Live trades tape of the selected symbol (newest on top).

import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import { h, timeOfDay } from "./dom.ts";

const SHOWN = 60;

export function tapeView(market: Market): HTMLElement {
  const body = h("div", { class: "tape-body", testid: "tape-rows" });
  const root = h(
    "section",
    { class: "panel tape", testid: "tape" },
    h("header", { class: "panel-head" }, h("span", null, "Trades")),
    h(
      "div",
      { class: "tape-cols" },
      h("span", null, "Time"),
      h("span", { class: "num" }, "Price"),
      h("span", { class: "num" }, "Qty"),
    ),
    body,
  );
  let shownTop = -1;
  let shownSym = "";

  const render = () => {
    const tape = market.tapes.get(market.selected) ?? [];
    const top = tape[0]?.trade_id ?? -1;
    if (top === shownTop && shownSym === market.selected) return;
    shownTop = top;
    shownSym = market.selected;
    const rows = tape.slice(0, SHOWN).map((t) =>
      h(
        "div",
        { class: `tape-row ${t.side === "buy" ? "buy" : "sell"}`, testid: "tape-row", "data-trade-id": t.trade_id },
        h("span", { class: "muted" }, timeOfDay(t.ts)),
        h("span", { class: "num" }, t.price),
        h("span", { class: "num" }, String(t.qty)),
      ),
    );
    body.replaceChildren(...rows);
  };

  market.changes.on("trades", () => schedule(render));
  market.changes.on("selected", () => schedule(render));
  schedule(render);
  return root;
}
