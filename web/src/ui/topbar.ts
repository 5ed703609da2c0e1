// Top bar: brand, screen tabs, account summary, connection indicator, user.

import type { ConnState } from "../connection.ts";
import { fixed } from "../decimal.ts";
import { schedule } from "../emitter.ts";
import { money } from "../format.ts";
import type { Trading } from "../trading.ts";
import { h, setClass, setText, signClass } from "./dom.ts";

export type Screen = "trade" | "leaderboard" | "admin";

const STATE_LABEL: Record<ConnState, string> = {
  idle: "offline",
  connecting: "connecting",
  connected: "connected",
  reconnecting: "reconnecting",
  resyncing: "resyncing",
  closed: "disconnected",
};

export interface TopbarApi {
  el: HTMLElement;
  setConn(state: ConnState, detail: string): void;
  setUser(name: string, roles: string[], isAdmin: boolean): void;
  setScreen(s: Screen): void;
}

export function topbarView(trading: Trading, onScreen: (s: Screen) => void, onLogout: () => void): TopbarApi {
  const conn = h("div", { class: "conn", testid: "conn-status", "data-state": "idle" }, h("i", { class: "dot" }));
  const connLabel = h("span", { testid: "conn-label" }, "offline");
  conn.append(connLabel);
  const tradeTab = h("button", { type: "button", class: "nav on", testid: "nav-trade" }, "Trade");
  const boardTab = h("button", { type: "button", class: "nav", testid: "nav-leaderboard" }, "Leaderboard");
  const adminTab = h("button", { type: "button", class: "nav", testid: "nav-admin", hidden: true }, "Admin");
  tradeTab.addEventListener("click", () => onScreen("trade"));
  boardTab.addEventListener("click", () => onScreen("leaderboard"));
  adminTab.addEventListener("click", () => onScreen("admin"));
  const cash = h("b", { testid: "acct-cash" });
  const realized = h("b", { testid: "acct-realized" });
  const unrealized = h("b", { testid: "acct-unrealized" });
  const fees = h("b", { testid: "acct-fees", title: "Fees paid on every fill so far (rebates count negative)" });
  const user = h("span", { class: "user", testid: "user-name" });
  const role = h("span", { class: "role", testid: "user-role" });
  const logout = h("button", { type: "button", class: "btn btn-small btn-ghost", testid: "logout" }, "Log out");
  logout.addEventListener("click", onLogout);

  const acct = h(
    "div",
    { class: "acct", testid: "acct-summary" },
    h("span", null, "Cash ", cash),
    h("span", null, "Realized ", realized),
    h("span", null, "Unrealized ", unrealized),
    h("span", null, "Fees ", fees),
  );
  const el = h(
    "header",
    { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "brand-mark" }), "HFT", h("b", null, "SIM")),
    h("nav", null, tradeTab, boardTab, adminTab),
    h("span", { class: "grow" }),
    acct,
    conn,
    h("div", { class: "who" }, user, role),
    logout,
  );

  const renderAcct = () => {
    const t = trading.totals();
    acct.hidden = !trading.canTrade;
    const scale = trading.moneyScale;
    setText(cash, money(t.cash, scale));
    setText(realized, money(t.realized, scale));
    setText(unrealized, money(t.unrealized, scale));
    setText(fees, money(trading.fees, scale));
    setClass(realized, signClass(fixed(t.realized, scale)));
    setClass(unrealized, signClass(fixed(t.unrealized, scale)));
  };
  trading.changes.on("account", () => schedule(renderAcct));

  return {
    el,
    setConn(state, detail) {
      conn.dataset.state = state;
      conn.title = detail || STATE_LABEL[state];
      setText(connLabel, STATE_LABEL[state]);
    },
    setUser(name, roles, isAdmin) {
      setText(user, name);
      setText(role, isAdmin ? "admin" : roles.includes("trader") ? "trader" : roles[0] ?? "");
      adminTab.hidden = !isAdmin;
    },
    setScreen(s) {
      tradeTab.classList.toggle("on", s === "trade");
      boardTab.classList.toggle("on", s === "leaderboard");
      adminTab.classList.toggle("on", s === "admin");
    },
  };
}
