// Requests from the admin and rounds panels: a refusal becomes a red toast
// with its code and message, and the panel just gets no answer.

import type { Session } from "../connection.ts";

export type Notify = (msg: string, bad?: boolean) => void;

export function errText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code ?? "ERROR"}: ${e.message ?? String(err)}`;
}

/** A `call(op, payload)` that answers the response payload, or null once the error is shown. */
export function caller(session: Session, notify: Notify): <T>(op: string, payload: object) => Promise<T | null> {
  return async <T>(op: string, payload: object): Promise<T | null> => {
    try {
      return await session.request<T>(op, payload);
    } catch (err) {
      notify(errText(err), true);
      return null;
    }
  };
}
