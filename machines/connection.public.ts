/** The one mapping from a machine snapshot to the public state of docs/protocol.md §4. */
import type { SnapshotFrom } from "xstate";
import type { ConnectionMachine } from "./connection.machine";
import type { WebSocketState } from "./connection.types";

/** A snapshot of the connection machine, as `actor.getSnapshot()` returns it. */
export type ConnectionSnapshot = SnapshotFrom<ConnectionMachine>;

/**
 * `closed` once final; otherwise the state's tag. An attempt (ticket or handshake)
 * is `connecting` only for the very first connection and `reconnecting` after that.
 */
export function toPublicState(snapshot: ConnectionSnapshot): WebSocketState {
  if (snapshot.status !== "active" || snapshot.hasTag("closed")) return "closed";
  if (snapshot.hasTag("open")) return "open";
  if (snapshot.hasTag("closing")) return "closing";
  if (snapshot.hasTag("attempt") && snapshot.context.attempt === 0) return "connecting";
  return "reconnecting";
}

/** The attempt number the public API reports: the current one while reconnecting, else 0. */
export function toPublicAttempt(snapshot: ConnectionSnapshot): number {
  return toPublicState(snapshot) === "reconnecting" ? snapshot.context.attempt : 0;
}
