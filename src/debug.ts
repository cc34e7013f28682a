/** `debug` output: one line per event a socket's machine handles (and the state it is then in), never a ticket. */
import type { InspectionEvent } from "xstate";
import { redactTicket } from "../machines/connection.utils";
import type { DebugLogger } from "./options";

function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    return Object.entries(value)
      .map(([key, child]) => (child && typeof child === "object" && Object.keys(child).length === 0 ? key : `${key}.${formatValue(child)}`))
      .join(",");
  }
  return String(value);
}

/** The logger `debug` names: `console.debug` for `true`, else the function itself. */
function loggerOf(debug: true | DebugLogger): DebugLogger {
  return debug === true ? (message, details) => console.debug(message, details) : debug;
}

/** An inspection callback that logs the root actor's snapshots of socket `key`. */
export function createDebugInspector(key: string, debug: true | DebugLogger): (event: InspectionEvent) => void {
  const log = loggerOf(debug);
  let rootSessionId: string | undefined;
  return (inspection) => {
    if (inspection.type !== "@xstate.snapshot") return;
    rootSessionId ??= inspection.rootId;
    if (inspection.actorRef.sessionId !== rootSessionId) return;
    const snapshot = inspection.snapshot as {
      value?: unknown;
      status?: string;
      context?: { attempt?: number };
    };
    const state = snapshot.status === "done" ? "closed" : formatValue(snapshot.value);
    const eventType = redactTicket(inspection.event.type).replace(/^xstate\.after\.([^.]+)\..*$/, "after $1");
    log(`sockstate ${key}: ${state} (${eventType})`, {
      key,
      state,
      event: eventType,
      attempt: snapshot.context?.attempt ?? 0,
    });
  };
}

/** `TicketError status 404`, `ConnectionRejectedError code 4003`, or just the name. */
function errorDetails(error: unknown): { name: string; status?: number; code?: number; message: string } {
  if (error instanceof Error) {
    const { status, code } = error as { status?: unknown; code?: unknown };
    return {
      name: error.name,
      ...(typeof status === "number" ? { status } : {}),
      ...(typeof code === "number" ? { code } : {}),
      message: redactTicket(error.message),
    };
  }
  const message = (error as { message?: unknown } | null)?.message;
  return { name: "Event", message: typeof message === "string" ? redactTicket(message) : "WebSocket error event" };
}

/** Logs each error a socket reports on `onError`: its name, status or code, and message. */
export function createDebugErrorLogger(key: string, debug: true | DebugLogger): (error: unknown) => void {
  const log = loggerOf(debug);
  return (error) => {
    const details = errorDetails(error);
    const number = details.status !== undefined ? ` status ${details.status}` : details.code !== undefined ? ` code ${details.code}` : "";
    log(`sockstate ${key}: error ${details.name}${number}: ${details.message}`, { key, error: details });
  };
}
