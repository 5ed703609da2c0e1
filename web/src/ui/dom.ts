// Minimal DOM building helpers (no framework).

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, unknown>;

/**
 * `h("button", {class: "btn", testid: "x", onclick: fn}, "Label")`.
 * `testid` becomes `data-testid`; `on*` functions become listeners;
 * `true` sets an empty attribute, `false`/null/undefined skip it.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v as EventListener);
      } else if (k === "testid") {
        el.dataset.testid = String(v);
      } else if (k === "class") {
        el.className = String(v);
      } else if (k === "value" && "value" in el) {
        (el as HTMLInputElement).value = String(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
}

/** Sets text only when it changed (cheap in per-frame renders). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setClass(el: Element, cls: string): void {
  if (el.className !== cls) el.className = cls;
}

export function timeOfDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "+1.25%" style change of `last` vs `open`; display only. */
export function pctChange(last: string | null, open: string | null): { text: string; sign: number } {
  if (!last || !open) return { text: "—", sign: 0 };
  const o = Number(open);
  if (!o) return { text: "—", sign: 0 };
  const pct = ((Number(last) - o) / o) * 100;
  const sign = pct > 0.00005 ? 1 : pct < -0.00005 ? -1 : 0;
  return { text: `${pct >= 0 ? "+" : ""}${pct.toFixed(2)}%`, sign };
}

export function signClass(s: string): string {
  if (s.startsWith("-")) return "neg";
  return /[1-9]/.test(s) ? "pos" : "";
}
