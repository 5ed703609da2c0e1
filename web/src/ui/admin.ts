// Admin screen (is_admin only): halt / resume symbols, agent intensity, the market clock
// and snapshots (admin_control.ts), scenarios (admin_scenarios.ts), users (admin_users.ts).

import type { Session } from "../connection.ts";
import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import { adminControlView } from "./admin_control.ts";
import { adminScenariosView } from "./admin_scenarios.ts";
import { adminUsersView } from "./admin_users.ts";
import { h, pctChange, setText } from "./dom.ts";
import { errText } from "./requests.ts";

export function adminView(session: Session, market: Market, notify: (msg: string, bad?: boolean) => void): {
  el: HTMLElement;
  refresh(): void;
} {
  // --- symbols -------------------------------------------------------------
  const symBody = h("tbody", { testid: "admin-symbols-body" });
  const symbols = h(
    "section",
    { class: "panel admin-card", testid: "admin-symbols" },
    h("header", { class: "panel-head" }, h("span", null, "Symbols")),
    h(
      "table",
      { class: "grid" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", null, "Symbol"),
          h("th", null, "Status"),
          h("th", { class: "num" }, "Last"),
          h("th", { class: "num" }, "Chg"),
          h("th", { class: "num" }, "Ref"),
          h("th", null, ""),
        ),
      ),
      symBody,
    ),
  );
  const act = async (op: "admin.halt" | "admin.resume", sym: string) => {
    try {
      const r = await session.request<{ sym: string; status: "trading" | "halted" }>(op, { sym });
      const info = market.symbols.get(sym);
      if (info && r.status) info.status = r.status;
      market.changes.emit("symbols");
      notify(`${sym} ${r.status ?? (op === "admin.halt" ? "halted" : "trading")}`);
    } catch (err) {
      notify(errText(err), true);
    }
  };
  let symKeys = "";
  const rowEls = new Map<string, { status: HTMLElement; last: HTMLElement; chg: HTMLElement; halt: HTMLButtonElement; resume: HTMLButtonElement }>();
  const renderSymbols = () => {
    const keys = [...market.symbols.keys()].join(",");
    if (keys !== symKeys) {
      symKeys = keys;
      rowEls.clear();
      symBody.replaceChildren(
        ...[...market.symbols.values()].map((s) => {
          const status = h("span", { class: "status-pill", testid: `admin-status-${s.sym}` });
          const last = h("td", { class: "num" });
          const chg = h("td", { class: "num" });
          const halt = h("button", { type: "button", class: "btn btn-small btn-danger", testid: `admin-halt-${s.sym}` }, "Halt");
          const resume = h("button", { type: "button", class: "btn btn-small", testid: `admin-resume-${s.sym}` }, "Resume");
          halt.addEventListener("click", () => void act("admin.halt", s.sym));
          resume.addEventListener("click", () => void act("admin.resume", s.sym));
          rowEls.set(s.sym, { status, last, chg, halt, resume });
          return h(
            "tr",
            { testid: `admin-row-${s.sym}` },
            h("td", null, h("b", null, s.sym)),
            h("td", null, status),
            last,
            chg,
            h("td", { class: "num muted" }, s.ref_price),
            h("td", { class: "act" }, halt, " ", resume),
          );
        }),
      );
    }
    for (const s of market.symbols.values()) {
      const r = rowEls.get(s.sym)!;
      setText(r.status, s.status.toUpperCase());
      r.status.dataset.status = s.status;
      setText(r.last, s.last ?? "—");
      setText(r.chg, pctChange(s.last, s.open).text);
      r.halt.disabled = s.status === "halted";
      r.resume.disabled = s.status !== "halted";
    }
  };
  market.changes.on("symbols", () => schedule(renderSymbols));

  // --- agents --------------------------------------------------------------
  const intensity = h("input", {
    testid: "admin-intensity",
    type: "number",
    min: "0",
    step: "0.1",
    class: "narrow",
  });
  const slider = h("input", { type: "range", min: "0", max: "5", step: "0.1", testid: "admin-intensity-slider" });
  const simState = h("span", { class: "muted", testid: "admin-sim-state" }, "—");
  const applySim = async (payload: object) => {
    try {
      const r = await session.request<{ intensity: number; running: boolean }>("admin.sim", payload);
      intensity.value = String(r.intensity);
      slider.value = String(Math.min(5, r.intensity));
      setText(simState, r.running ? `running at ×${r.intensity}` : "paused");
      simState.dataset.running = String(r.running);
      return r;
    } catch (err) {
      notify(errText(err), true);
      return null;
    }
  };
  slider.addEventListener("input", () => (intensity.value = slider.value));
  const sim = h(
    "section",
    { class: "panel admin-card", testid: "admin-sim" },
    h("header", { class: "panel-head" }, h("span", null, "Simulated agents")),
    h(
      "form",
      {
        class: "admin-form",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const v = Number(intensity.value);
          if (!Number.isFinite(v) || v < 0) {
            notify("Intensity must be a number ≥ 0", true);
            return;
          }
          const r = await applySim({ intensity: v });
          if (r) notify(`Agent intensity ×${r.intensity}`);
        },
      },
      h("label", null, "Intensity"),
      slider,
      intensity,
      h("button", { type: "submit", class: "btn btn-primary btn-small", testid: "admin-sim-apply" }, "Apply"),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          testid: "admin-sim-pause",
          onclick: async () => {
            const r = await applySim({ intensity: 0 });
            if (r) notify("Agents paused");
          },
        },
        "Pause",
      ),
      simState,
    ),
    h("p", { class: "muted small" }, "Multiplier of the agents' activity; 0 pauses them, 1 is the default rate."),
  );

  // --- users ---------------------------------------------------------------
  const users = adminUsersView(session, notify);
  const clock = adminControlView(session, notify);
  const scenarios = adminScenariosView(session, notify);

  const el = h("main", { class: "admin", testid: "admin-screen" }, symbols, sim, clock.el, scenarios.el, users.el);
  return {
    el,
    refresh() {
      schedule(renderSymbols);
      void applySim({});
      void users.refresh();
      void clock.refresh();
      void scenarios.refresh();
    },
  };
}
