// Public market state: symbols, per-symbol books (sequence-checked), the
// trades tape and the selected symbol's candles. Fed by MD events.

import { BookStream } from "./book.ts";
import { CandleSeries } from "./candles.ts";
import type { Session } from "./connection.ts";
import { decimalsOf } from "./decimal.ts";
import { Emitter } from "./emitter.ts";
import type { BookSnapshot, Candle, Envelope, SymbolInfo, SymbolStatus, Trade } from "./protocol.ts";

interface CandlesAnswer {
  candles: Candle[];
  seq?: number;
}

export type MarketTopic = "symbols" | "book" | "trades" | "candles" | "selected";

const TAPE_LEN = 100;
const CANDLE_DEPTH = 300;
const SNAPSHOT_WAIT_MS = 5_000;

export class Market {
  readonly changes = new Emitter<MarketTopic>();
  readonly symbols = new Map<string, SymbolInfo>();
  readonly streams = new Map<string, BookStream>();
  readonly tapes = new Map<string, Trade[]>();
  selected = "";
  intervalMs = 1_000;
  candles: CandleSeries | null = null;
  /** Snapshot requests sent for resyncs (shown in the status tooltip, checked by tests). */
  resyncs = 0;
  private snapshotInFlight = new Set<string>();
  /**
   * Told which levels of a symbol changed: a delta's prices, or null after a
   * snapshot (any level may have). The user's queue positions follow it.
   */
  onLevels: ((sym: string, prices: string[] | null) => void) | null = null;
  /** Live trades of the selected symbol held while its candles are being fetched. */
  private heldTrades: Trade[] | null = null;

  constructor(private readonly session: Session) {}

  scaleOf(sym: string): number {
    const s = this.symbols.get(sym);
    return s ? decimalsOf(s.tick) : 2;
  }

  /** (Re)loads symbols, subscribes to everything, waits for the snapshots. */
  async load(): Promise<void> {
    const { symbols } = await this.session.request<{ symbols: SymbolInfo[] }>("symbols.list");
    for (const s of symbols) {
      this.symbols.set(s.sym, { ...s });
      let stream = this.streams.get(s.sym);
      if (!stream) {
        stream = new BookStream(s.sym, decimalsOf(s.tick), {
          trade: (t) => this.onTrade(t),
          status: (st) => this.onStatus(s.sym, st),
        });
        this.streams.set(s.sym, stream);
      }
      stream.reset();
      stream.status = s.status;
    }
    if (!this.selected || !this.symbols.has(this.selected)) this.selected = symbols[0]?.sym ?? "";
    this.changes.emit("symbols");
    this.changes.emit("book");

    await this.session.mdRequest("md.subscribe", { syms: "*" });
    await this.waitForSnapshots();
    await this.loadSelected();
  }

  select(sym: string): void {
    if (sym === this.selected || !this.symbols.has(sym)) return;
    this.selected = sym;
    this.changes.emit("selected");
    this.changes.emit("book");
    void this.loadSelected();
  }

  setInterval(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    void this.loadCandles();
  }

  onMdEvent(env: Envelope): void {
    const p = env.payload ?? {};
    switch (env.op) {
      case "md.snapshot":
        this.onSnapshot(p as BookSnapshot);
        break;
      case "md.delta":
      case "md.trade":
      case "md.status": {
        const stream = this.streams.get(p.sym);
        if (!stream) return;
        const out = stream.onEvent({ op: env.op, payload: p });
        if (out === "gap") this.requestSnapshot(p.sym);
        else if (out === "applied" && env.op === "md.delta") {
          this.bookChanged(p.sym);
          const levels = [...(p.bids ?? []), ...(p.asks ?? [])] as [string, number][];
          this.onLevels?.(p.sym, levels.map(([price]) => String(price)));
        }
        break;
      }
      case "md.heartbeat": {
        const seqs = (p.seqs ?? {}) as Record<string, number>;
        for (const [sym, seq] of Object.entries(seqs)) {
          const stream = this.streams.get(sym);
          if (stream && stream.onHeartbeat(Number(seq)) === "gap") this.requestSnapshot(sym);
        }
        break;
      }
    }
  }

  private onSnapshot(snap: BookSnapshot): void {
    const stream = this.streams.get(snap.sym);
    if (!stream) return;
    if (stream.onSnapshot(snap) === "gap") this.requestSnapshot(snap.sym);
    this.bookChanged(snap.sym);
    this.onLevels?.(snap.sym, null);
  }

  /** Gap on one symbol: ask for that symbol's snapshot only. */
  private requestSnapshot(sym: string): void {
    if (this.snapshotInFlight.has(sym)) return;
    this.snapshotInFlight.add(sym);
    this.resyncs++;
    this.changes.emit("book");
    this.session
      .mdRequest<BookSnapshot>("md.snapshot", { sym })
      .then((snap) => {
        this.snapshotInFlight.delete(sym);
        this.onSnapshot({ ...snap, sym: snap.sym ?? sym });
      })
      .catch(() => {
        this.snapshotInFlight.delete(sym);
        const s = this.streams.get(sym);
        if (s?.awaitingSnapshot && this.session.state !== "reconnecting") {
          setTimeout(() => s.awaitingSnapshot && this.requestSnapshot(sym), 1_000);
        }
      });
  }

  private async waitForSnapshots(): Promise<void> {
    const deadline = Date.now() + SNAPSHOT_WAIT_MS;
    while (Date.now() < deadline) {
      if ([...this.streams.values()].every((s) => !s.awaitingSnapshot)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const [sym, s] of this.streams) if (s.awaitingSnapshot) this.requestSnapshot(sym);
  }

  private async loadSelected(): Promise<void> {
    const sym = this.selected;
    if (!sym) return;
    await Promise.all([this.loadTrades(sym), this.loadCandles()]);
  }

  private async loadTrades(sym: string): Promise<void> {
    try {
      const r = await this.session.request<{ trades: Trade[] }>("trades.list", { sym, limit: 50 });
      const tape = this.tapes.get(sym) ?? [];
      const seen = new Set(tape.map((t) => t.trade_id));
      for (const t of r.trades) if (!seen.has(t.trade_id)) tape.push({ ...t, price: String(t.price) });
      tape.sort((a, b) => b.trade_id - a.trade_id);
      tape.length = Math.min(tape.length, TAPE_LEN);
      this.tapes.set(sym, tape);
      this.changes.emit("trades");
    } catch {
      /* the tape fills from live trades anyway */
    }
  }

  private async loadCandles(): Promise<void> {
    const sym = this.selected;
    const interval_ms = this.intervalMs;
    const series = new CandleSeries(sym, interval_ms);
    this.candles = series;
    const held: Trade[] = [];
    this.heldTrades = held;
    this.changes.emit("candles");
    let env: Envelope;
    try {
      env = await this.session.requestEnvelope("candles.get", { sym, interval_ms, depth: CANDLE_DEPTH });
    } catch {
      if (this.heldTrades === held) this.heldTrades = null;
      return;
    }
    if (this.candles !== series) return;
    this.heldTrades = null;
    const r = env.payload as CandlesAnswer;
    series.seed(r.candles ?? []);
    // The fence between the seed and live trades: the answer's `seq` if the
    // server gives one, else its timestamp (same clock as the trades').
    const fenceSeq = typeof r.seq === "number" ? r.seq : null;
    for (const t of held) {
      if (fenceSeq !== null ? (t.seq ?? 0) > fenceSeq : t.ts > env.ts) series.addTrade(t);
    }
    this.changes.emit("candles");
  }

  private onTrade(t: Trade): void {
    const info = this.symbols.get(t.sym);
    if (info) {
      info.last = t.price;
      if (info.open === null) info.open = t.price;
    }
    let tape = this.tapes.get(t.sym);
    if (!tape) this.tapes.set(t.sym, (tape = []));
    tape.unshift(t);
    if (tape.length > TAPE_LEN) tape.length = TAPE_LEN;
    if (t.sym === this.selected) {
      if (this.heldTrades) this.heldTrades.push(t);
      else this.candles?.addTrade(t);
      this.changes.emit("trades");
      this.changes.emit("candles");
    }
    this.changes.emit("symbols");
  }

  private onStatus(sym: string, st: SymbolStatus): void {
    const info = this.symbols.get(sym);
    if (info) info.status = st;
    this.changes.emit("symbols");
  }

  private bookChanged(sym: string): void {
    if (sym === this.selected) this.changes.emit("book");
  }
}
