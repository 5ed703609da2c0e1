// Rounds panel (on the leaderboard screen): the running round scored live,
// every ended round's archived scores, and for admins: start a round (by
// hand or timed), end it, download a round's results as CSV.

import type { Session } from "../connection.ts";
import { grouped } from "../decimal.ts";
import { h, setText } from "./dom.ts";
import { cashCell, rankedTable, traderCell } from "./ranked.ts";
import { type Notify, caller, errText } from "./requests.ts";

export interface RoundInfo {
  round_id: number;
  name: string;
  status: "running" | "ended";
  started_ts: number;
  ends_at: number | null;
  ended_ts: number | null;
  marks: Record<string, string> | null;
}

export interface ScoreRow {
  rank: number;
  user_id: number;
  username: string;
  is_bot: boolean;
  pnl: string;
  fees: string;
  max_drawdown: string;
  sharpe: string | null;
  volume: number;
  notional: string;
  fills: number;
  breaches: number;
}

export const ROUNDS_POLL_MS = 3_000;

export function roundsView(session: Session, notify: Notify): { el: HTMLElement; show(): void; hide(): void } {
  const isAdmin = () => session.user?.is_admin === true;
  const picker = h("select", { testid: "rounds-picker" });
  const state = h("span", { class: "muted small", testid: "rounds-state" }, "—");
  const body = h("tbody", { testid: "rounds-body" });
  const bots = h("input", { type: "checkbox", testid: "rounds-include-bots" });
  let timer: ReturnType<typeof setTimeout> | null = null;
  let shown = false;
  let current: RoundInfo | null = null;

  const call = caller(session, notify);

  const roundName = h("input", { placeholder: "round name", testid: "rounds-name", class: "round-name" });
  const minutes = h("input", {
    type: "number",
    min: "0",
    step: "0.5",
    placeholder: "minutes (blank: by hand)",
    title: "The round ends by itself after this many minutes; leave it blank to end it with End round",
    testid: "rounds-minutes",
    class: "round-minutes",
  });
  const start = h("button", { type: "submit", class: "btn btn-small btn-primary", testid: "rounds-start" }, "Start round");
  const end = h("button", { type: "button", class: "btn btn-small btn-danger", testid: "rounds-end" }, "End round");
  const download = h("button", { type: "button", class: "btn btn-small", testid: "rounds-csv" }, "Download CSV");
  const adminBar = h(
    "form",
    {
      class: "admin-form",
      testid: "rounds-admin",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const payload: Record<string, unknown> = {};
        if (roundName.value.trim()) payload.name = roundName.value.trim();
        if (minutes.value) payload.duration_s = Number(minutes.value) * 60;
        const r = await call<{ round: RoundInfo }>("admin.round_start", payload);
        if (!r) return;
        notify(`${r.round.name} started: fresh accounts for everyone`);
        roundName.value = "";
        await refresh(true, r.round.round_id); // show the new round, not the one picked before
      },
    },
    roundName,
    minutes,
    start,
    end,
    download,
  );
  end.addEventListener("click", async () => {
    const r = await call<{ round: RoundInfo }>("admin.round_end", {});
    if (!r) return;
    notify(`${r.round.name} ended: positions closed at the marks, market paused`);
    await refresh(true, r.round.round_id);
  });
  download.addEventListener("click", async () => {
    const id = Number(picker.value);
    if (!id) return;
    const res = await fetch(`/rounds/${id}.csv`, { headers: { authorization: `Bearer ${session.bearer ?? ""}` } });
    if (!res.ok) {
      notify(`CSV export failed (HTTP ${res.status})`, true);
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: `round-${id}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  const cell = (text: string, cls = "num") => h("td", { class: cls }, text);

  const drawScores = (round: RoundInfo, rows: ScoreRow[]) => {
    const ends = round.status === "running" && round.ends_at ? `, ends ${new Date(round.ends_at).toLocaleTimeString()}` : "";
    setText(state, round.status === "running" ? `running${ends}` : "ended: positions closed out at the marks");
    state.dataset.status = round.status;
    body.replaceChildren(
      ...rows.map((r) =>
        h(
          "tr",
          { testid: `rounds-row-${r.username}`, "data-pnl": r.pnl, "data-rank": r.rank },
          cell(String(r.rank), "rank"),
          traderCell(r.username, r.is_bot, r.user_id === session.user?.user_id),
          cashCell(r.pnl),
          cashCell(r.fees),
          cell(grouped(r.max_drawdown)),
          cell(r.sharpe ?? "—"),
          cell(String(r.volume)),
          cell(String(r.fills)),
          cell(String(r.breaches)),
        ),
      ),
    );
    if (!rows.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: "9" }, "No scores yet")));
  };

  const refresh = async (quiet = false, select?: number) => {
    let list: { current: RoundInfo | null; rounds: RoundInfo[] };
    try {
      list = await session.request("rounds.list", {});
    } catch (err) {
      if (!quiet) notify(errText(err), true);
      return;
    }
    current = list.current;
    const all = [...list.rounds, ...(current ? [current] : [])];
    const keep = select ?? (Number(picker.value) || (current?.round_id ?? all.at(-1)?.round_id ?? 0));
    picker.replaceChildren(
      ...all.map((r) => h("option", { value: String(r.round_id), selected: r.round_id === keep }, `${r.name}${r.status === "running" ? " (live)" : ""}`)),
    );
    start.disabled = current !== null;
    end.disabled = current === null;
    download.disabled = !all.some((r) => r.round_id === Number(picker.value) && r.status === "ended");
    adminBar.hidden = !isAdmin();
    const id = Number(picker.value);
    if (!id) {
      setText(state, "no round yet");
      body.replaceChildren();
      return;
    }
    try {
      const r = await session.request<{ round: RoundInfo; scores: ScoreRow[] }>("rounds.get", {
        round_id: id,
        include_bots: bots.checked,
      });
      drawScores(r.round, r.scores);
    } catch (err) {
      if (!quiet) notify(errText(err), true);
    }
  };

  picker.addEventListener("change", () => void refresh());
  bots.addEventListener("change", () => void refresh());

  const poll = () => {
    timer = setTimeout(async () => {
      if (!shown) return;
      if (document.visibilityState !== "hidden") await refresh(true);
      if (shown) poll();
    }, ROUNDS_POLL_MS);
  };

  const el = h(
    "section",
    { class: "panel board-panel", testid: "rounds" },
    h(
      "header",
      { class: "panel-head" },
      h("span", null, "Rounds "),
      picker,
      state,
      h("span", { class: "grow" }),
      h("label", { class: "check board-toggle" }, bots, "Include agents"),
    ),
    adminBar,
    h(
      "div",
      { class: "scroll" },
      rankedTable(["PnL", "Fees", "Max DD", "Sharpe", "Volume", "Fills", "Breaches"], body),
    ),
    h(
      "p",
      { class: "muted small board-note" },
      "PnL marked to market (last trade, else mid, else reference price); at a round's end every position is closed out at that mark. ",
      "Max drawdown and Sharpe over PnL samples taken every second.",
    ),
  );

  return {
    el,
    show() {
      shown = true;
      void refresh(true);
      if (timer) clearTimeout(timer);
      poll();
    },
    hide() {
      shown = false;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
