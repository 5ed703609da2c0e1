// Watchlist: every symbol with last price, change vs open, and status.

import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import { h, pctChange, setClass, setText } from "./dom.ts";

interface Row {
  el: HTMLElement;
  last: HTMLElement;
  chg: HTMLElement;
  status: HTMLElement;
}

export function watchlistView(market: Market): HTMLElement {
  const body = h("div", { class: "watch-body" });
  const root = h(
    "section",
    { class: "panel watchlist", testid: "watchlist" },
    h("header", { class: "panel-head" }, h("span", null, "Watchlist")),
    h(
      "div",
      { class: "watch-cols" },
      h("span", null, "Symbol"),
      h("span", { class: "num" }, "Last"),
      h("span", { class: "num" }, "Chg"),
    ),
    body,
  );
  const rows = new Map<string, Row>();
  let keys = "";

  const build = () => {
    body.replaceChildren();
    rows.clear();
    for (const sym of market.symbols.keys()) {
      const last = h("span", { class: "num", testid: `watch-last-${sym}` });
      const chg = h("span", { class: "num", testid: `watch-chg-${sym}` });
      const status = h("span", { class: "status-badge", testid: `watch-status-${sym}` });
      const el = h(
        "div",
        {
          class: "watch-row",
          testid: `watch-row-${sym}`,
          "data-sym": sym,
          tabindex: "0",
          role: "button",
          onclick: () => market.select(sym),
          onkeydown: (e: KeyboardEvent) => {
            if (e.key === "Enter") market.select(sym);
          },
        },
        h("span", { class: "watch-sym" }, h("b", null, sym), status),
        last,
        chg,
      );
      rows.set(sym, { el, last, chg, status });
      body.append(el);
    }
  };

  const render = () => {
    const k = [...market.symbols.keys()].join(",");
    if (k !== keys) {
      keys = k;
      build();
    }
    for (const [sym, info] of market.symbols) {
      const r = rows.get(sym)!;
      setText(r.last, info.last ?? "—");
      const c = pctChange(info.last, info.open);
      setText(r.chg, c.text);
      setClass(r.chg, `num ${c.sign > 0 ? "pos" : c.sign < 0 ? "neg" : ""}`);
      const halted = info.status === "halted";
      setText(r.status, halted ? "HALTED" : "");
      r.status.dataset.status = info.status;
      setClass(r.el, `watch-row${sym === market.selected ? " selected" : ""}${halted ? " halted" : ""}`);
      r.el.dataset.status = info.status;
    }
  };

  market.changes.on("symbols", () => schedule(render));
  market.changes.on("selected", () => schedule(render));
  schedule(render);
  return root;
}
