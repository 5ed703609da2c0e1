// Admin screen, users card: list, create, change role, disable / enable,
// reset password, and import a class from CSV with a printable sheet.

import type { Session } from "../connection.ts";
import { h, setText } from "./dom.ts";
import { type Notify, caller } from "./requests.ts";

export interface AdminUser {
  user_id: number;
  username: string;
  role: string;
  roles: string[];
  is_guest: boolean;
  is_bot: boolean;
  disabled: boolean;
}

interface Issued {
  username: string;
  password: string;
  role: string;
}

const ROLES = ["viewer", "trader", "admin"];

/** Opens the server-made credentials sheet in a new tab, ready to print. */
function openSheet(html: string): void {
  const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  window.open(url, "_blank");
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function adminUsersView(session: Session, notify: Notify): { el: HTMLElement; refresh(): Promise<void> } {
  const body = h("tbody", { testid: "admin-users-body" });
  const count = h("span", { class: "count" }, "0");
  const issued = h("div", { class: "admin-issued", testid: "admin-issued" });

  const showIssued = (rows: Issued[], sheet: string | null) => {
    const table = h(
      "table",
      { class: "grid" },
      h("thead", null, h("tr", null, h("th", null, "Username"), h("th", null, "Password"), h("th", null, "Role"))),
      h(
        "tbody",
        null,
        ...rows.map((r) =>
          h(
            "tr",
            { testid: `admin-issued-${r.username}` },
            h("td", null, r.username),
            h("td", { class: "mono" }, r.password),
            h("td", null, r.role),
          ),
        ),
      ),
    );
    const print = sheet
      ? h("button", { type: "button", class: "btn btn-small", testid: "admin-sheet", onclick: () => openSheet(sheet) }, "Print sheet")
      : null;
    issued.replaceChildren(h("p", { class: "muted small" }, "Passwords are shown once: note them, or print the sheet."), table);
    if (print) issued.append(print);
  };

  const call = caller(session, notify);

  const row = (u: AdminUser) => {
    const role = h("select", { testid: `admin-role-${u.username}`, disabled: u.is_bot });
    for (const r of ROLES) role.append(h("option", { value: r, selected: r === u.role }, r));
    role.addEventListener("change", async () => {
      const r = await call<{ user: AdminUser }>("admin.user_update", { username: u.username, role: role.value });
      if (r) notify(`${u.username} is now ${r.user.role}`);
      await refresh();
    });
    const toggle = h(
      "button",
      { type: "button", class: `btn btn-small${u.disabled ? "" : " btn-danger"}`, testid: `admin-toggle-${u.username}`, disabled: u.is_bot },
      u.disabled ? "Enable" : "Disable",
    );
    toggle.addEventListener("click", async () => {
      const r = await call<{ user: AdminUser }>("admin.user_update", { username: u.username, disabled: !u.disabled });
      if (r) notify(`${u.username} ${r.user.disabled ? "disabled" : "enabled"}`);
      await refresh();
    });
    const reset = h(
      "button",
      { type: "button", class: "btn btn-small", testid: `admin-reset-${u.username}`, disabled: u.is_bot },
      "Reset password",
    );
    reset.addEventListener("click", async () => {
      const r = await call<{ user: AdminUser; password: string }>("admin.user_password", { username: u.username });
      if (r) showIssued([{ username: u.username, password: r.password, role: r.user.role }], null);
    });
    const kind = u.is_bot ? "bot" : u.is_guest ? "guest" : "account";
    return h(
      "tr",
      { testid: `admin-user-${u.username}`, "data-disabled": String(u.disabled) },
      h("td", { class: "muted" }, String(u.user_id)),
      h("td", null, u.username),
      h("td", null, u.roles.join(", ")),
      h("td", null, u.disabled ? `${kind}, disabled` : kind),
      h("td", { class: "act" }, role, " ", toggle, " ", reset),
    );
  };

  const refresh = async () => {
    const r = await call<{ users: AdminUser[] }>("admin.users", {});
    if (!r) return;
    setText(count, String(r.users.length));
    body.replaceChildren(...r.users.map(row));
  };

  const newName = h("input", { testid: "admin-new-username", placeholder: "username", class: "narrow" });
  const newPassword = h("input", { testid: "admin-new-password", placeholder: "password (empty: generated)" });
  const newRole = h("select", { testid: "admin-new-role" }, ...ROLES.map((r) => h("option", { value: r, selected: r === "trader" }, r)));
  const create = h(
    "form",
    {
      class: "admin-form",
      testid: "admin-create",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const payload: Record<string, string> = { username: newName.value.trim(), role: newRole.value };
        if (newPassword.value) payload.password = newPassword.value;
        const r = await call<{ user: AdminUser; password: string | null }>("admin.user_create", payload);
        if (!r) return;
        notify(`Created ${r.user.username}`);
        showIssued([{ username: r.user.username, password: r.password ?? newPassword.value, role: r.user.role }], null);
        newName.value = "";
        newPassword.value = "";
        await refresh();
      },
    },
    h("label", null, "New user"),
    newName,
    newPassword,
    newRole,
    h("button", { type: "submit", class: "btn btn-primary btn-small", testid: "admin-create-submit" }, "Create"),
  );

  const csv = h("textarea", {
    testid: "admin-csv",
    rows: "4",
    placeholder: "username[,password[,role]] per line; empty passwords are generated",
  });
  const file = h("input", { type: "file", accept: ".csv,text/csv", testid: "admin-csv-file" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) csv.value = await f.text();
  });
  const importForm = h(
    "form",
    {
      class: "admin-form",
      testid: "admin-import",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const r = await call<{ users: Issued[]; sheet: string }>("admin.users_import", {
          csv: csv.value,
          address: window.location.origin,
        });
        if (!r) return;
        notify(`Imported ${r.users.length} account(s)`);
        showIssued(r.users, r.sheet);
        csv.value = "";
        await refresh();
      },
    },
    h("label", null, "Import a class (CSV)"),
    csv,
    file,
    h("button", { type: "submit", class: "btn btn-primary btn-small", testid: "admin-import-submit" }, "Import"),
  );

  const el = h(
    "section",
    { class: "panel admin-card wide", testid: "admin-users" },
    h(
      "header",
      { class: "panel-head" },
      h("span", null, "Users "),
      count,
      h("span", { class: "grow" }),
      h("button", { type: "button", class: "btn btn-small", testid: "admin-users-refresh", onclick: () => void refresh() }, "Refresh"),
    ),
    create,
    importForm,
    issued,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "grid" },
        h(
          "thead",
          null,
          h("tr", null, h("th", null, "ID"), h("th", null, "Username"), h("th", null, "Roles"), h("th", null, "Kind"), h("th", null, "")),
        ),
        body,
      ),
    ),
  );
  return { el, refresh };
}
