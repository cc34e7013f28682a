/**
 * docs/protocol.md §2–§5 and §8 as an oracle: what a socket must visibly do after each stimulus,
 * written from the contract alone. It never looks at the machine, so a machine that
 * drifts from the contract (a dropped transition, a swapped guard, a wrong target) is
 * caught even though the paths and the coverage are generated from that same machine.
 */
import { PING_FRAME } from "../../machines/protocol";
import type { WebSocketState } from "../../src/index";
import { MODEL_DATA_FRAME, type Stimulus } from "./kit/model";

/** What exists on the wire for the socket right now. */
type Link = "ticket" | "handshake" | "confirming" | "open" | "closing" | "backoff" | "none";

/** What one step must show, beyond the state the socket is left in. */
export interface Expected {
  /** `onStateChange` values, in order. */
  stateChanges: WebSocketState[];
  /** `onReconnecting` values, in order. */
  reconnecting: number[];
  /** `onError` values, by {@link errorName}, in any order. */
  errors: string[];
  /** `onMessage` data, in order. */
  messages: unknown[];
  /** Data frames the server received, in order. */
  frames: unknown[];
  /** Closes the client started on the server's sockets: a code, or `"abort"` for a handshake. */
  clientCloses: Array<number | "abort">;
  /** Ticket requests sent. */
  ticketRequests: number;
  /** WebSocket upgrades attempted. */
  upgrades: number;
}

const TERMINAL_CODES = new Set([4003, 4004, 1008]);
const TICKET_REJECTED = 4001;

/** `TicketError(500)`, `ConnectionRejectedError(4003)`, `ReconnectFailedError(2)`, `SocketClosedError`, `Event`. */
export function errorName(error: unknown): string {
  if (!(error instanceof Error)) return (error as { type?: string } | null)?.type === "error" ? "Event" : String(error);
  const detail = { TicketError: "status", ConnectionRejectedError: "code", ReconnectFailedError: "attempts" }[error.name];
  return detail ? `${error.name}(${(error as unknown as Record<string, unknown>)[detail]})` : error.name;
}

export class SpecOracle {
  phase: WebSocketState = "connecting";
  /** The attempt counter: reconnect attempt n while reconnecting. */
  attempt = 0;
  link: Link = "ticket";
  ready: string = "pending";
  queue: unknown[] = [];
  /** A ping is out and nothing has arrived since. */
  pingOutstanding = false;
  /** The outstanding ping is the one re-sent after a late timeout. */
  repinged = false;
  /** `destroy()` removed every listener: nothing is observed through them any more. */
  destroyed = false;
  /** The manager still counts the socket (until it closes or `closeAll()`). */
  managed = true;

  constructor(private readonly maxReconnectAttempts: number) {}

  /** `socket.send(data)` now: sent at once, queued, or refused (docs/protocol.md §4). */
  send(data: unknown): "sent" | "queued" | "throws" {
    // §4: sent at once when open, unless queued messages still wait for the
    // connection to be confirmed (order: nothing sent later overtakes them).
    if (this.phase === "open" && this.queue.length === 0) return "sent";
    if (this.phase === "closing" || this.phase === "closed") return "throws";
    this.queue.push(data);
    return "queued";
  }

  get reconnectAttempt(): number {
    return this.phase === "reconnecting" ? this.attempt : 0;
  }

  get liveSockets(): number {
    return this.link === "handshake" || this.link === "confirming" || this.link === "open" || this.link === "closing" ? 1 : 0;
  }

  apply(stimulus: Stimulus): Expected {
    const expected: Expected = {
      stateChanges: [],
      reconnecting: [],
      errors: [],
      messages: [],
      frames: [],
      clientCloses: [],
      ticketRequests: 0,
      upgrades: 0,
    };
    const before = this.phase;
    // §4: destroy() reports the messages still queued, then removes every listener.
    let reportedBeforeDestroy: string[] = [];
    if (stimulus.type === "user.close" && stimulus.via === "destroy") {
      if (this.queue.length > 0) reportedBeforeDestroy = ["SocketClosedError"];
      this.queue = [];
      this.destroyed = true;
    }
    this.#apply(stimulus, expected);
    if (this.phase !== before) expected.stateChanges.push(this.phase);
    if (this.destroyed) {
      expected.stateChanges = [];
      expected.reconnecting = [];
      expected.errors = reportedBeforeDestroy;
      expected.messages = [];
    }
    return expected;
  }

  #apply(stimulus: Stimulus, e: Expected): void {
    switch (stimulus.type) {
      case "ticket.answer": {
        if (stimulus.answer === 200) {
          this.link = "handshake";
          e.upgrades = 1;
          return;
        }
        const status: number = stimulus.answer === "network" ? 0 : stimulus.answer;
        e.errors.push(`TicketError(${status})`);
        this.link = "none";
        // §5: every 4xx but 408/429 is terminal; network errors, 408, 429 and 5xx are a failed attempt.
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) this.#close(e, "TicketError");
        else this.#fail(e);
        return;
      }
      case "server.accept":
        // §4: accepted is not yet open: still connecting/reconnecting, sends queue.
        this.link = "confirming";
        this.pingOutstanding = false;
        return;
      case "server.greet":
        // §4: the first data frame confirms at once; its listeners already see `open`.
        this.#confirm(e);
        e.messages.push(MODEL_DATA_FRAME);
        return;
      case "server.refuse":
      case "server.close":
      // A refusal whose close frame came inside the confirmation window: never confirmed
      // (§4: connect* resolves only once the server has had its chance to refuse).
      case "server.closeLate":
        this.link = "none";
        this.pingOutstanding = false;
        this.#serverClosed(e, stimulus.code);
        return;
      case "server.pong":
        // §5: any inbound frame proves liveness; a pong is not delivered.
        this.pingOutstanding = false;
        return;
      case "server.error":
        e.errors.push("Event");
        return;
      case "server.closeAck":
        this.link = "none";
        this.#close(e);
        return;
      case "user.close":
        if (stimulus.via === "closeAll") this.managed = false;
        // §4: close() is idempotent.
        if (this.phase === "closing" || this.phase === "closed") return;
        if (this.link === "open") {
          this.link = "closing";
          this.phase = "closing";
          e.clientCloses.push(1000);
          return;
        }
        if (this.link === "handshake") e.clientCloses.push("abort");
        // An accepted connection not yet confirmed is let go with a normal close.
        if (this.link === "confirming") e.clientCloses.push(1000);
        this.link = "none";
        this.#close(e);
        return;
      case "env.wake":
        // §8: an open socket checks liveness at once; a socket in backoff attempts at once.
        if (this.link === "open" && !this.pingOutstanding) this.#ping(e);
        else if (this.link === "backoff") this.#startAttempt(e);
        return;
      case "time.jump":
        // §5, timers that sleep: a quiet socket pings at once after the process slept.
        if (this.link === "open" && !this.pingOutstanding) this.#ping(e);
        return;
      case "time.pass":
        this.#timePassed(stimulus, e);
        return;
    }
  }

  #timePassed(stimulus: Stimulus & { type: "time.pass" }, e: Expected): void {
    switch (stimulus.timer) {
      case "connectTimeout":
        // §5: a timed-out attempt is reported: TicketError(0) for the ticket request,
        // ConnectTimeoutError for the handshake.
        e.errors.push(this.link === "handshake" ? "ConnectTimeoutError" : "TicketError(0)");
        if (this.link === "handshake") e.clientCloses.push("abort");
        this.link = "none";
        this.#fail(e);
        return;
      case "retryDelay":
        this.#startAttempt(e);
        return;
      case "openConfirmation":
        // §4: open 50 ms after the upgrade without a close.
        if (this.link === "confirming") this.#confirm(e);
        return;
      case "stableUptime":
        // §3: the attempt counter returns to 0 after a stable uptime.
        this.attempt = 0;
        return;
      case "heartbeatInterval":
        // §5: a ping only after an interval of inbound silence; data frames are delivered.
        if (stimulus.linkActive) e.messages.push(MODEL_DATA_FRAME);
        else this.#ping(e);
        return;
      case "heartbeatTimeout":
        // §5: only a ping can time out.
        if (!this.pingOutstanding) return;
        if (stimulus.late && !this.repinged) {
          // §5, timers that sleep: one fresh ping and a full timeout again, no drop; a
          // second late timeout in a row counts (a process that is always late is not asleep).
          e.frames.push(PING_FRAME);
          this.repinged = true;
          return;
        }
        // §5: dead: close with 4000 and reconnect.
        e.clientCloses.push(4000);
        this.link = "none";
        this.pingOutstanding = false;
        // §4: `reconnecting` from the drop on, or straight to `closed` with no attempt left,
        // as after a server close.
        this.#fail(e);
        return;
      case "closeTimeout":
        this.link = "none";
        this.#close(e);
        return;
    }
  }

  /** §4: confirmed: `open`, connect* resolves, queued messages are flushed once, in order. */
  #confirm(e: Expected): void {
    this.link = "open";
    this.phase = "open";
    if (this.ready === "pending") this.ready = "resolved";
    e.frames.push(...this.queue);
    this.queue = [];
  }

  #ping(e: Expected): void {
    e.frames.push(PING_FRAME);
    this.pingOutstanding = true;
    this.repinged = false;
  }

  #canRetry(): boolean {
    return this.maxReconnectAttempts === 0 || this.attempt < this.maxReconnectAttempts;
  }

  /** §5: a failed attempt or a drop: back off, or give up after maxReconnectAttempts. */
  #fail(e: Expected): void {
    if (!this.#canRetry()) return this.#giveUp(e);
    this.attempt += 1;
    this.phase = "reconnecting";
    this.link = "backoff";
  }

  /** §5: 4001: a fresh ticket and a new attempt at once, counted as an attempt. */
  #refresh(e: Expected): void {
    if (!this.#canRetry()) return this.#giveUp(e);
    this.attempt += 1;
    this.phase = "reconnecting";
    this.#startAttempt(e);
  }

  #startAttempt(e: Expected): void {
    // §4: onReconnecting(n) when attempt n starts, with a fresh ticket (§5).
    e.reconnecting.push(this.attempt);
    e.ticketRequests = 1;
    this.link = "ticket";
  }

  #giveUp(e: Expected): void {
    e.errors.push(`ReconnectFailedError(${this.attempt})`);
    this.#close(e, "ReconnectFailedError");
  }

  #serverClosed(e: Expected, code: number): void {
    if (code === TICKET_REJECTED) return this.#refresh(e);
    if (TERMINAL_CODES.has(code)) {
      e.errors.push(`ConnectionRejectedError(${code})`);
      return this.#close(e, "ConnectionRejectedError");
    }
    this.#fail(e);
  }

  /** `closed`, final: queued messages are reported, a pending connect* rejects. */
  #close(e: Expected, error = "SocketClosedError"): void {
    this.phase = "closed";
    this.managed = false;
    this.pingOutstanding = false;
    if (this.queue.length > 0) e.errors.push("SocketClosedError");
    this.queue = [];
    if (this.ready === "pending") this.ready = `rejected:${error}`;
  }
}
