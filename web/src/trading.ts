// The user's private state: open orders, fills, positions and PnL.
// Loaded with account.get / orders.list / fills.list, then kept current by
// the CMD events (order.*, account.update).

import type { Session } from "./connection.ts";
import { type Dec, add, decimalsOf, fixed, formatDec, mulInt, parseDec, sub, trimmed } from "./decimal.ts";
import { Emitter } from "./emitter.ts";
import { moneyScale } from "./format.ts";
import type { Market } from "./market.ts";
import type {
  Account,
  Envelope,
  Fill,
  Order,
  OrderChange,
  OrderType,
  Position,
  Side,
  Tif,
} from "./protocol.ts";
import { fillOf } from "./protocol.ts";

export type TradingTopic = "orders" | "fills" | "account" | "reject";

const LIVE = new Set(["new", "partially_filled"]);
const FILLS_KEPT = 200;
/**
 * Least time between two `orders.list` asked for the queue positions: a busy
 * level changes many times a second, and one answer covers every change
 * before it.
 */
export const QUEUE_REFRESH_MS = 250;
/** The share of the user's message rate the queue positions may take, so they never crowd out orders. */
const QUEUE_SHARE = 0.05;
const ZERO: Dec = { units: 0n, scale: 0 };

export interface OrderTicket {
  sym: string;
  side: Side;
  type: OrderType;
  price: string | null; // decimal string; never a float
  qty: number;
  tif: Tif;
  post_only: boolean;
}

export interface PnlRow {
  sym: string;
  qty: number;
  avg: string | null;
  last: string | null;
  unrealized: string;
  realized: string;
  fees: string;
}

let cidCounter = 0;

export class Trading {
  readonly changes = new Emitter<TradingTopic>();
  readonly orders = new Map<number, Order>();
  fills: Fill[] = []; // newest first
  /** Fills received live since the page opened (the blotter flashes on new ones). */
  liveFills = 0;
  readonly positions = new Map<string, Position>();
  private readonly closed = new Set<number>();
  /**
   * Quantity ahead of each resting order at its price level, as the server
   * last said (`orders.list`'s `queue_ahead`); refreshed when the level changes.
   */
  readonly queueAhead = new Map<number, number>();
  private queueTimer: ReturnType<typeof setTimeout> | null = null;
  private queueAskedAt = 0;
  private queueTicket = 0;
  cash = "0";
  /** Fees paid in total (rebates negative), as the server counts them. */
  fees = "0";
  /** Fees per symbol: `account.get`'s, plus each fill's since. */
  private readonly feesBySym = new Map<string, Dec>();
  /** Decimals of money: those the server writes cash with (see format.ts). */
  moneyScale = 2;
  realizedTotal: Dec = ZERO;
  canTrade = false;
  /** The last asynchronous rejection (order.rejected event). */
  lastReject: { code: string; message: string } | null = null;

  constructor(
    private readonly session: Session,
    private readonly market: Market,
  ) {}

  async load(roles: string[]): Promise<void> {
    this.canTrade = roles.includes("trader") || roles.includes("admin");
    this.orders.clear();
    this.queueAhead.clear();
    this.fills = [];
    this.positions.clear();
    this.feesBySym.clear();
    if (!this.canTrade) {
      this.emitAll();
      return;
    }
    const [acct, ol, fl] = await Promise.all([
      this.session.request<Account>("account.get"),
      this.session.request<{ orders: Order[] }>("orders.list", { status: "open" }),
      this.session.request<{ fills: Fill[] }>("fills.list", { limit: FILLS_KEPT }),
    ]);
    this.cash = acct.cash;
    this.fees = acct.fees ?? "0";
    this.moneyScale = moneyScale(acct.cash);
    this.realizedTotal = parseDec(acct.realized_pnl ?? "0");
    for (const p of acct.positions ?? []) {
      this.positions.set(p.sym, { ...p });
      this.feesBySym.set(p.sym, parseDec(p.fees ?? "0"));
    }
    for (const o of ol.orders ?? []) if (LIVE.has(o.status)) this.orders.set(o.order_id, o);
    this.setQueue(ol.orders ?? []);
    this.fills = (fl.fills ?? []).slice().reverse();
    this.emitAll();
  }

  onCmdEvent(env: Envelope): void {
    const p = env.payload ?? {};
    switch (env.op) {
      case "order.accepted":
      case "order.canceled":
      case "order.expired":
      case "order.amended":
        this.applyChange(p.order);
        break;
      case "order.partially_filled":
      case "order.filled":
        this.applyChange(p.order);
        if (p.fill && p.order) this.addFill(fillOf(p.order, p.fill));
        break;
      case "order.rejected":
        this.lastReject = p.error ?? { code: "REJECTED", message: "order rejected" };
        this.changes.emit("reject");
        break;
      case "account.update":
        this.onAccountUpdate(p);
        break;
    }
  }

  async place(t: OrderTicket): Promise<Order> {
    const payload: Record<string, unknown> = {
      sym: t.sym,
      side: t.side,
      type: t.type,
      qty: t.qty,
      client_order_id: `web-${Date.now().toString(36)}-${++cidCounter}`,
    };
    // A market order takes no price and never rests: leave TIF and post-only at their defaults.
    if (t.type === "limit") Object.assign(payload, { price: t.price, tif: t.tif, post_only: t.post_only });
    const r = await this.session.request<{ order: Order }>("order.place", payload);
    this.upsert(r.order);
    return r.order;
  }

  async cancel(orderId: number): Promise<void> {
    const r = await this.session.request<{ order: Order }>("order.cancel", { order_id: orderId });
    this.upsert(r.order);
  }

  async cancelAll(sym?: string): Promise<number> {
    const r = await this.session.request<{ canceled: number[]; count: number }>(
      "order.cancel_all",
      sym ? { sym } : {},
    );
    for (const id of r.canceled ?? []) this.orders.delete(id);
    this.changes.emit("orders");
    return r.count ?? 0;
  }

  openOrders(): Order[] {
    return [...this.orders.values()].sort((a, b) => b.order_id - a.order_id);
  }

  /**
   * Levels of `sym` that changed (an MD delta's prices, or all of them after a
   * snapshot): if one of the user's orders rests there, the quantity ahead of
   * it may have changed, so ask the server again (throttled).
   */
  levelsChanged(sym: string, prices: string[] | null, key: (price: string) => bigint): void {
    if (!this.canTrade) return;
    const touched = prices === null ? null : new Set(prices.map(key));
    for (const o of this.orders.values()) {
      if (o.sym === sym && o.price !== null && (touched === null || touched.has(key(o.price)))) {
        this.refreshQueueSoon();
        return;
      }
    }
  }

  /** The least quantity ahead of the user's orders at one level of `sym` (undefined: none known). */
  aheadAt(sym: string, side: Side, level: bigint, key: (price: string) => bigint): number | undefined {
    let least: number | undefined;
    for (const o of this.orders.values()) {
      if (o.sym !== sym || o.side !== side || o.price === null || key(o.price) !== level) continue;
      const ahead = this.queueAhead.get(o.order_id);
      if (ahead !== undefined && (least === undefined || ahead < least)) least = ahead;
    }
    return least;
  }

  private refreshQueueSoon(): void {
    if (this.queueTimer !== null) return; // the refresh already planned answers for this change too
    const wait = Math.max(0, this.queueAskedAt + this.queueRefreshMs() - Date.now());
    this.queueTimer = setTimeout(() => {
      this.queueTimer = null;
      void this.refreshQueue();
    }, wait);
  }

  /** QUEUE_REFRESH_MS, or longer when the user's message rate is low. */
  private queueRefreshMs(): number {
    const rate = this.session.user?.limits?.user_messages_per_second;
    return rate ? Math.max(QUEUE_REFRESH_MS, 1000 / (rate * QUEUE_SHARE)) : QUEUE_REFRESH_MS;
  }

  private async refreshQueue(): Promise<void> {
    this.queueAskedAt = Date.now();
    const ticket = ++this.queueTicket;
    let answer: { orders: Order[] };
    try {
      answer = await this.session.request<{ orders: Order[] }>("orders.list", { status: "open" });
    } catch {
      return; // the next change of the level asks again
    }
    if (ticket !== this.queueTicket) return; // a later answer is on its way
    this.setQueue(answer.orders ?? []);
    this.changes.emit("orders");
  }

  private setQueue(orders: Order[]): void {
    this.queueAhead.clear();
    for (const o of orders) {
      if (typeof o.queue_ahead === "number" && this.orders.has(o.order_id)) this.queueAhead.set(o.order_id, o.queue_ahead);
    }
  }

  /** Own resting quantity per price level of `sym`, keyed like the book. */
  ownLevels(sym: string, key: (price: string) => bigint): { buy: Map<bigint, number>; sell: Map<bigint, number> } {
    const buy = new Map<bigint, number>();
    const sell = new Map<bigint, number>();
    for (const o of this.orders.values()) {
      if (o.sym !== sym || o.price === null) continue;
      const m = o.side === "buy" ? buy : sell;
      const k = key(o.price);
      m.set(k, (m.get(k) ?? 0) + o.leaves_qty);
    }
    return { buy, sell };
  }

  /** Positions with unrealized PnL marked to the last trade price. */
  pnlRows(): PnlRow[] {
    const rows: PnlRow[] = [];
    for (const p of this.positions.values()) {
      const last = this.market.symbols.get(p.sym)?.last ?? p.last ?? null;
      rows.push({
        sym: p.sym,
        qty: p.qty,
        avg: p.avg_price ? trimmed(p.avg_price, decimalsOf(this.market.symbols.get(p.sym)?.tick ?? "0.01")) : null,
        last,
        unrealized: fixed(formatDec(this.unrealized(p, last)), this.moneyScale),
        realized: fixed(p.realized_pnl, this.moneyScale),
        fees: fixed(formatDec(this.feesBySym.get(p.sym) ?? ZERO), this.moneyScale),
      });
    }
    return rows.sort((a, b) => a.sym.localeCompare(b.sym));
  }

  totals(): { cash: string; realized: string; unrealized: string } {
    let u: Dec = ZERO;
    for (const p of this.positions.values()) {
      u = add(u, this.unrealized(p, this.market.symbols.get(p.sym)?.last ?? p.last ?? null));
    }
    return { cash: this.cash, realized: formatDec(this.realizedTotal), unrealized: formatDec(u) };
  }

  private unrealized(p: Position, last: string | null): Dec {
    if (!p.qty || !p.avg_price || !last) return ZERO;
    return mulInt(sub(parseDec(last), parseDec(p.avg_price)), p.qty);
  }

  private onAccountUpdate(p: any): void {
    if (typeof p.cash === "string") {
      this.cash = p.cash;
      this.moneyScale = moneyScale(p.cash);
    }
    if (typeof p.fees === "string") this.fees = p.fees;
    const pos = p.position as Position | undefined;
    if (pos?.sym) {
      const old = this.positions.get(pos.sym);
      const before = parseDec(old?.realized_pnl ?? "0");
      const after = parseDec(pos.realized_pnl ?? "0");
      this.realizedTotal = add(this.realizedTotal, sub(after, before));
      this.positions.set(pos.sym, { ...old, ...pos });
    }
    this.changes.emit("account");
  }

  /**
   * An event's order: only what changed, merged into the order we hold. A
   * live order we do not hold yet (its place answer is still on its way)
   * waits for that answer; a closed one is closed whatever we hold.
   */
  private applyChange(change: OrderChange | undefined): void {
    if (!change) return;
    const had = this.orders.get(change.order_id);
    if (had) this.upsert({ ...had, ...change });
    else if (!LIVE.has(change.status) || isWhole(change)) this.upsert(change as Order);
  }

  private upsert(o: Order | undefined): void {
    if (!o) return;
    if (LIVE.has(o.status)) {
      // A late answer must not bring back an order an event already closed.
      if (this.closed.has(o.order_id)) return;
      const had = this.orders.get(o.order_id);
      if (had && had.filled_qty > o.filled_qty) return;
      this.orders.set(o.order_id, o);
      if (!had) this.refreshQueueSoon(); // where it joined the queue
    } else {
      this.orders.delete(o.order_id);
      this.queueAhead.delete(o.order_id);
      this.closed.add(o.order_id);
      if (this.closed.size > 5_000) this.closed.delete(this.closed.values().next().value as number);
    }
    this.changes.emit("orders");
  }

  private addFill(f: Fill): void {
    if (this.fills.some((x) => x.fill_id === f.fill_id)) return;
    this.fills.unshift(f);
    if (typeof f.fee === "string") this.feesBySym.set(f.sym, add(this.feesBySym.get(f.sym) ?? ZERO, parseDec(f.fee)));
    this.liveFills++;
    if (this.fills.length > FILLS_KEPT) this.fills.length = FILLS_KEPT;
    this.changes.emit("fills");
  }

  private emitAll(): void {
    this.changes.emit("orders");
    this.changes.emit("fills");
    this.changes.emit("account");
  }
}

/** Whether an order event carries the whole order (order.accepted does). */
function isWhole(change: OrderChange): change is Order {
  return change.price !== undefined && change.qty !== undefined && change.created_ts !== undefined;
}
