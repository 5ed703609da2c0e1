// Open orders (cancel, cancel all), fills, and positions with PnL.

import { schedule } from "../emitter.ts";
import { money } from "../format.ts";
import type { Market } from "../market.ts";
import type { Trading } from "../trading.ts";
import { h, setText, signClass, timeOfDay } from "./dom.ts";

type Tab = "orders" | "fills";

function table(testid: string, heads: string[], numeric: boolean[]): { table: HTMLElement; body: HTMLElement } {
  const body = h("tbody", { testid: `${testid}-body` });
  const table = h(
    "table",
    { class: "grid", testid },
    h("thead", null, h("tr", null, ...heads.map((t, i) => h("th", { class: numeric[i] ? "num" : "" }, t)))),
    body,
  );
  return { table, body };
}

function td(text: string | number, cls = "", testid?: string): HTMLElement {
  return h("td", { class: cls, testid }, String(text));
}

export function blotterView(market: Market, trading: Trading, notify: (msg: string, bad?: boolean) => void): HTMLElement {
  let tab: Tab = "orders";
  const ordersTabBtn = h("button", { type: "button", class: "tab on", testid: "tab-orders" }, "Open orders ");
  const fillsTabBtn = h("button", { type: "button", class: "tab", testid: "tab-fills" }, "Fills ");
  const ordersCount = h("span", { class: "count", testid: "orders-count" }, "0");
  const fillsCount = h("span", { class: "count", testid: "fills-count" }, "0");
  ordersTabBtn.append(ordersCount);
  fillsTabBtn.append(fillsCount);
  const cancelAll = h(
    "button",
    { type: "button", class: "btn btn-small btn-danger", testid: "cancel-all", title: "Cancel all open orders" },
    "Cancel all",
  );

  const orders = table(
    "open-orders",
    ["ID", "Sym", "Side", "Price", "Filled / Qty", "Ahead", "TIF", "Status", ""],
    [false, false, false, true, true, true, false, false, false],
  );
  const fills = table(
    "fills",
    ["Time", "Sym", "Side", "Price", "Qty", "Fee", "Liq", "Order"],
    [false, false, false, true, true, true, false, false],
  );
  const positions = table(
    "positions",
    ["Sym", "Qty", "Avg", "Last", "Unreal.", "Realized", "Fees"],
    [false, true, true, true, true, true, true],
  );
  const ordersWrap = h("div", { class: "scroll", testid: "orders-pane" }, orders.table);
  const fillsWrap = h("div", { class: "scroll", testid: "fills-pane", hidden: true }, fills.table);

  const left = h(
    "section",
    { class: "panel blotter", testid: "blotter" },
    h("header", { class: "panel-head tabs" }, ordersTabBtn, fillsTabBtn, h("span", { class: "grow" }), cancelAll),
    ordersWrap,
    fillsWrap,
  );
  const feesTotal = h("b", { testid: "positions-fees" });
  const right = h(
    "section",
    { class: "panel positions", testid: "positions-panel" },
    h(
      "header",
      { class: "panel-head" },
      h("span", null, "Positions"),
      h("span", { class: "grow" }),
      h("span", { class: "muted small", title: "Fees paid on every fill so far (rebates count negative)" }, "Fees ", feesTotal),
    ),
    h("div", { class: "scroll" }, positions.table),
  );

  const setTab = (t: Tab) => {
    tab = t;
    ordersTabBtn.classList.toggle("on", t === "orders");
    fillsTabBtn.classList.toggle("on", t === "fills");
    ordersWrap.hidden = t !== "orders";
    fillsWrap.hidden = t !== "fills";
  };
  ordersTabBtn.addEventListener("click", () => setTab("orders"));
  fillsTabBtn.addEventListener("click", () => setTab("fills"));

  cancelAll.addEventListener("click", async () => {
    try {
      const n = await trading.cancelAll();
      notify(`Canceled ${n} order${n === 1 ? "" : "s"}`);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      notify(`${e.code ?? "ERROR"}: ${e.message}`, true);
    }
  });

  const renderOrders = () => {
    const list = trading.openOrders();
    setText(ordersCount, String(list.length));
    cancelAll.disabled = list.length === 0;
    orders.body.replaceChildren(
      ...list.map((o) => {
        const btn = h("button", { type: "button", class: "btn btn-tiny", testid: `cancel-${o.order_id}` }, "Cancel");
        btn.addEventListener("click", async () => {
          btn.disabled = true;
          try {
            await trading.cancel(o.order_id);
          } catch (err) {
            const e = err as { code?: string; message?: string };
            notify(`${e.code ?? "ERROR"}: ${e.message}`, true);
            btn.disabled = false;
          }
        });
        const ahead = trading.queueAhead.get(o.order_id);
        return h(
          "tr",
          { testid: `order-row-${o.order_id}`, "data-order-id": o.order_id, "data-sym": o.sym, "data-price": o.price ?? "" },
          td(o.order_id, "muted"),
          td(o.sym),
          td(o.side.toUpperCase(), o.side),
          td(o.price ?? "MKT", "num"),
          td(`${o.filled_qty} / ${o.qty}`, "num"),
          td(ahead ?? "…", "num", `queue-ahead-${o.order_id}`),
          td(o.tif),
          td(o.status.replace("_", " "), "muted"),
          h("td", { class: "act" }, btn),
        );
      }),
    );
    if (!list.length) orders.body.append(h("tr", { class: "empty" }, h("td", { colspan: "9" }, "No open orders")));
  };

  const renderFills = () => {
    setText(fillsCount, String(trading.fills.length));
    fills.body.replaceChildren(
      ...trading.fills.slice(0, 100).map((f) =>
        h(
          "tr",
          { testid: "fill-row", "data-order-id": f.order_id, "data-fill-id": f.fill_id },
          td(timeOfDay(f.ts), "muted"),
          td(f.sym),
          td(f.side.toUpperCase(), f.side),
          td(f.price, "num"),
          td(f.qty, "num"),
          td(money(f.fee, trading.moneyScale), "num", "fill-fee"),
          td(f.liquidity, "muted"),
          td(f.order_id, "muted"),
        ),
      ),
    );
    if (!trading.fills.length) fills.body.append(h("tr", { class: "empty" }, h("td", { colspan: "8" }, "No fills yet")));
  };

  const renderPositions = () => {
    setText(feesTotal, money(trading.fees, trading.moneyScale));
    const rows = trading.pnlRows();
    positions.body.replaceChildren(
      ...rows.map((r) =>
        h(
          "tr",
          { testid: `position-row-${r.sym}`, "data-sym": r.sym, "data-qty": r.qty },
          td(r.sym),
          td(r.qty, `num ${r.qty > 0 ? "pos" : r.qty < 0 ? "neg" : ""}`, `position-qty-${r.sym}`),
          td(r.avg ?? "—", "num"),
          td(r.last ?? "—", "num"),
          td(money(r.unrealized, trading.moneyScale), `num ${signClass(r.unrealized)}`, `position-upnl-${r.sym}`),
          td(money(r.realized, trading.moneyScale), `num ${signClass(r.realized)}`, `position-rpnl-${r.sym}`),
          td(money(r.fees, trading.moneyScale), "num", `position-fees-${r.sym}`),
        ),
      ),
    );
    if (!rows.length) positions.body.append(h("tr", { class: "empty" }, h("td", { colspan: "7" }, "Flat")));
  };

  trading.changes.on("orders", () => schedule(renderOrders));
  let fillsSeen = trading.liveFills;
  trading.changes.on("fills", () => {
    schedule(renderFills);
    const grew = trading.liveFills > fillsSeen;
    fillsSeen = trading.liveFills;
    if (grew && tab === "orders") {
      fillsTabBtn.classList.add("flash");
      setTimeout(() => fillsTabBtn.classList.remove("flash"), 600);
    }
  });
  trading.changes.on("account", () => schedule(renderPositions));
  market.changes.on("symbols", () => schedule(renderPositions));
  schedule(renderOrders);
  schedule(renderFills);
  schedule(renderPositions);

  return h("div", { class: "bottom" }, left, right);
}
