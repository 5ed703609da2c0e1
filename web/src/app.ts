// Glue: the session, the state stores and the screens.

import { type Credentials, Session } from "./connection.ts";
import { Market } from "./market.ts";
import type { ProtocolError, UserInfo } from "./protocol.ts";
import { Trading } from "./trading.ts";
import { adminView } from "./ui/admin.ts";
import { blotterView } from "./ui/blotter.ts";
import { chartView } from "./ui/chart.ts";
import { h } from "./ui/dom.ts";
import { ladderView } from "./ui/ladder.ts";
import { type LeaderboardApi, leaderboardView } from "./ui/leaderboard.ts";
import { loginView } from "./ui/login.ts";
import { roundsView } from "./ui/rounds.ts";
import { tapeView } from "./ui/tape.ts";
import { ticketView } from "./ui/ticket.ts";
import { type Screen, topbarView } from "./ui/topbar.ts";
import { watchlistView } from "./ui/watchlist.ts";

export class App {
  private session: Session;
  private market: Market;
  private trading: Trading;
  private toasts = h("div", { class: "toasts", testid: "toasts", "aria-live": "polite" });
  private shell: HTMLElement | null = null;
  private topbar: ReturnType<typeof topbarView> | null = null;
  private admin: ReturnType<typeof adminView> | null = null;
  private board: LeaderboardApi | null = null;
  private rounds: ReturnType<typeof roundsView> | null = null;
  private tradeEl: HTMLElement | null = null;
  /** The screen below the top bar (trade, leaderboard or admin). */
  private mainEl: HTMLElement | null = null;
  /** Connection states seen so far (newest last), for the status tooltip and tests. */
  readonly connHistory: string[] = [];

  constructor(private readonly root: HTMLElement) {
    this.session = new Session({
      state: (s, detail) => {
        this.topbar?.setConn(s, detail);
        document.body.dataset.conn = s;
        this.connHistory.push(s);
        if (this.connHistory.length > 200) this.connHistory.splice(0, 100);
      },
      cmdEvent: (env) => this.trading.onCmdEvent(env),
      mdEvent: (env) => this.market.onMdEvent(env),
      ready: (user, reconnect) => this.ready(user, reconnect),
      fatal: (err) => this.showLogin(`${err.code}: ${err.message}`),
    });
    this.market = new Market(this.session);
    this.trading = new Trading(this.session, this.market);
    // A level where the user rests changed: the quantity ahead of their order may have.
    this.market.onLevels = (sym, prices) => {
      const stream = this.market.streams.get(sym);
      if (stream) this.trading.levelsChanged(sym, prices, (p) => stream.priceKey(p));
    };
    // Unrealized PnL is marked to the last trade: re-price on every tick.
    this.market.changes.on("symbols", () => this.trading.changes.emit("account"));
    // Hooks for tests and for the curious: read-only views of the state.
    (window as any).hftsim = {
      session: this.session,
      market: this.market,
      trading: this.trading,
      connHistory: this.connHistory,
    };
  }

  async start(): Promise<void> {
    this.root.replaceChildren(h("div", { class: "boot muted" }, "Connecting…"), this.toasts);
    const user = await this.session.resume();
    if (user) this.showShell(user);
    else this.showLogin();
  }

  notify = (msg: string, bad = false): void => {
    const t = h("div", { class: `toast${bad ? " bad" : ""}`, testid: bad ? "toast-error" : "toast" }, msg);
    this.toasts.append(t);
    setTimeout(() => t.remove(), bad ? 6_000 : 3_000);
  };

  private showLogin(notice = ""): void {
    this.board?.dispose();
    this.board = null;
    this.rounds?.hide();
    this.rounds = null;
    this.shell = null;
    this.topbar = null;
    this.root.replaceChildren(
      loginView(async (c: Credentials) => {
        const user = await this.session.login(c);
        this.showShell(user);
      }, notice),
      this.toasts,
    );
  }

  private async ready(user: UserInfo, _reconnect: boolean): Promise<void> {
    this.topbar?.setUser(user.username ?? "?", user.roles, user.is_admin);
    await this.market.load();
    await this.trading.load(user.roles);
  }

  private showShell(user: UserInfo): void {
    this.topbar = topbarView(
      this.trading,
      (s) => this.setScreen(s),
      () => {
        this.session.logout();
        this.showLogin();
      },
    );
    this.topbar.setConn(this.session.state, "");
    this.topbar.setUser(user.username ?? "?", user.roles, user.is_admin);

    const ticket = ticketView(this.market, this.trading);
    this.tradeEl = h(
      "main",
      { class: "trade", testid: "trading-screen" },
      watchlistView(this.market),
      chartView(this.market),
      ladderView(this.market, this.trading, (p) => ticket.setPrice(p)),
      h(
        "div",
        { class: "right-col" },
        ticket.el,
        h(
          "p",
          { class: "phone-note muted small", testid: "phone-note" },
          "A read-only view on a small screen: to trade, open this page on a screen at least 700 px wide.",
        ),
        tapeView(this.market),
      ),
      blotterView(this.market, this.trading, this.notify),
    );
    this.admin = user.is_admin ? adminView(this.session, this.market, this.notify) : null;
    this.board?.dispose();
    this.board = leaderboardView(this.session);
    (window as any).hftsim.leaderboard = this.board.state;
    this.rounds?.hide();
    this.rounds = roundsView(this.session, this.notify);
    // An instructor runs the rounds from here: their controls come first, above the long board.
    if (user.is_admin) this.board.el.prepend(this.rounds.el);
    else this.board.el.append(this.rounds.el);
    this.mainEl = this.tradeEl;
    this.shell = h("div", { class: "shell" }, this.topbar.el, this.tradeEl);
    this.root.replaceChildren(this.shell, this.toasts);
    // The state loaded before the views existed: tell them to draw it.
    for (const t of ["symbols", "book", "trades", "candles", "selected"] as const) this.market.changes.emit(t);
    for (const t of ["orders", "fills", "account"] as const) this.trading.changes.emit(t);
  }

  private setScreen(s: Screen): void {
    if (!this.shell || !this.tradeEl || !this.mainEl) return;
    const target = s === "admin" ? this.admin?.el : s === "leaderboard" ? this.board?.el : this.tradeEl;
    if (!target) return;
    if (target !== this.mainEl) {
      if (this.mainEl === this.board?.el) {
        this.board.hide();
        this.rounds?.hide();
      }
      this.mainEl.replaceWith(target);
      this.mainEl = target;
    }
    if (s === "admin") this.admin?.refresh();
    if (s === "leaderboard") {
      this.board?.show();
      this.rounds?.show();
    }
    this.topbar?.setScreen(s);
  }
}

export type { ProtocolError };
