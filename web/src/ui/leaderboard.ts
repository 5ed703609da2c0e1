// Leaderboard screen: users ranked by marked PnL (`leaderboard.get`), for
// instructors and competition hosts. Polled every few seconds while the
// screen is shown and the browser tab is visible; never otherwise.

import type { Session } from "../connection.ts";
import { grouped } from "../decimal.ts";
import { schedule } from "../emitter.ts";
import type { Leader } from "../protocol.ts";
import { h, setClass, setText, timeOfDay } from "./dom.ts";
import { cashCell, rankedTable, traderCell } from "./ranked.ts";

export const LEADERBOARD_POLL_MS = 3_000;
/** Rows asked for: a whole class or a competition fits; the table scrolls. */
export const LEADERBOARD_LIMIT = 100;
const BOTS_KEY = "hftsim.leaderboard.bots";

/** What the screen shows; exposed on `window.hftsim.leaderboard` for tests. */
export interface LeaderboardState {
  rows: Leader[];
  /** Whether the shown rows include the simulated agents. */
  includeBots: boolean;
  /** Poll period while visible (tests may shorten it). */
  pollMs: number;
  /** True while the screen is shown and the tab visible: only then does it poll. */
  polling: boolean;
  updatedAt: number;
  error: string;
}

export interface LeaderboardApi {
  el: HTMLElement;
  state: LeaderboardState;
  show(): void;
  hide(): void;
  /** Stops for good (logout). */
  dispose(): void;
}

/** Agents are shown unless this browser turned them off: a lone student still sees a field to beat. */
function storedBots(): boolean {
  try {
    return localStorage.getItem(BOTS_KEY) !== "0";
  } catch {
    return true;
  }
}

export function leaderboardView(session: Session): LeaderboardApi {
  const state: LeaderboardState = {
    rows: [],
    includeBots: storedBots(),
    pollMs: LEADERBOARD_POLL_MS,
    polling: false,
    updatedAt: 0,
    error: "",
  };
  let shown = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let ticket = 0; // bumps per request: a stale answer neither draws nor re-arms

  // --- DOM -------------------------------------------------------------------
  const bots = h("input", { type: "checkbox", testid: "leaderboard-include-bots", checked: state.includeBots });
  const count = h("span", { class: "count", testid: "leaderboard-count" }, "0");
  const updated = h("span", { class: "muted small board-updated", testid: "leaderboard-updated" }, "—");
  const me = h("span", { class: "board-me", testid: "leaderboard-me" });
  const body = h("tbody", { testid: "leaderboard-body" });
  const panel = h(
    "section",
    { class: "panel board-panel", testid: "leaderboard" },
    h(
      "header",
      { class: "panel-head" },
      h("span", null, "Leaderboard "),
      count,
      me,
      h("span", { class: "grow" }),
      updated,
      h(
        "label",
        { class: "check board-toggle", title: "The simulated market agents, ranked in the same field, as a reference group" },
        bots,
        "Agents as reference",
      ),
    ),
    h(
      "div",
      { class: "scroll" },
      rankedTable(["PnL", "Realized", "Unrealized", "Fees"], body),
    ),
    h(
      "p",
      { class: "muted small board-note" },
      "Ranked by PnL: cash gained since the start plus open positions marked to the last trade, net of fees. ",
      `Top ${LEADERBOARD_LIMIT}, refreshed every few seconds while this screen is open.`,
    ),
  );
  const el = h("main", { class: "board-screen", testid: "leaderboard-screen" }, panel);

  // --- render ----------------------------------------------------------------
  const render = () => {
    const myId = session.user?.user_id ?? null;
    setText(count, String(state.rows.length));
    if (state.error) {
      setText(updated, state.updatedAt ? `stale since ${timeOfDay(state.updatedAt)} — ${state.error}` : state.error);
      setClass(updated, "small board-updated board-error");
    } else {
      setText(updated, state.updatedAt ? `updated ${timeOfDay(state.updatedAt)}` : "loading…");
      setClass(updated, "muted small board-updated");
    }
    updated.dataset.ts = String(state.updatedAt);
    const mine = state.rows.find((r) => r.user_id === myId);
    setText(me, mine ? `You: #${mine.rank} · ${grouped(mine.pnl)}` : state.updatedAt ? "You: not ranked" : "");
    me.dataset.rank = mine ? String(mine.rank) : "";
    const row = (r: Leader) => {
      const isMe = r.user_id === myId;
      return h(
        "tr",
        {
          class: `${isMe ? "me" : ""} ${r.rank <= 3 ? `top top-${r.rank}` : ""}`.trim() || null,
          testid: `leaderboard-row-${r.user_id}`,
          "data-rank": r.rank,
          "data-user-id": r.user_id,
          "data-username": r.username,
          "data-bot": String(r.is_bot),
          "data-me": String(isMe),
          "data-pnl": r.pnl,
        },
        h("td", { class: "rank", testid: `leaderboard-rank-${r.user_id}` }, String(r.rank)),
        traderCell(r.username, r.is_bot, isMe, `leaderboard-name-${r.user_id}`),
        cashCell(r.pnl, `leaderboard-pnl-${r.user_id}`, "pnl"),
        cashCell(r.realized_pnl, `leaderboard-realized-${r.user_id}`),
        cashCell(r.unrealized_pnl, `leaderboard-unrealized-${r.user_id}`),
        cashCell(r.fees, `leaderboard-fees-${r.user_id}`),
      );
    };
    // People first, then the agents as a reference group: ranks are those of the whole field.
    const agents = state.rows.filter((r) => r.is_bot);
    body.replaceChildren(
      ...state.rows.filter((r) => !r.is_bot).map(row),
      ...(agents.length
        ? [
            h(
              "tr",
              { class: "board-group", testid: "leaderboard-agents-head" },
              h("td", { colspan: "6" }, "Simulated agents: the market's own participants, for reference"),
            ),
            ...agents.map(row),
          ]
        : []),
    );
    if (!state.rows.length && state.updatedAt) {
      body.append(h("tr", { class: "empty" }, h("td", { colspan: "6" }, "Nobody has traded yet")));
    }
    el.dataset.includeBots = String(state.includeBots);
  };

  // --- polling ---------------------------------------------------------------
  const active = () => shown && document.visibilityState !== "hidden";
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    state.polling = false;
  };
  const arm = () => {
    stop();
    if (!active()) return;
    state.polling = true;
    timer = setTimeout(() => void fetchNow(), state.pollMs);
  };
  const fetchNow = async () => {
    stop();
    if (!active()) return;
    state.polling = true;
    const mine = ++ticket;
    const includeBots = state.includeBots;
    try {
      const r = await session.request<{ leaders: Leader[] }>("leaderboard.get", {
        limit: LEADERBOARD_LIMIT,
        include_bots: includeBots,
      });
      if (mine !== ticket) return;
      state.rows = r.leaders ?? [];
      state.updatedAt = Date.now();
      state.error = "";
    } catch (err) {
      if (mine !== ticket) return;
      const e = err as { code?: string; message?: string };
      state.error = e.code === "DISCONNECTED" ? "waiting for the connection" : `${e.code ?? "ERROR"}: ${e.message ?? err}`;
    }
    schedule(render);
    arm();
  };

  bots.addEventListener("change", () => {
    state.includeBots = bots.checked;
    try {
      localStorage.setItem(BOTS_KEY, bots.checked ? "1" : "0");
    } catch {
      /* storage unavailable: the choice lasts for this page */
    }
    void fetchNow();
  });
  const onVisibility = () => {
    if (!shown) return;
    if (document.visibilityState === "hidden") {
      ticket++;
      stop();
    } else {
      void fetchNow();
    }
  };
  document.addEventListener("visibilitychange", onVisibility);

  return {
    el,
    state,
    show() {
      shown = true;
      schedule(render);
      void fetchNow();
    },
    hide() {
      shown = false;
      ticket++;
      stop();
    },
    dispose() {
      shown = false;
      ticket++;
      stop();
      document.removeEventListener("visibilitychange", onVisibility);
    },
  };
}
