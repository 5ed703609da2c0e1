// Wire protocol v1 (docs/protocol.md): envelope, payload types and the
// request/response matcher. No I/O here: the connection layer moves frames.

export type Side = "buy" | "sell";
export type OrderType = "limit" | "market";
export type Tif = "GTC" | "IOC" | "FOK";
export type SymbolStatus = "trading" | "halted";
export type Level = [string, number];

export interface SymbolInfo {
  sym: string;
  tick: string;
  lot: number;
  min_qty: number;
  status: SymbolStatus;
  ref_price: string;
  band_pct: string;
  last: string | null;
  open: string | null;
}

export interface Order {
  order_id: number;
  client_order_id: string | null;
  user_id: number;
  sym: string;
  side: Side;
  type: OrderType;
  price: string | null;
  qty: number;
  filled_qty: number;
  leaves_qty: number;
  avg_fill_price: string | null;
  tif: Tif;
  post_only: boolean;
  status: "new" | "partially_filled" | "filled" | "canceled" | "expired" | "rejected";
  created_ts: number;
  updated_ts: number;
  /** In `orders.list`: the quantity ahead of this resting order at its price level (null: not resting). */
  queue_ahead?: number | null;
}

/**
 * What a private order event says of an order: who it is, its status, and
 * only the fields the event changed (docs/protocol.md, "Private events").
 */
export type OrderChange = Pick<Order, "order_id" | "client_order_id" | "sym" | "side" | "status"> & Partial<Order>;

/** A fill inside an order.filled / order.partially_filled event: its order's id, sym and side are the event's order's. */
export type FillChange = Omit<Fill, "order_id" | "client_order_id" | "sym" | "side">;

/** A whole fill from an order event: the fill's own fields and its order's identity. */
export function fillOf(order: OrderChange, fill: FillChange): Fill {
  return { ...fill, order_id: order.order_id, client_order_id: order.client_order_id, sym: order.sym, side: order.side };
}

export interface Fill {
  fill_id: number;
  order_id: number;
  client_order_id: string | null;
  sym: string;
  side: Side;
  price: string;
  qty: number;
  liquidity: "maker" | "taker";
  /** Cash this fill cost in fees (negative: a rebate), a decimal string. */
  fee: string;
  trade_id: number;
  ts: number;
}

export interface Trade {
  trade_id: number;
  sym: string;
  price: string;
  qty: number;
  side: Side;
  ts: number;
  seq?: number;
}

export interface Candle {
  t: number;
  o: string;
  h: string;
  l: string;
  c: string;
  v: number;
}

export interface Position {
  sym: string;
  qty: number;
  avg_price: string | null;
  realized_pnl: string;
  unrealized_pnl?: string;
  last?: string | null;
  /** In `account.get`: this symbol's share of the account's fees. */
  fees?: string;
}

export interface Account {
  user_id: number;
  username: string;
  cash: string;
  realized_pnl: string;
  unrealized_pnl: string;
  /** Fees paid on every fill so far (rebates negative). */
  fees: string;
  positions: Position[];
}

/** One row of `leaderboard.get` (cash strings, ranked by `pnl`). */
export interface Leader {
  rank: number;
  user_id: number;
  username: string;
  is_bot: boolean;
  pnl: string;
  realized_pnl: string;
  unrealized_pnl: string;
  /** Fees paid so far (rebates negative); `pnl` is net of them. */
  fees: string;
}

export interface UserInfo {
  user_id: number | null;
  username: string | null;
  roles: string[];
  is_admin: boolean;
  /** The limits announced at login (docs/protocol.md, "The limits object"); only what the page reads. */
  limits?: { user_messages_per_second?: number };
}

export interface HandshakeAnswer extends UserInfo {
  status: "ok";
  token: string;
  expires_at: number;
}

export interface BookSnapshot {
  sym: string;
  seq: number;
  status: SymbolStatus;
  bids: Level[];
  asks: Level[];
}

export interface ProtocolErrorBody {
  code: string;
  message: string;
}

export interface Envelope {
  type: "request" | "response" | "event";
  ver: number;
  msg_id: string;
  ts: number;
  op: string;
  payload: any;
  corr_id?: string | null;
  ok?: boolean;
  error?: ProtocolErrorBody;
  as?: string;
}

/** A request the server answered with `ok: false`, or one that never got an answer. */
export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Client-side codes (never sent by the server). */
export const DISCONNECTED = "DISCONNECTED";
export const TIMEOUT = "TIMEOUT";

interface PendingRequest {
  op: string;
  resolve: (env: Envelope) => void;
  reject: (err: ProtocolError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** `kind` followed by 12 random hex digits. */
export function randomPrefix(kind: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return kind + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Builds request envelopes and matches responses by `corr_id`.
 * One instance per socket; `failAll` on disconnect.
 *
 * The server answers each msg_id once per session, over all the session's
 * sockets (a repeat gets the first answer or DUPLICATE_MSG), so every
 * tracker numbers its requests under a random prefix of its own: two tabs,
 * or a socket reopened after a reconnect, never reuse each other's ids.
 */
export class RequestTracker {
  private next = 1;
  private pending = new Map<string, PendingRequest>();
  readonly prefix: string;

  constructor(
    kind: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.prefix = randomPrefix(kind);
  }

  /** Returns the envelope to send and a promise of the response payload. */
  request<T = any>(op: string, payload: object = {}, as?: string): [Envelope, Promise<T>] {
    const [env, answer] = this.requestEnvelope(op, payload, as);
    return [env, answer.then((r) => (r.payload ?? {}) as T)];
  }

  /** Like `request`, but the promise gives the whole response envelope (its `ts`, say). */
  requestEnvelope(op: string, payload: object = {}, as?: string): [Envelope, Promise<Envelope>] {
    const msg_id = `${this.prefix}-${this.next++}`;
    const env: Envelope = { type: "request", ver: 1, msg_id, ts: Date.now(), op, payload };
    if (as) env.as = as;
    const promise = new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msg_id);
        reject(new ProtocolError(TIMEOUT, `${op}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(msg_id, { op, resolve, reject, timer });
    });
    return [env, promise];
  }

  /** Settles the matching request. Returns false if the response matched nothing. */
  onResponse(env: Envelope): boolean {
    const id = env.corr_id;
    if (id === null || id === undefined) return false;
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (env.ok) p.resolve(env);
    else {
      const e = env.error ?? { code: "UNKNOWN", message: "request failed" };
      p.reject(new ProtocolError(e.code, e.message));
    }
    return true;
  }

  failAll(reason: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ProtocolError(DISCONNECTED, `${p.op}: ${reason}`));
    }
    this.pending.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }
}

export function parseEnvelope(text: string): Envelope | null {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && typeof v.type === "string" ? (v as Envelope) : null;
  } catch {
    return null;
  }
}
