/**
 * Property-based runs on the mock-socket bench: random sequences of stimuli (server
 * drops, refusals, stalls, ticket answers, sends, closes, page wake-ups, time passing)
 * against the real facade, with invariants checked after every step. Unlike the model
 * paths, nothing here comes from the machine: the stimuli are the world's, the
 * invariants are the contract's (docs/protocol.md §2–§5, §8).
 */
import fc from "fast-check";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { ManagedWebSocket, WebSocketState } from "../../src/index";
import { installModelPage, type ModelPage } from "./kit/model";
import { type Bench, createBench } from "../support/mock-harness";
import { propertyParameters, SEED, seededRandom } from "./seed";
import { PING_FRAME } from "../../machines/protocol";

const PATH = "/ws/chat/property";
const OPTIONS = {
  heartbeatInterval: 2000,
  heartbeatTimeout: 700,
  connectTimeout: 800,
  reconnectDelay: 200,
  maxReconnectDelay: 1500,
  maxQueuedMessages: 4,
};
/** Longest an open socket may stay open after its server went silent: a ping after
 * heartbeatInterval of silence, the drop heartbeatTimeout later (+ mock-socket's delays). */
const SILENCE_BOUND = OPTIONS.heartbeatInterval + OPTIONS.heartbeatTimeout + 50;
const STATES: readonly WebSocketState[] = ["connecting", "open", "closing", "closed", "reconnecting"];
const ERRORS = ["TicketError", "ConnectionRejectedError", "ConnectTimeoutError", "ReconnectFailedError", "QueueFullError", "SocketClosedError"];

type Action =
  | { type: "advance"; ms: number }
  | { type: "send" }
  | { type: "ticket"; answer: 200 | 401 | 500 | "network" | "malformed" | "hang" }
  | { type: "drop"; code: number }
  | { type: "refuse"; code: number }
  | { type: "hold" }
  | { type: "stall"; on: boolean }
  | { type: "serverSend" }
  | { type: "wake"; via: "visibilitychange" | "online" }
  | { type: "close"; via: "close" | "destroy" | "closeAll" };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ type: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 4000 }) }) },
  { weight: 3, arbitrary: fc.constant({ type: "send" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("ticket" as const),
      answer: fc.constantFrom<Array<200 | 401 | 500 | "network" | "malformed" | "hang">>(200, 401, 500, "network", "malformed", "hang"),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("drop" as const), code: fc.constantFrom(1006, 1011, 4001, 4001, 4003, 1008) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("refuse" as const), code: fc.constantFrom(4001, 4004, 1011) }) },
  { weight: 1, arbitrary: fc.constant({ type: "hold" as const }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("stall" as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ type: "serverSend" as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("wake" as const), via: fc.constantFrom("visibilitychange", "online") }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("close" as const), via: fc.constantFrom("close", "destroy", "closeAll") }) },
);

let bench: Bench | undefined;
let page: ModelPage | undefined;

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  bench?.manager.closeAll();
  bench?.stop();
  page?.uninstall();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Watches one socket and the server, and checks the contract after every step. */
class Invariants {
  readonly states: WebSocketState[] = [];
  readonly errors: unknown[] = [];
  /** Outcome of each `send()`, by message. */
  readonly sends = new Map<string, { outcome: string; queued: boolean }>();
  /** Per server connection (by index): was the server stalled at some point of its life? */
  readonly stalledDuring = new Set<number>();
  /** `onReconnecting` values; `0` marks a state change to open (a new outage starts after it). */
  readonly attempts: number[] = [];
  destroyed = false;
  /** Ticket requests and upgrades when the socket was told to close / reached closed. */
  endedWith: { tickets: number; connections: number } | undefined;
  stalled = false;
  silentSince = 0;
  connectionsAtLastCheck = 0;
  liveAtLastCheck = new Set<number>();

  constructor(
    readonly socket: ManagedWebSocket,
    readonly bench: Bench,
    readonly maxReconnectAttempts: number,
  ) {
    socket.onStateChange.subscribe((state) => {
      // (Listeners only record: an exception thrown in one is reported, not propagated.)
      this.states.push(state);
      if (state === "open") {
        this.attempts.push(0);
        this.silentSince = Date.now();
      }
    });
    socket.onError.subscribe((error) => this.errors.push(error));
    socket.onReconnecting.subscribe((attempt) => this.attempts.push(attempt));
  }

  /**
   * Ticket requests of attempts still under way. A request whose attempt was cancelled (its
   * signal aborted) is not one: a real `fetch` with an aborted signal sends nothing.
   */
  attemptedTickets(): number {
    return this.bench.fetch.mock.calls.filter(([, init]) => !init?.signal?.aborted).length;
  }

  ended(): void {
    this.endedWith ??= { tickets: this.attemptedTickets(), connections: this.bench.connections.length };
  }

  send(id: string): void {
    const before = this.socket.state;
    const queuedBefore = this.socket.queuedMessages;
    let outcome = "sent";
    try {
      this.socket.send(id);
    } catch (error) {
      outcome = (error as Error).name;
    }
    const queued = outcome === "sent" && this.socket.queuedMessages > queuedBefore;
    this.sends.set(id, { outcome, queued });
    // §4: open sends now (unless queued messages still wait for the confirmation,
    // or the server's close frame is already in); connecting/reconnecting queues up to the
    // bound; closing/closed refuses.
    if (before === "closing" || before === "closed") expect(outcome).toBe("SocketClosedError");
    else if (before === "open" && queuedBefore === 0) expect(outcome).toBe("sent");
    else expect(outcome).toBe(queuedBefore >= OPTIONS.maxQueuedMessages ? "QueueFullError" : "sent");
  }

  /** Data frames the server received, by message, in order (pings left out). */
  delivered(): string[] {
    return this.bench.connections.flatMap((connection) => connection.frames).filter((frame) => frame !== PING_FRAME);
  }

  check(step: string): void {
    const { socket, bench } = this;
    const state = socket.state;
    expect(STATES, step).toContain(state);
    // onStateChange: never the same value twice in a row, starting from "connecting"; closed is final.
    const changes = ["connecting", ...this.states];
    for (let i = 1; i < changes.length; i++) expect(changes[i], `${step}: state changes ${changes}`).not.toBe(changes[i - 1]);
    expect(this.states.slice(0, -1), `${step}: nothing after closed`).not.toContain("closed");
    if (!this.destroyed) expect(state, step).toBe(changes.at(-1));
    if (this.states.includes("closed")) {
      expect(state, `${step}: closed is final`).toBe("closed");
      expect(bench.manager.connectionCount).toBe(0);
      this.ended();
    }
    // Attempt numbers strictly increase within an outage, from 1, up to the limit.
    this.attempts.forEach((attempt, i) => {
      if (attempt === 0) return;
      expect(attempt, `${step}: attempts ${this.attempts}`).toBeGreaterThan(this.attempts[i - 1] ?? 0);
      if (this.maxReconnectAttempts > 0) expect(attempt, step).toBeLessThanOrEqual(this.maxReconnectAttempts);
    });
    if (state === "reconnecting") expect(socket.reconnectAttempt, step).toBeGreaterThanOrEqual(1);
    else expect(socket.reconnectAttempt, step).toBe(0);
    // At most one live connection per managed socket.
    expect(bench.live().length, `${step}: live connections`).toBeLessThanOrEqual(1);
    // No reconnect after close() (or after the socket gave up).
    if (this.endedWith) {
      expect(this.attemptedTickets(), `${step}: ticket requests after close`).toBe(this.endedWith.tickets);
      expect(bench.connections.length, `${step}: connections after close`).toBe(this.endedWith.connections);
    }
    // No message sent twice; queued ones leave in the order they were queued.
    const delivered = this.delivered();
    expect(new Set(delivered).size, `${step}: duplicate frames ${delivered}`).toBe(delivered.length);
    const queued = [...this.sends].filter(([, s]) => s.queued).map(([id]) => id);
    const deliveredQueued = delivered.filter((id) => queued.includes(id));
    expect(deliveredQueued, `${step}: queue order`).toEqual(queued.filter((id) => deliveredQueued.includes(id)));
    // Errors are the contract's classes, or socket error events.
    for (const error of this.errors) {
      expect(error instanceof Error ? ERRORS : ["error"]).toContain(error instanceof Error ? error.name : (error as Event).type);
    }
    // A silent server is noticed: no socket stays open long past heartbeatInterval + heartbeatTimeout.
    if (this.stalled && state === "open") {
      expect(Date.now() - this.silentSince, `${step}: open on a silent server`).toBeLessThanOrEqual(SILENCE_BOUND);
    }
    // A responsive server is never dropped for a heartbeat timeout. The stall is constant
    // between two checks, so it touched every connection alive at some point since the last one.
    bench.connections.forEach((connection, index) => {
      const aliveSinceLastCheck = index >= this.connectionsAtLastCheck || this.liveAtLastCheck.has(index);
      if (this.stalled && aliveSinceLastCheck) this.stalledDuring.add(index);
      if (connection.clientCloseCode === 4000) expect(this.stalledDuring.has(index), `${step}: 4000 on a live link`).toBe(true);
    });
    this.connectionsAtLastCheck = bench.connections.length;
    this.liveAtLastCheck = new Set(bench.connections.flatMap((connection, index) => (connection.closed ? [] : [index])));
  }

  /** After the socket closed for good: every queued message was sent exactly once, or reported. */
  checkQueueAccounted(): void {
    const delivered = new Set(this.delivered());
    const lost = [...this.sends].filter(([id, s]) => s.queued && !delivered.has(id)).length;
    if (lost > 0) {
      const reports = this.errors.filter((e) => e instanceof Error && e.name === "SocketClosedError").map((e) => (e as Error).message);
      expect(reports.join(" "), "queued messages reported at close").toContain(`${lost} queued message`);
    }
  }
}

async function perform(action: Action, invariants: Invariants, counter: { n: number }): Promise<void> {
  const current = bench!;
  switch (action.type) {
    case "advance":
      return void (await current.advance(action.ms));
    case "send":
      counter.n += 1;
      return invariants.send(`p${counter.n}`);
    case "ticket":
      current.answerTickets(action.answer);
      return;
    case "drop":
      return current.dropAll(action.code);
    case "refuse":
      current.refuseNext(action.code);
      return;
    case "hold":
      return current.holdNextHandshake();
    case "stall":
      if (action.on && !invariants.stalled) invariants.silentSince = Math.max(invariants.silentSince, Date.now());
      invariants.stalled = action.on;
      current.stall(action.on);
      return;
    case "serverSend":
      // A stalled server sends nothing.
      if (!invariants.stalled) for (const connection of current.live()) connection.socket.send('{"type":"server.data"}');
      return;
    case "wake":
      return page!.wake(action.via);
    case "close":
      if (action.via === "destroy") invariants.destroyed = true;
      if (action.via === "closeAll") current.manager.closeAll();
      else invariants.socket[action.via]();
      return;
  }
}

it("random stimuli never break the contract's invariants", async () => {
  let runs = 0;
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 2, 4), fc.array(actionArb, { minLength: 5, maxLength: 30 }), fc.integer(), async (max, actions, jitter) => {
      bench?.manager.closeAll();
      bench?.stop();
      page?.uninstall();
      vi.clearAllTimers();
      vi.spyOn(Math, "random").mockImplementation(seededRandom(jitter));
      page = installModelPage();
      bench = createBench({ ...OPTIONS, maxReconnectAttempts: max });
      bench.serve(PATH);
      const socket = bench.manager.open(PATH);
      const invariants = new Invariants(socket, bench, max);
      const counter = { n: 0 };
      runs += 1;
      for (const [index, action] of actions.entries()) {
        await perform(action, invariants, counter);
        await bench.advance(0);
        if (action.type === "close") invariants.ended();
        steps += 1;
        invariants.check(`after action ${index + 1} ${JSON.stringify(action)}`);
      }
      // End: the socket closes and leaves nothing behind.
      socket.close();
      await bench.advance(0);
      invariants.ended();
      await bench.advance(OPTIONS.connectTimeout + 100);
      invariants.check("after the final close()");
      expect(socket.state).toBe("closed");
      invariants.checkQueueAccounted();
      expect(bench.live(), "server connections after close").toEqual([]);
      expect(page.listeners(), "page listeners after close").toBe(0);
      expect(vi.getTimerCount(), "timers after close").toBe(0);
    }),
    propertyParameters(80),
  );
  console.log(`model properties: ${runs} runs, ${steps} steps, seed ${SEED}`);
  expect(runs).toBeGreaterThan(0);
});
