/**
 * An in-memory ticket endpoint and WebSocket for soak tests: thousands of connection
 * cycles without a kernel socket, so what the test counts afterwards (timers, sockets,
 * listeners, heap) belongs to sockstate alone. Events are delivered on microtasks, so it
 * works with real and with fake timers alike.
 */
import { PING_FRAME, PONG_FRAME } from "../../machines/protocol";
import { FakeWebSocket } from "../support/fake-socket";

/** Issued tickets that are remembered until used; older ones expire (and count as bad if used). */
const OUTSTANDING_TICKETS = 100;

export interface MemoryTransportStats {
  /** Tickets the endpoint issued. */
  ticketsIssued: number;
  /** Upgrades that came with a missing, unknown, expired or already used ticket. */
  badTickets: number;
  /** Sockets constructed. */
  socketsCreated: number;
  /** The most sockets ever open or opening at the same time. */
  maxLive: number;
}

/**
 * `greeting`: a frame the server sends as soon as a socket opens, as servers that greet
 * do; it confirms the connection at once instead of after the 50 ms window.
 */
export function createMemoryTransport(options: { greeting?: string } = {}) {
  /** Issued and not yet used, oldest first. Nothing else is kept per ticket, so the soak's heap stays flat. */
  const outstanding = new Set<string>();
  const live = new Set<MemorySocket>();
  const stats: MemoryTransportStats = { ticketsIssued: 0, badTickets: 0, socketsCreated: 0, maxLive: 0 };
  let answerPings = true;

  class MemorySocket extends FakeWebSocket {
    constructor(url: string) {
      super(url);
      const ticket = new URL(url).searchParams.get("ticket");
      if (ticket === null || !outstanding.delete(ticket)) stats.badTickets += 1;
      stats.socketsCreated += 1;
      live.add(this);
      stats.maxLive = Math.max(stats.maxLive, live.size);
      queueMicrotask(() => {
        if (this.readyState !== 0) return;
        this.readyState = 1;
        this.onopen?.({ type: "open" });
        if (options.greeting !== undefined) this.serverSend(options.greeting);
      });
    }

    send(data: unknown): void {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      if (data === PING_FRAME && answerPings) queueMicrotask(() => this.serverSend(PONG_FRAME));
    }

    close(code = 1000, reason = ""): void {
      if (this.readyState >= 2) return;
      this.readyState = 2;
      queueMicrotask(() => this.#finish(code, reason, true));
    }

    /** The server sends a frame. */
    serverSend(data: string): void {
      if (this.readyState === 1) this.onmessage?.({ type: "message", data });
    }

    /** The server closes (a code) or the network drops (1006) the socket. */
    serverClose(code: number, reason = ""): void {
      this.#finish(code, reason, code !== 1006);
    }

    #finish(code: number, reason: string, wasClean: boolean): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      live.delete(this);
      this.onclose?.({ type: "close", code, reason, wasClean });
    }
  }

  const fetch = async (): Promise<Response> => {
    const ticket = `memory-${++stats.ticketsIssued}`;
    outstanding.add(ticket);
    if (outstanding.size > OUTSTANDING_TICKETS) outstanding.delete(outstanding.values().next().value!);
    const body = { ticket, expiresAt: Date.now() + 30_000 };
    // Only what the client reads of a Response; a real one costs more than the rest of a cycle.
    return { ok: true, status: 200, json: async () => body, text: async () => JSON.stringify(body) } as Response;
  };

  return {
    WebSocket: MemorySocket,
    fetch: fetch as typeof globalThis.fetch,
    /** Sockets open or opening right now. */
    live,
    stats,
    /** Whether pings are answered (default `true`); `false` makes every link look dead. */
    setAnswerPings(enabled: boolean) {
      answerPings = enabled;
    },
  };
}

export type MemoryTransport = ReturnType<typeof createMemoryTransport>;
