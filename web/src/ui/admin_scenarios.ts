// Admin screen, scenarios card: the scenario files the server offers, start
// one (it replaces the one playing), stop it, and how far the playing one is.

import type { Session } from "../connection.ts";
import { h, setText } from "./dom.ts";
import { type Notify, caller } from "./requests.ts";

interface ScenarioFile {
  file: string;
  name?: string;
  description?: string;
  length_s?: number;
  error?: string;
}

export interface ScenarioStatus {
  name: string;
  elapsed_s: number;
  length_s: number;
  events_done: number;
  events: number;
  log: string[];
}

export function adminScenariosView(session: Session, notify: Notify): { el: HTMLElement; refresh(): Promise<void> } {
  const body = h("tbody", { testid: "admin-scenarios-body" });
  const playing = h("span", { class: "muted", testid: "admin-scenario-playing" }, "none playing");
  const stop = h("button", { type: "button", class: "btn btn-small", testid: "admin-scenario-stop" }, "Stop");

  const call = caller(session, notify);

  const show = (s: ScenarioStatus | null) => {
    if (!s) {
      setText(playing, "none playing");
      playing.dataset.name = "";
      stop.disabled = true;
      return;
    }
    setText(playing, `${s.name}: ${s.elapsed_s.toFixed(0)} / ${s.length_s} s, ${s.events_done} of ${s.events} events`);
    playing.dataset.name = s.name;
    playing.dataset.done = String(s.events_done);
    stop.disabled = false;
  };

  stop.addEventListener("click", async () => {
    const r = await call<{ scenario: ScenarioStatus | null }>("admin.scenario_stop", {});
    if (r) {
      show(null);
      notify("Scenario stopped");
    }
  });

  const refresh = async () => {
    const list = await call<{ scenarios: ScenarioFile[]; playing: ScenarioStatus | null }>("admin.scenarios", {});
    if (!list) return;
    show(list.playing);
    body.replaceChildren(
      ...list.scenarios.map((s) => {
        const start = h(
          "button",
          { type: "button", class: "btn btn-small btn-primary", testid: `admin-scenario-start-${s.file}`, disabled: Boolean(s.error) },
          "Start",
        );
        start.addEventListener("click", async () => {
          const r = await call<{ scenario: ScenarioStatus }>("admin.scenario_start", { file: s.file });
          if (!r) return;
          show(r.scenario);
          notify(`Scenario “${r.scenario.name}” started`);
        });
        return h(
          "tr",
          { testid: `admin-scenario-${s.file}` },
          h("td", null, h("b", null, s.name ?? s.file), h("div", { class: "muted small" }, s.error ?? s.description ?? "")),
          h("td", { class: "num muted" }, s.length_s !== undefined ? `${s.length_s} s` : "—"),
          h("td", { class: "act" }, start),
        );
      }),
    );
  };

  const el = h(
    "section",
    { class: "panel admin-card", testid: "admin-scenarios" },
    h("header", { class: "panel-head" }, h("span", null, "Scenarios "), h("span", { class: "grow" }), playing, " ", stop),
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "grid" }, h("thead", null, h("tr", null, h("th", null, "Scenario"), h("th", { class: "num" }, "Length"), h("th", null, ""))), body),
    ),
    h("p", { class: "muted small" }, "Events play on the agents' clock: pause, speed and step apply to them too."),
  );
  return { el, refresh };
}
