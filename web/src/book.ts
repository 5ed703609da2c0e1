// One symbol's public market-data stream: the order book kept in sync with
// the protocol's sequence rule (docs/protocol.md, "Sequence rule").
//
// Pure state: the caller feeds it MD events and snapshots; it says when a
// snapshot is needed ("gap") and reports trades and status changes through
// the listener. Other symbols are never affected by one symbol's gap.

import { parseDec, rescale } from "./decimal.ts";
import type { BookSnapshot, Level, SymbolStatus, Trade } from "./protocol.ts";

export interface StreamEvent {
  op: string; // "md.delta" | "md.trade" | "md.status"
  payload: any;
}

export interface StreamListener {
  trade(t: Trade): void;
  status(s: SymbolStatus): void;
}

export type EventOutcome = "applied" | "stale" | "gap" | "buffered";

/** Longest buffer kept while waiting for a snapshot; older events are dropped. */
const MAX_BUFFER = 20_000;

export class BookStream {
  /** Last applied sequence number; null until the first snapshot. */
  seq: number | null = null;
  status: SymbolStatus = "trading";
  readonly bids = new Map<bigint, number>();
  readonly asks = new Map<bigint, number>();
  /** True while a snapshot is awaited (initially, and after a gap). */
  awaitingSnapshot = true;
  /** Bumped on every book change, so views redraw only when needed. */
  version = 0;
  /** Number of gaps detected so far (resyncs requested). */
  gaps = 0;

  private buffer: StreamEvent[] = [];
  private lastTradeSeq = 0;
  private sortedBids: [bigint, number][] | null = null;
  private sortedAsks: [bigint, number][] | null = null;

  constructor(
    readonly sym: string,
    readonly scale: number,
    private readonly listener: StreamListener,
  ) {}

  priceKey(price: string | number): bigint {
    return rescale(parseDec(String(price)), this.scale).units;
  }

  /** Feeds one md.delta / md.trade / md.status event. */
  onEvent(ev: StreamEvent): EventOutcome {
    const seq = Number(ev.payload.seq);
    if (this.awaitingSnapshot) {
      if (this.seq === null || seq > this.seq) this.pushBuffer(ev);
      return "buffered";
    }
    const last = this.seq as number;
    if (seq <= last) return "stale";
    if (seq === last + 1) {
      this.apply(ev);
      return "applied";
    }
    this.startResync();
    this.pushBuffer(ev);
    return "gap";
  }

  /** A heartbeat's `seqs[sym]`: ahead of us means we missed events. */
  onHeartbeat(seq: number): EventOutcome {
    if (this.awaitingSnapshot || this.seq === null) return "buffered";
    if (seq > this.seq) {
      this.startResync();
      return "gap";
    }
    return "stale";
  }

  /**
   * Applies a snapshot, then the buffered events that follow it.
   * Returns "gap" if the buffer itself has a hole (ask for another snapshot).
   */
  onSnapshot(snap: BookSnapshot): EventOutcome {
    if (!this.awaitingSnapshot && this.seq !== null && snap.seq < this.seq) return "stale";
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of snap.bids) this.setLevel(this.bids, p, q);
    for (const [p, q] of snap.asks) this.setLevel(this.asks, p, q);
    this.seq = snap.seq;
    this.touch();
    if (snap.status && snap.status !== this.status) {
      this.status = snap.status;
      this.listener.status(snap.status);
    }
    this.awaitingSnapshot = false;

    const pending = this.buffer.sort((a, b) => a.payload.seq - b.payload.seq);
    this.buffer = [];
    for (let i = 0; i < pending.length; i++) {
      const ev = pending[i];
      const seq = Number(ev.payload.seq);
      if (seq <= this.seq) {
        // Already inside the snapshot's book, but the tape still wants the trade.
        if (ev.op === "md.trade" && seq > this.lastTradeSeq) this.emitTrade(ev.payload);
        continue;
      }
      if (seq === this.seq + 1) {
        this.apply(ev);
        continue;
      }
      this.startResync();
      this.buffer = pending.slice(i);
      return "gap";
    }
    return "applied";
  }

  /** Forget everything (used when the MD socket is replaced). */
  reset(): void {
    this.seq = null;
    this.awaitingSnapshot = true;
    this.buffer = [];
    this.bids.clear();
    this.asks.clear();
    this.touch();
  }

  /** Best `n` bids (highest first) as [priceKey, qty]. */
  topBids(n: number): [bigint, number][] {
    if (!this.sortedBids) this.sortedBids = [...this.bids].sort((a, b) => (a[0] > b[0] ? -1 : a[0] < b[0] ? 1 : 0));
    return this.sortedBids.slice(0, n);
  }

  /** Best `n` asks (lowest first) as [priceKey, qty]. */
  topAsks(n: number): [bigint, number][] {
    if (!this.sortedAsks) this.sortedAsks = [...this.asks].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return this.sortedAsks.slice(0, n);
  }

  private startResync(): void {
    this.awaitingSnapshot = true;
    this.gaps++;
  }

  private pushBuffer(ev: StreamEvent): void {
    this.buffer.push(ev);
    if (this.buffer.length > MAX_BUFFER) this.buffer.splice(0, this.buffer.length - MAX_BUFFER);
  }

  private apply(ev: StreamEvent): void {
    const p = ev.payload;
    this.seq = Number(p.seq);
    switch (ev.op) {
      case "md.delta":
        for (const [price, qty] of (p.bids ?? []) as Level[]) this.setLevel(this.bids, price, qty);
        for (const [price, qty] of (p.asks ?? []) as Level[]) this.setLevel(this.asks, price, qty);
        this.touch();
        break;
      case "md.trade":
        this.emitTrade(p);
        break;
      case "md.status":
        this.status = p.status;
        this.listener.status(p.status);
        break;
    }
  }

  private emitTrade(p: any): void {
    this.lastTradeSeq = Math.max(this.lastTradeSeq, Number(p.seq));
    this.listener.trade({
      trade_id: p.trade_id,
      sym: this.sym,
      price: String(p.price),
      qty: p.qty,
      side: p.side,
      ts: p.ts,
      seq: p.seq,
    });
  }

  private setLevel(side: Map<bigint, number>, price: string | number, qty: number): void {
    const key = this.priceKey(price);
    if (qty > 0) side.set(key, qty);
    else side.delete(key);
  }

  private touch(): void {
    this.sortedBids = null;
    this.sortedAsks = null;
    this.version++;
  }
}
