// Admin screen, market clock card: pause / resume the venue, the agents'
// clock speed, stepping while paused, and snapshots saved and restored.

import type { Session } from "../connection.ts";
import { h, setText } from "./dom.ts";
import { type Notify, caller } from "./requests.ts";

export interface SimStatus {
  paused: boolean;
  speed: number;
  intensity: number;
  running: boolean;
  sim_time_ms: number;
  stepped?: number;
}

interface Snapshot {
  snapshot_id: number;
  name: string;
  seq: number;
  ts: number;
  state_hash: string;
}

export function adminControlView(session: Session, notify: Notify): { el: HTMLElement; refresh(): Promise<void> } {
  const state = h("span", { class: "status-pill", testid: "admin-clock-state" }, "—");
  const simTime = h("span", { class: "muted", testid: "admin-clock-time" }, "");
  const speed = h("input", { type: "number", min: "0.1", max: "100", step: "0.1", class: "narrow", testid: "admin-speed" });
  const stepSeconds = h("input", { type: "number", min: "1", max: "3600", step: "1", value: "10", class: "narrow", testid: "admin-step-s" });
  const pause = h("button", { type: "button", class: "btn btn-small btn-danger", testid: "admin-pause" }, "Pause market");
  const resume = h("button", { type: "button", class: "btn btn-small", testid: "admin-resume-market" }, "Resume market");
  const step = h("button", { type: "button", class: "btn btn-small", testid: "admin-step" }, "Step");
  const snapBody = h("tbody", { testid: "admin-snapshots-body" });
  const snapName = h("input", { placeholder: "snapshot name", testid: "admin-snapshot-name" });

  const show = (s: SimStatus) => {
    setText(state, s.paused ? "PAUSED" : "RUNNING");
    state.dataset.status = s.paused ? "halted" : "trading";
    state.dataset.paused = String(s.paused);
    setText(simTime, `agents' clock ${(s.sim_time_ms / 1000).toFixed(1)} s`);
    if (document.activeElement !== speed) speed.value = String(s.speed);
    pause.disabled = s.paused;
    resume.disabled = !s.paused;
    step.disabled = !s.paused;
  };

  const call = caller(session, notify);
  const sim = async (payload: object, done?: (s: SimStatus) => string) => {
    const s = await call<SimStatus>("admin.sim", payload);
    if (!s) return;
    show(s);
    if (done) notify(done(s));
  };

  pause.addEventListener("click", () => void sim({ paused: true }, () => "Market paused"));
  resume.addEventListener("click", () => void sim({ paused: false }, () => "Market resumed"));
  step.addEventListener("click", () => void sim({ step_s: Number(stepSeconds.value) }, (s) => `Stepped ${s.stepped ?? 0} agent steps`));

  const loadSnapshots = async () => {
    const r = await call<{ snapshots: Snapshot[] }>("admin.snapshots", {});
    if (!r) return;
    snapBody.replaceChildren(
      ...r.snapshots.map((s) => {
        const restore = h("button", { type: "button", class: "btn btn-small", testid: `admin-restore-${s.snapshot_id}` }, "Restore");
        restore.addEventListener("click", async () => {
          const done = await call<SimStatus & { state_hash: string }>("admin.restore", { snapshot_id: s.snapshot_id });
          if (!done) return;
          show(done);
          notify(`Restored “${s.name}” (paused)`);
        });
        return h(
          "tr",
          { testid: `admin-snapshot-${s.snapshot_id}` },
          h("td", { class: "muted" }, String(s.snapshot_id)),
          h("td", null, s.name),
          h("td", { class: "muted" }, new Date(s.ts).toLocaleTimeString()),
          h("td", { class: "muted mono", title: s.state_hash }, s.state_hash.slice(0, 10)),
          h("td", { class: "act" }, restore),
        );
      }),
    );
  };

  const el = h(
    "section",
    { class: "panel admin-card", testid: "admin-clock" },
    h("header", { class: "panel-head" }, h("span", null, "Market clock "), state, h("span", { class: "grow" }), simTime),
    h("div", { class: "admin-form" }, pause, resume),
    h(
      "form",
      {
        class: "admin-form",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void sim({ speed: Number(speed.value) }, (s) => `Agents' clock ×${s.speed}`);
        },
      },
      h("label", null, "Speed"),
      speed,
      h("button", { type: "submit", class: "btn btn-small", testid: "admin-speed-apply" }, "Apply"),
      h("label", null, "Step (paused)"),
      stepSeconds,
      h("span", { class: "muted" }, "s"),
      step,
    ),
    h(
      "form",
      {
        class: "admin-form",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const payload = snapName.value.trim() ? { name: snapName.value.trim() } : {};
          const r = await call<{ snapshot: Snapshot }>("admin.snapshot", payload);
          if (!r) return;
          notify(`Saved “${r.snapshot.name}”`);
          snapName.value = "";
          await loadSnapshots();
        },
      },
      h("label", null, "Snapshots"),
      snapName,
      h("button", { type: "submit", class: "btn btn-small btn-primary", testid: "admin-snapshot-save" }, "Save"),
    ),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "grid" },
        h("thead", null, h("tr", null, h("th", null, "ID"), h("th", null, "Name"), h("th", null, "Saved"), h("th", null, "Hash"), h("th", null, ""))),
        snapBody,
      ),
    ),
    h("p", { class: "muted small" }, "Paused: the books are frozen and orders are refused (MARKET_PAUSED). A restore leaves the market paused."),
  );

  return {
    el,
    async refresh() {
      const s = await call<SimStatus>("market.status", {});
      if (s) show(s);
      await loadSnapshots();
    },
  };
}
