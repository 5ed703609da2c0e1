// The ranked tables of the leaderboard screen, the live board and a round's
// scores: rank and trader first, then numbers; cash signed and grouped.

import { grouped } from "../decimal.ts";
import { h, signClass } from "./dom.ts";

/** A table whose columns are "#", "Trader", then `numeric` (right-aligned). */
export function rankedTable(numeric: string[], body: HTMLElement): HTMLElement {
  return h(
    "table",
    { class: "grid board" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { class: "rank" }, "#"),
        h("th", null, "Trader"),
        ...numeric.map((title) => h("th", { class: "num" }, title)),
      ),
    ),
    body,
  );
}

/** A cash cell: coloured by its sign, the exact string kept in `data-value`. */
export function cashCell(value: string, testid?: string, extra = ""): HTMLElement {
  return h("td", { class: `num ${signClass(value)} ${extra}`.trim(), testid, "data-value": value }, grouped(value));
}

/** The trader's name, tagged when it is the viewer ("you") or a simulated agent. */
export function traderCell(username: string, isBot: boolean, isMe: boolean, testid?: string): HTMLElement {
  return h(
    "td",
    null,
    h(
      "span",
      { class: "who-cell" },
      h("span", { testid }, username),
      isMe ? h("span", { class: "tag tag-me" }, "you") : null,
      isBot ? h("span", { class: "tag tag-bot" }, "agent") : null,
    ),
  );
}
