/**
 * Everything a socket shows the outside world, collected step by step: what its
 * emitters said, what the server saw, what is still alive. `take()` returns what is
 * new since the last call, in the shape of the oracle's {@link Expected}.
 */
import type { ManagedWebSocket, WebSocketManager } from "../../src/index";
import type { ModelNetwork } from "./kit/model";
import { type Expected, errorName } from "./spec-oracle";

export interface Observed extends Expected {
  ready: string;
  /** Tickets in the upgrades of this step. */
  upgradeTickets: Array<string | null>;
  /** Tickets the endpoint issued so far. */
  issuedTickets: string[];
}

export function observe(socket: ManagedWebSocket, manager: WebSocketManager, network: ModelNetwork) {
  const log = { stateChanges: [] as string[], reconnecting: [] as number[], errors: [] as string[], messages: [] as unknown[] };
  socket.onStateChange.subscribe((state) => log.stateChanges.push(state));
  socket.onReconnecting.subscribe((attempt) => log.reconnecting.push(attempt));
  socket.onError.subscribe((error) => log.errors.push(errorName(error)));
  socket.onMessage.subscribe((event) => log.messages.push(event.data));
  let ready = "pending";
  socket.ready.then(
    () => (ready = "resolved"),
    (error: Error) => (ready = `rejected:${error.name}`),
  );

  const seen = { stateChanges: 0, reconnecting: 0, errors: 0, messages: 0, tickets: 0, sockets: 0 };
  const framesSeen = new Map<number, number>();
  const closesSeen = new Set<number>();
  const fresh = <T>(list: T[], key: keyof typeof seen): T[] => {
    const items = list.slice(seen[key]);
    seen[key] = list.length;
    return items;
  };

  return {
    /** What happened since the last call. */
    take(): Observed {
      const sockets = network.sockets;
      const frames: unknown[] = [];
      const clientCloses: Array<number | "abort"> = [];
      for (const record of sockets) {
        frames.push(...record.received.slice(framesSeen.get(record.id) ?? 0));
        framesSeen.set(record.id, record.received.length);
        if (record.clientClose && !closesSeen.has(record.id)) {
          closesSeen.add(record.id);
          clientCloses.push(record.clientClose === "abort" ? "abort" : (record.clientClose.code ?? 1005));
        }
      }
      const upgrades = fresh([...sockets], "sockets");
      return {
        stateChanges: fresh(log.stateChanges, "stateChanges") as Observed["stateChanges"],
        reconnecting: fresh(log.reconnecting, "reconnecting"),
        errors: fresh(log.errors, "errors").sort(),
        messages: fresh(log.messages, "messages"),
        frames,
        clientCloses,
        ticketRequests: fresh([...network.ticketRequests], "tickets").length,
        upgrades: upgrades.length,
        upgradeTickets: upgrades.map((record) => record.ticket),
        issuedTickets: network.ticketRequests.flatMap((request) => (request.ticket ? [request.ticket] : [])),
        ready,
      };
    },
    /** The socket's readable state, for comparison with the oracle. */
    state: () => ({
      state: socket.state,
      reconnectAttempt: socket.reconnectAttempt,
      isOpen: socket.isOpen,
      queuedMessages: socket.queuedMessages,
      connectionCount: manager.connectionCount,
      liveSockets: network.liveSockets().length,
      pendingTickets: network.pendingTickets,
    }),
  };
}
