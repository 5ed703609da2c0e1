// Order ticket: buy/sell, limit/market, price, qty, TIF, post-only.
// Validated in the page against tick, lot and min_qty with exact decimal
// arithmetic; the server's error is shown when it rejects anyway.
//
// Keys: B / S pick the side and focus the price, Enter submits, Esc clears,
// ArrowUp / ArrowDown step the price by one tick and the quantity by one lot.

import { formatUnits, isDecimalString, isMultipleOf, parseDec, rescale, toUnits } from "../decimal.ts";
import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import type { OrderType, Side, SymbolInfo, Tif } from "../protocol.ts";
import type { Trading } from "../trading.ts";
import { h, setText } from "./dom.ts";

export interface TicketApi {
  el: HTMLElement;
  setPrice(price: string): void;
}

/** Validates the ticket; returns an error message or null. Pure, exported for tests. */
export function validateTicket(
  info: SymbolInfo | undefined,
  type: OrderType,
  price: string,
  qty: string,
): string | null {
  if (!info) return "Pick a symbol first.";
  if (info.status === "halted") return `SYMBOL_HALTED: ${info.sym} is halted — new orders are refused.`;
  if (!/^\d+$/.test(qty)) return "Quantity must be a whole number.";
  const q = BigInt(qty);
  if (q <= 0n) return "Quantity must be above zero.";
  if (q % BigInt(info.lot) !== 0n) return `Quantity must be a multiple of the lot (${info.lot}).`;
  if (q < BigInt(info.min_qty)) return `Quantity must be at least ${info.min_qty}.`;
  if (q > BigInt(Number.MAX_SAFE_INTEGER)) return "Quantity is too large.";
  if (type === "limit") {
    if (!price) return "Enter a limit price.";
    if (!isDecimalString(price) || price.startsWith("-")) return "Price must be a decimal number like 100.25.";
    if (parseDec(price).units === 0n) return "Price must be above zero.";
    if (!isMultipleOf(price, info.tick)) return `Price must be a multiple of the tick ${info.tick}.`;
  }
  return null;
}

/** The quantity to keep after a symbol change: `current` when valid for `info`, else its minimum. */
export function quantityFor(info: SymbolInfo | undefined, current: string): string {
  const fallback = String(info?.min_qty ?? 1);
  if (!info || !/^\d+$/.test(current.trim())) return fallback;
  const q = BigInt(current.trim());
  return q >= BigInt(info.min_qty) && q % BigInt(info.lot) === 0n ? current.trim() : fallback;
}

/** The lowest and highest limit prices on tick inside the band (for the hint). */
function band(info: SymbolInfo, scale: number): string {
  try {
    const s = scale + 4;
    const ref = rescale(parseDec(info.ref_price), s).units;
    const tick = rescale(parseDec(info.tick), s).units;
    const d = (ref * rescale(parseDec(info.band_pct), 4).units) / 1_000_000n; // ref * pct / 100
    const lo = ((ref - d + tick - 1n) / tick) * tick; // round up onto a tick
    const hi = ((ref + d) / tick) * tick; // round down onto a tick
    return `${formatUnits(lo / 10_000n, scale)} – ${formatUnits(hi / 10_000n, scale)}`;
  } catch {
    return "—";
  }
}

export function ticketView(market: Market, trading: Trading): TicketApi {
  let side: Side = "buy";
  let type: OrderType = "limit";
  let busy = false;

  const buyBtn = h("button", { type: "button", class: "side-btn buy", testid: "ticket-buy" }, "Buy");
  const sellBtn = h("button", { type: "button", class: "side-btn sell", testid: "ticket-sell" }, "Sell");
  const limitBtn = h("button", { type: "button", class: "seg", testid: "ticket-type-limit" }, "Limit");
  const marketBtn = h("button", { type: "button", class: "seg", testid: "ticket-type-market" }, "Market");
  const price = h("input", {
    testid: "ticket-price",
    id: "ticket-price",
    inputmode: "decimal",
    autocomplete: "off",
    placeholder: "price",
  });
  const qty = h("input", { testid: "ticket-qty", id: "ticket-qty", inputmode: "numeric", autocomplete: "off" });
  const tif = h(
    "select",
    { testid: "ticket-tif", id: "ticket-tif" },
    ...(["GTC", "IOC", "FOK"] as Tif[]).map((t) => h("option", { value: t }, t)),
  );
  const postOnly = h("input", { type: "checkbox", testid: "ticket-post-only", id: "ticket-post-only" });
  const submit = h("button", { type: "submit", class: "btn submit buy", testid: "ticket-submit" });
  const hint = h("div", { class: "ticket-hint muted small", testid: "ticket-hint" });
  const halted = h("div", { class: "ticket-halted", testid: "ticket-halted", hidden: true });
  const error = h("div", { class: "ticket-msg error", testid: "ticket-error", role: "alert" });
  const result = h("div", { class: "ticket-msg ok", testid: "ticket-result", role: "status" });
  const symEl = h("b", { testid: "ticket-sym" });

  const form = h(
    "form",
    { class: "ticket-form", testid: "ticket-form", novalidate: true, autocomplete: "off" },
    h("div", { class: "side-toggle" }, buyBtn, sellBtn),
    h("div", { class: "segs full" }, limitBtn, marketBtn),
    h("label", { for: "ticket-price" }, "Price"),
    price,
    h("label", { for: "ticket-qty" }, "Quantity"),
    qty,
    h(
      "div",
      { class: "ticket-row" },
      h("label", { for: "ticket-tif" }, "TIF"),
      tif,
      h("label", { class: "check", for: "ticket-post-only" }, postOnly, "Post-only"),
    ),
    hint,
    halted,
    submit,
    error,
    result,
    h("div", { class: "muted small keys" }, h("kbd", null, "B"), "/", h("kbd", null, "S"), " side · ", h("kbd", null, "Enter"), " send · ", h("kbd", null, "Esc"), " clear"),
  );
  const el = h(
    "section",
    { class: "panel ticket", testid: "ticket" },
    h("header", { class: "panel-head" }, h("span", null, "Order ticket"), symEl),
    form,
  );

  const info = () => market.symbols.get(market.selected);

  const render = () => {
    const s = info();
    buyBtn.setAttribute("aria-pressed", String(side === "buy"));
    sellBtn.setAttribute("aria-pressed", String(side === "sell"));
    limitBtn.classList.toggle("on", type === "limit");
    marketBtn.classList.toggle("on", type === "market");
    price.disabled = type === "market";
    tif.disabled = type === "market";
    postOnly.disabled = type === "market";
    if (type === "market") price.placeholder = "market";
    else price.placeholder = "price";
    setText(symEl, market.selected);
    el.dataset.side = side;
    el.dataset.type = type;
    if (s) {
      const scale = market.scaleOf(s.sym);
      setText(hint, `tick ${s.tick} · lot ${s.lot} · min ${s.min_qty} · band ${band(s, scale)}`);
      const isHalted = s.status === "halted";
      halted.hidden = !isHalted;
      setText(halted, isHalted ? `${s.sym} is halted — new orders are refused` : "");
      el.dataset.status = s.status;
    }
    const q = qty.value.trim() || "0";
    const p = type === "market" ? "market" : price.value.trim() || "…";
    setText(submit, `${side === "buy" ? "Buy" : "Sell"} ${q} ${market.selected} @ ${p}`);
    submit.className = `btn submit ${side}`;
    submit.disabled = busy || !s || s.status === "halted" || !trading.canTrade;
  };

  const clearMsgs = () => {
    setText(error, "");
    setText(result, "");
  };
  const setSide = (s: Side) => {
    side = s;
    schedule(render);
  };
  const setType = (t: OrderType) => {
    if (t !== type) {
      // A market order has no price; a limit order starts from an empty price rather than a stale one.
      price.value = "";
      clearMsgs();
    }
    type = t;
    schedule(render);
  };
  const clear = () => {
    price.value = "";
    qty.value = String(info()?.min_qty ?? 1);
    postOnly.checked = false;
    tif.value = "GTC";
    clearMsgs();
    schedule(render);
  };

  const step = (input: HTMLInputElement, stepStr: string, dir: 1 | -1) => {
    const scale = Math.max(0, stepStr.includes(".") ? stepStr.length - stepStr.indexOf(".") - 1 : 0);
    const stepUnits = toUnits(stepStr, scale) ?? 1n;
    let cur: bigint | null = null;
    if (isDecimalString(input.value.trim())) cur = toUnits(input.value.trim(), scale);
    if (cur === null) {
      const s = info();
      const last = s?.last ?? s?.ref_price;
      cur = last ? rescale(parseDec(last), scale).units : 0n;
    } else {
      cur = (cur / stepUnits) * stepUnits + BigInt(dir) * stepUnits;
    }
    if (cur < 0n) cur = 0n;
    input.value = formatUnits(cur, scale);
    schedule(render);
  };

  const send = async () => {
    clearMsgs();
    const s = info();
    const p = price.value.trim();
    const q = qty.value.trim();
    const problem = validateTicket(s, type, p, q);
    if (problem) {
      setText(error, problem);
      error.dataset.source = "page";
      return;
    }
    busy = true;
    schedule(render);
    try {
      const o = await trading.place({
        sym: s!.sym,
        side,
        type,
        price: type === "limit" ? p : null,
        qty: Number(q),
        tif: tif.value as Tif,
        post_only: postOnly.checked,
      });
      const filled = o.filled_qty ? `, filled ${o.filled_qty}` : "";
      setText(result, `Order #${o.order_id} ${o.status.replace("_", " ")}${filled}`);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      error.dataset.source = "server";
      setText(error, e.code ? `${e.code}: ${e.message}` : String(e.message ?? err));
    } finally {
      busy = false;
      schedule(render);
    }
  };

  buyBtn.addEventListener("click", () => setSide("buy"));
  sellBtn.addEventListener("click", () => setSide("sell"));
  limitBtn.addEventListener("click", () => setType("limit"));
  marketBtn.addEventListener("click", () => setType("market"));
  for (const inp of [price, qty]) inp.addEventListener("input", () => schedule(render));
  price.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      step(price, info()?.tick ?? "0.01", e.key === "ArrowUp" ? 1 : -1);
    }
  });
  qty.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      step(qty, String(info()?.lot ?? 1), e.key === "ArrowUp" ? 1 : -1);
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!busy) void send();
  });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      clear();
      (document.activeElement as HTMLElement | null)?.blur();
    }
  });

  // Global keys when the focus is not in a text field.
  document.addEventListener("keydown", (e) => {
    if (!el.isConnected || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target as HTMLElement | null;
    const typing = !!t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
    if (typing) return;
    const k = e.key.toLowerCase();
    if (k === "b" || k === "s") {
      e.preventDefault();
      setSide(k === "b" ? "buy" : "sell");
      (type === "limit" ? price : qty).focus();
      (type === "limit" ? price : qty).select();
    } else if (e.key === "Escape") {
      clear();
    }
  });

  trading.changes.on("reject", () => {
    const r = trading.lastReject;
    if (r) {
      error.dataset.source = "server";
      setText(error, `${r.code}: ${r.message}`);
    }
  });
  let lastSym = "";
  const onSymbols = () => {
    if (market.selected !== lastSym) {
      lastSym = market.selected;
      price.value = "";
      qty.value = quantityFor(info(), qty.value);
      clearMsgs();
    }
    schedule(render);
  };
  market.changes.on("symbols", onSymbols);
  market.changes.on("selected", onSymbols);
  trading.changes.on("account", () => schedule(render));
  schedule(render);

  return {
    el,
    setPrice(p: string) {
      type = "limit";
      price.value = p;
      clearMsgs();
      schedule(render);
      qty.focus();
      qty.select();
    },
  };
}
