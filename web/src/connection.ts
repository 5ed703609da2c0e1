// The browser's session with the gateway, public protocol only:
//   POST /auth/handshake -> WS /ws/cmd (auth.login) -> WS /ws/md
// It reconnects by itself with exponential backoff, renews the token before
// it expires (auth.renew on CMD, md.renew on MD), and tells the app when to
// reload its state ("resyncing"). In a cluster (GET /api/info lists the
// gateways) a page whose gateway stays unreachable moves to the next one that
// answers, with its session: the other gateway serves the same site and the
// same market, and a token is valid on every gateway.

import {
  type Envelope,
  type HandshakeAnswer,
  ProtocolError,
  RequestTracker,
  type UserInfo,
  parseEnvelope,
} from "./protocol.ts";

export type ConnState = "idle" | "connecting" | "connected" | "reconnecting" | "resyncing" | "closed";

export type Credentials = { guest: true } | { username: string; password: string };

export interface SessionHandlers {
  state(state: ConnState, detail: string): void;
  cmdEvent(env: Envelope): void;
  mdEvent(env: Envelope): void;
  /** Sockets are up: load state and subscribe. The session is "resyncing" until it resolves. */
  ready(user: UserInfo, reconnect: boolean): Promise<void>;
  /** The session cannot go on (credentials refused); the app goes back to the login page. */
  fatal(err: ProtocolError): void;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** MD heartbeats come every second; this much silence means the socket is dead. */
const MD_SILENCE_MS = 6_000;
const STORAGE_KEY = "hftsim.session";
/** Failed reconnects to its own gateway before the page looks for another of the cluster's. */
const MOVE_AFTER_ATTEMPTS = 2;
/** How long a gateway may take to answer /healthz before the page tries the next. */
const PROBE_MS = 3_000;
/** The fragment that carries a session to another gateway's page (never sent to a server). */
const MOVED_PREFIX = "#session=";

/** Codes that mean "log in again", not "try again later". */
const FATAL_LOGIN_CODES = new Set(["INVALID_CREDENTIALS", "GUEST_DISABLED", "ACCOUNT_DISABLED", "FORBIDDEN"]);

function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

async function handshake(body: object): Promise<HandshakeAnswer> {
  const resp = await fetch("/auth/handshake", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  let data: any = null;
  try {
    data = await resp.json();
  } catch {
    throw new ProtocolError("HTTP_" + resp.status, `handshake failed: HTTP ${resp.status}`);
  }
  if (!resp.ok || data?.status !== "ok") {
    const e = data?.error ?? { code: "HTTP_" + resp.status, message: `handshake failed: HTTP ${resp.status}` };
    throw new ProtocolError(e.code, e.message);
  }
  return data as HandshakeAnswer;
}

/** Revokes the session's tokens on the server, which closes its sockets with 4003. */
async function revoke(token: string): Promise<void> {
  try {
    await fetch("/auth/logout", { method: "POST", headers: { authorization: `Bearer ${token}` }, keepalive: true });
  } catch {
    // unreachable server: the token still expires on its own
  }
}

/** The cluster's other gateways, in the order to try them: those after this page's own, then those before. */
async function otherGateways(): Promise<string[]> {
  try {
    const resp = await fetch("/api/info");
    const listed: unknown = (await resp.json())?.gateways;
    if (!Array.isArray(listed)) return [];
    const origins = listed.map((url) => new URL(String(url)).origin);
    const here = origins.indexOf(location.origin);
    return here < 0 ? origins : [...origins.slice(here + 1), ...origins.slice(0, here)];
  } catch {
    return [];
  }
}

/** Whether `origin` answers at all (an opaque answer will do: no CORS is needed to know it is up). */
async function reachable(origin: string): Promise<boolean> {
  try {
    await fetch(`${origin}/healthz`, { mode: "no-cors", cache: "no-store", signal: AbortSignal.timeout(PROBE_MS) });
    return true;
  } catch {
    return false;
  }
}

/** A session brought by another gateway's page in the fragment: stored as this tab's, and the fragment dropped. */
function adoptMovedSession(): void {
  if (!location.hash.startsWith(MOVED_PREFIX)) return;
  sessionStorage.setItem(STORAGE_KEY, decodeURIComponent(location.hash.slice(MOVED_PREFIX.length)));
  history.replaceState(null, "", location.pathname + location.search);
}

function openSocket(path: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl(path), ["hftsim.v1", `bearer.${token}`]);
    } catch {
      // A token with characters a subprotocol may not carry: use the query form.
      ws = new WebSocket(`${wsUrl(path)}?token=${encodeURIComponent(token)}`);
    }
    const fail = () => reject(new ProtocolError("CONNECT_FAILED", `cannot open ${path}`));
    ws.addEventListener("open", () => {
      ws.removeEventListener("error", fail);
      resolve(ws);
    });
    ws.addEventListener("error", fail, { once: true });
    ws.addEventListener("close", fail, { once: true });
  });
}

export class Session {
  user: UserInfo | null = null;
  state: ConnState = "idle";
  private token: string | null = null;
  private expiresAt = 0;
  private creds: Credentials | null = null;
  private cmd: WebSocket | null = null;
  private md: WebSocket | null = null;
  private cmdRpc = new RequestTracker("c");
  private mdRpc = new RequestTracker("m");
  private generation = 0; // bumps on every (re)connect; stale callbacks check it
  private attempt = 0;
  private renewTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastMdAt = 0;
  private sawHeartbeat = false;
  private stopped = false;
  /** The cluster's other gateways, learnt once connected; empty on a single server. */
  private gateways: string[] = [];

  constructor(private readonly h: SessionHandlers) {}

  /** First connection: log in with `creds`. Throws ProtocolError if refused. */
  async login(creds: Credentials): Promise<UserInfo> {
    this.stopped = false;
    this.creds = creds;
    this.setState("connecting", "logging in");
    try {
      const hs = await handshake({});
      this.setToken(hs.token, hs.expires_at);
      return await this.connect(false, true);
    } catch (err) {
      this.teardown("login failed");
      this.setState("idle", "");
      throw err;
    }
  }

  /** Picks up a session stored by this tab (page reload). Returns null if it is gone. */
  async resume(): Promise<UserInfo | null> {
    adoptMovedSession();
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    try {
      const saved = JSON.parse(raw) as { token: string; guest: boolean };
      this.setState("connecting", "resuming session");
      const hs = await handshake({ token: saved.token });
      if (hs.user_id === null) return null;
      this.setToken(hs.token, hs.expires_at);
      this.creds = saved.guest ? { guest: true } : null;
      return await this.connect(false, false);
    } catch {
      sessionStorage.removeItem(STORAGE_KEY);
      this.teardown("resume failed");
      this.setState("idle", "");
      return null;
    }
  }

  /** Logs out: revokes the token on the server, closes the sockets and forgets the token. */
  logout(): void {
    if (this.token) void revoke(this.token);
    this.stopped = true;
    sessionStorage.removeItem(STORAGE_KEY);
    this.teardown("logged out");
    this.token = null;
    this.user = null;
    this.setState("closed", "logged out");
  }

  /** The current token, for the plain HTTP downloads (`Authorization: Bearer`). */
  get bearer(): string | null {
    return this.token;
  }

  /** A CMD request (`as` picks one of the user's roles). */
  request<T = any>(op: string, payload: object = {}, as?: string): Promise<T> {
    return this.send(this.cmd, this.cmdRpc, op, payload, as);
  }

  /** A CMD request answered with the whole response envelope. */
  requestEnvelope(op: string, payload: object = {}): Promise<Envelope> {
    if (!this.cmd || this.cmd.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ProtocolError("DISCONNECTED", "not connected to the server"));
    }
    const [env, promise] = this.cmdRpc.requestEnvelope(op, payload);
    this.cmd.send(JSON.stringify(env));
    return promise;
  }

  /** An MD request (md.snapshot, md.subscribe, ...). */
  mdRequest<T = any>(op: string, payload: object = {}): Promise<T> {
    return this.send(this.md, this.mdRpc, op, payload);
  }

  /** Drops both sockets as if the network failed (used by tests and the "reconnect" button). */
  forceReconnect(reason = "reconnect requested"): void {
    if (this.state === "connected" || this.state === "resyncing") this.lost(reason);
  }

  private send<T>(ws: WebSocket | null, rpc: RequestTracker, op: string, payload: object, as?: string): Promise<T> {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ProtocolError("DISCONNECTED", "not connected to the server"));
    }
    const [env, promise] = rpc.request<T>(op, payload, as);
    ws.send(JSON.stringify(env));
    return promise;
  }

  private async connect(reconnect: boolean, needLogin: boolean): Promise<UserInfo> {
    const gen = ++this.generation;
    const token = this.token as string;
    const cmd = await openSocket("/ws/cmd", token);
    if (gen !== this.generation) {
      cmd.close();
      throw new ProtocolError("DISCONNECTED", "superseded");
    }
    this.cmd = cmd;
    this.cmdRpc = new RequestTracker("c");
    cmd.addEventListener("message", (e) => this.onCmdMessage(gen, e));
    cmd.addEventListener("close", (e) => this.onClose(gen, "CMD", e));

    let user: UserInfo;
    if (needLogin) {
      user = await this.request<UserInfo>("auth.login", this.creds ?? {});
    } else {
      user = await this.request<UserInfo>("auth.whoami", {});
      if (user.user_id === null) {
        if (!this.creds) throw new ProtocolError("UNAUTHENTICATED", "session is no longer logged in");
        user = await this.request<UserInfo>("auth.login", this.creds);
      }
    }
    this.user = user;
    this.persist();

    const md = await openSocket("/ws/md", token);
    if (gen !== this.generation) {
      md.close();
      throw new ProtocolError("DISCONNECTED", "superseded");
    }
    this.md = md;
    this.mdRpc = new RequestTracker("m");
    this.lastMdAt = Date.now();
    this.sawHeartbeat = false;
    md.addEventListener("message", (e) => this.onMdMessage(gen, e));
    md.addEventListener("close", (e) => this.onClose(gen, "MD", e));
    this.startWatchdog(gen);
    this.scheduleRenew();

    this.setState("resyncing", reconnect ? "reloading state after reconnect" : "loading market");
    await this.h.ready(user, reconnect);
    if (gen !== this.generation) throw new ProtocolError("DISCONNECTED", "superseded");
    this.attempt = 0;
    this.setState("connected", "");
    if (!reconnect) void otherGateways().then((found) => (this.gateways = found));
    return user;
  }

  private onCmdMessage(gen: number, e: MessageEvent): void {
    if (gen !== this.generation) return;
    const env = parseEnvelope(String(e.data));
    if (!env) return;
    if (env.type === "response") this.cmdRpc.onResponse(env);
    else if (env.type === "event") this.h.cmdEvent(env);
  }

  private onMdMessage(gen: number, e: MessageEvent): void {
    if (gen !== this.generation) return;
    this.lastMdAt = Date.now();
    const env = parseEnvelope(String(e.data));
    if (!env) return;
    if (env.type === "response") this.mdRpc.onResponse(env);
    else if (env.type === "event") {
      if (env.op === "md.heartbeat") this.sawHeartbeat = true;
      this.h.mdEvent(env);
    }
  }

  private onClose(gen: number, which: string, e: CloseEvent): void {
    if (gen !== this.generation || this.stopped) return;
    if (e.code === 4003) {
      // the session was logged out elsewhere (another tab sharing it, POST /auth/logout,
      // or an admin disabled the account or reset its password): back to the login page
      this.logout();
      this.h.fatal(new ProtocolError("LOGGED_OUT", e.reason || "logged out"));
      return;
    }
    const why = e.reason ? `${e.code} ${e.reason}` : `code ${e.code}`;
    if (e.code === 4001 || e.code === 4002) this.token = null; // expired/unknown: new handshake
    this.lost(`${which} socket closed (${why})`);
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    this.teardown(reason);
    this.setState("reconnecting", reason);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    this.setState("reconnecting", `attempt ${this.attempt}`);
    try {
      let needLogin = false;
      if (this.token) {
        try {
          const hs = await handshake({ token: this.token });
          this.setToken(hs.token, hs.expires_at);
          needLogin = hs.user_id === null;
        } catch (err) {
          if (!(err instanceof ProtocolError) || err.code === "CONNECT_FAILED") throw err;
          if (err.code.startsWith("HTTP_5") || err.code === "RATE_LIMITED") throw err;
          this.token = null; // expired or unknown after a server restart
        }
      }
      if (!this.token) {
        if (!this.creds) throw new ProtocolError("INVALID_CREDENTIALS", "session expired: please log in again");
        const hs = await handshake({});
        this.setToken(hs.token, hs.expires_at);
        needLogin = true;
      }
      await this.connect(true, needLogin);
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ProtocolError && FATAL_LOGIN_CODES.has(err.code)) {
        this.stopped = true;
        this.teardown(err.message);
        this.setState("closed", err.message);
        this.h.fatal(err);
        return;
      }
      this.teardown("reconnect failed");
      if (this.attempt >= MOVE_AFTER_ATTEMPTS && (await this.moveToAnotherGateway())) return;
      this.setState("reconnecting", `retrying: ${(err as Error).message ?? err}`);
      this.scheduleRetry();
    }
  }

  /**
   * Opens the first of the cluster's other gateways that answers, taking the session along in the
   * fragment; false if there is none (the page keeps retrying its own).
   */
  private async moveToAnotherGateway(): Promise<boolean> {
    for (const origin of this.gateways) {
      if (!(await reachable(origin))) continue;
      if (this.stopped || !this.token) return false;
      const guest = !!this.creds && "guest" in this.creds;
      const carried = encodeURIComponent(JSON.stringify({ token: this.token, guest }));
      this.stopped = true;
      this.setState("reconnecting", `moving to ${origin}`);
      location.assign(`${origin}/${MOVED_PREFIX}${carried}`);
      return true;
    }
    return false;
  }

  private scheduleRenew(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    const left = this.expiresAt - Date.now();
    // Two minutes early for normal lifetimes (a hidden tab's timers may run up
    // to a minute late); at 60% of the lifetime for short ones.
    const delay = Math.max(1_000, left > 300_000 ? left - 120_000 : left * 0.6);
    const gen = this.generation;
    this.renewTimer = setTimeout(() => void this.renew(gen), delay);
  }

  private async renew(gen: number): Promise<void> {
    if (gen !== this.generation) return;
    try {
      const r = await this.request<{ token: string; expires_at: number }>("auth.renew", {});
      this.setToken(r.token, r.expires_at);
      await this.mdRequest("md.renew", { token: r.token });
      this.persist();
      this.scheduleRenew();
    } catch {
      if (gen !== this.generation) return;
      this.renewTimer = setTimeout(() => void this.renew(gen), 5_000);
    }
  }

  private startWatchdog(gen: number): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (gen !== this.generation) return;
      // Only once heartbeats are known to flow: silence then means a dead link.
      if (this.sawHeartbeat && Date.now() - this.lastMdAt > MD_SILENCE_MS) this.lost("market data went silent");
    }, 1_000);
  }

  /** Closes both sockets; callbacks of the old connection are ignored from here on. */
  private teardown(reason: string): void {
    this.generation++;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.renewTimer = null;
    this.watchdog = null;
    for (const ws of [this.cmd, this.md]) {
      if (ws && ws.readyState <= WebSocket.OPEN) {
        try {
          ws.close(1000, "client closing");
        } catch {
          /* already closing */
        }
      }
    }
    this.cmd = null;
    this.md = null;
    this.cmdRpc.failAll(reason);
    this.mdRpc.failAll(reason);
  }

  private setToken(token: string, expiresAt: number): void {
    this.token = token;
    this.expiresAt = expiresAt;
  }

  private persist(): void {
    if (!this.token) return;
    const guest = !!this.creds && "guest" in this.creds;
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token: this.token, guest }));
  }

  private setState(state: ConnState, detail: string): void {
    this.state = state;
    this.h.state(state, detail);
  }
}
