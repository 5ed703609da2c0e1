// Login page: username/password, or continue as guest (offered only when the server allows guests:
// GET /api/info says so before anyone logs in).

import type { Credentials } from "../connection.ts";
import { h, setText } from "./dom.ts";

export function loginView(onLogin: (c: Credentials) => Promise<void>, notice = ""): HTMLElement {
  const user = h("input", {
    testid: "login-username",
    id: "login-username",
    autocomplete: "username",
    placeholder: "username",
    spellcheck: "false",
  });
  const pass = h("input", {
    testid: "login-password",
    id: "login-password",
    type: "password",
    autocomplete: "current-password",
    placeholder: "password",
  });
  const error = h("div", { class: "login-error", testid: "login-error", role: "alert" }, notice);
  const submit = h("button", { class: "btn btn-primary", type: "submit", testid: "login-submit" }, "Log in");
  const guest = h(
    "button",
    { class: "btn btn-ghost", type: "button", testid: "login-guest", hidden: true },
    "Continue as guest",
  );
  const or = h("div", { class: "login-or", hidden: true }, h("span", null, "or"));

  const busy = (on: boolean) => {
    submit.disabled = on;
    guest.disabled = on;
  };
  const run = async (c: Credentials) => {
    setText(error, "");
    busy(true);
    try {
      await onLogin(c);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      setText(error, e.code ? `${e.code}: ${e.message}` : String(e.message ?? err));
      busy(false);
    }
  };

  const form = h(
    "form",
    {
      class: "login-card",
      testid: "login-form",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        if (!user.value.trim()) {
          setText(error, "Enter a username, or continue as guest.");
          user.focus();
          return;
        }
        void run({ username: user.value.trim(), password: pass.value });
      },
    },
    h("div", { class: "brand brand-lg" }, h("span", { class: "brand-mark" }), "HFT", h("b", null, "SIM")),
    h("p", { class: "login-sub" }, "Simulated exchange — live order books, real matching."),
    h("label", { for: "login-username" }, "Username"),
    user,
    h("label", { for: "login-password" }, "Password"),
    pass,
    error,
    submit,
    or,
    guest,
  );
  guest.addEventListener("click", () => void run({ guest: true }));
  const page = h("div", { class: "login-page", testid: "login-page" }, form);
  void offerGuests().then((offer) => {
    guest.hidden = or.hidden = !offer;
    page.dataset.guests = String(offer);
  });
  queueMicrotask(() => user.focus());
  return page;
}

/** Whether to offer the guest login; when the server cannot say, offer it and let the login answer. */
async function offerGuests(): Promise<boolean> {
  try {
    const resp = await fetch("/api/info");
    const info = (await resp.json()) as { guests?: unknown };
    return info.guests !== false;
  } catch {
    return true;
  }
}
