/**
 * The demo's narration: timestamped lines, steps with verdicts, and traces of what
 * each socket and the reference server did. Nothing here decides anything about
 * sockstate; it only prints and keeps score.
 */
import { TICKET_PATH } from "../../machines/protocol";
import type { ManagedWebSocket, WebSocketState } from "../../src/index";
import type { ReferenceServer } from "../../src/testing/index";

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

const startedAt = performance.now();

/**
 * How late timers run in this process: a 10 ms ticker notes how much later than asked
 * each tick came. On a busy machine every timer fires late by about this much, so upper
 * bounds on timings allow for it.
 */
const TICK_MS = 10;
let worstLateness = 0;
let lastTick = performance.now();
setInterval(() => {
  const tick = performance.now();
  worstLateness = Math.max(worstLateness, tick - lastTick - TICK_MS);
  lastTick = tick;
}, TICK_MS).unref();

/** The worst timer lateness since the current step began, in ms. */
export function timerLateness(): number {
  return worstLateness;
}

/** Milliseconds since the demo started. */
export function now(): number {
  return performance.now() - startedAt;
}

/** `87 ms` or `1.21 s`. */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** One timestamped line: `+1.234s  chat        state open → reconnecting`. */
export function log(who: string, text: string): void {
  const stamp = `+${(now() / 1000).toFixed(3)}s`.padStart(8);
  console.log(`${dim(stamp)}  ${who.padEnd(11)} ${text}`);
}

/** A check that did not hold: ends the step as failed. */
export class CheckFailed extends Error {
  override readonly name = "CheckFailed";
}

/** Prints `✓ text` when `ok`, else `✗ text` and ends the step. */
export function check(ok: boolean, text: string, failure = text): asserts ok {
  if (ok) {
    console.log(`           ${green("✓")} ${text}`);
  } else {
    console.log(`           ${red("✗")} ${failure}`);
    throw new CheckFailed(failure);
  }
}

/** Prints `✓ text` for something the step already made sure of (a wait that succeeded). */
export function passed(text: string): void {
  check(true, text);
}

/** Resolves once `condition()` is truthy; fails the step with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, condition: () => T, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) {
      console.log(`           ${red("✗")} ${what}: not within ${duration(timeoutMs)}`);
      throw new CheckFailed(`${what}: not within ${duration(timeoutMs)}`);
    }
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type StepStatus = "passed" | "failed" | "skipped" | "not run";

export interface StepResult {
  title: string;
  status: StepStatus;
  note?: string;
}

/** Runs the steps in order; after a failure the rest are not run (they build on it). */
export class Scenario {
  readonly results: StepResult[] = [];
  #failed = false;

  async step(title: string, run: () => Promise<void>): Promise<void> {
    const number = this.results.length + 1;
    if (this.#failed) {
      this.results.push({ title, status: "not run" });
      return;
    }
    console.log(`\n${bold(`── ${number}. ${title}`)}`);
    worstLateness = 0;
    try {
      await run();
      this.results.push({ title, status: "passed" });
    } catch (error) {
      this.#failed = true;
      if (!(error instanceof CheckFailed)) {
        console.log(`           ${red("✗")} unexpected ${describeError(error)}`);
      }
      this.results.push({ title, status: "failed", note: error instanceof Error ? error.message : String(error) });
    }
  }

  skip(title: string, reason: string): void {
    const number = this.results.length + 1;
    if (this.#failed) {
      this.results.push({ title, status: "not run" });
      return;
    }
    console.log(`\n${bold(`── ${number}. ${title}`)}`);
    console.log(`           ${yellow("–")} skipped: ${reason}`);
    this.results.push({ title, status: "skipped", note: reason });
  }

  /** Prints the summary; `true` when no step failed or was left unrun. */
  summarize(): boolean {
    const ok = this.results.every((result) => result.status === "passed" || result.status === "skipped");
    console.log(`\n${bold("── summary")}`);
    for (const [index, result] of this.results.entries()) {
      const mark =
        result.status === "passed" ? green("✓") : result.status === "skipped" ? yellow("–") : red("✗");
      const note = result.status === "passed" ? "" : dim(` (${result.status}${result.note ? `: ${result.note}` : ""})`);
      console.log(`   ${mark} ${index + 1}. ${result.title}${note}`);
    }
    const passed = this.results.filter((result) => result.status === "passed").length;
    const skipped = this.results.filter((result) => result.status === "skipped").length;
    const verdict = ok
      ? green(`every step behaved as docs/protocol.md says`)
      : red(`a step did not behave as docs/protocol.md says`);
    console.log(
      `\n${verdict}: ${passed} passed${skipped ? `, ${skipped} skipped` : ""}` +
        `${ok ? "" : `, ${this.results.length - passed - skipped} failed or not run`} in ${duration(now())}`,
    );
    return ok;
  }
}

/** `TicketError 503: …`, `ConnectionRejectedError 4004: …` — never a ticket. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return error && typeof error === "object" && "type" in error ? `${String(error.type)} event` : String(error);
  const code = "status" in error ? ` ${String(error.status)}` : "code" in error ? ` ${String(error.code)}` : "";
  return `${error.name}${code}: ${error.message}`;
}

/** What a socket did since {@link traceSocket}, each entry with its time. */
export interface SocketTrace {
  states: Array<{ state: WebSocketState; at: number }>;
  attempts: Array<{ attempt: number; at: number }>;
  errors: Array<{ error: unknown; at: number }>;
  messages: Array<{ data: string; at: number }>;
}

/** Prints every state change, reconnect attempt and error of `socket`, and records them. */
export function traceSocket(label: string, socket: ManagedWebSocket): SocketTrace {
  const trace: SocketTrace = { states: [], attempts: [], errors: [], messages: [] };
  let previous: WebSocketState = socket.state;
  socket.onStateChange.subscribe((state) => {
    trace.states.push({ state, at: now() });
    log(label, `state ${previous} → ${state}`);
    previous = state;
  });
  socket.onReconnecting.subscribe((attempt) => {
    trace.attempts.push({ attempt, at: now() });
    log(label, `reconnect attempt ${attempt}`);
  });
  socket.onError.subscribe((error) => {
    trace.errors.push({ error, at: now() });
    // `ws` error events that accompany a failed handshake add nothing to the close that follows.
    if (error instanceof Error) log(label, yellow(`error ${describeError(error)}`));
  });
  socket.onMessage.subscribe((event) => {
    const data = typeof event.data === "string" ? event.data : `<${String(event.data?.constructor?.name)}>`;
    trace.messages.push({ data, at: now() });
    log(label, `received ${data.length > 60 ? `${data.slice(0, 57)}…` : data}`);
  });
  return trace;
}

/**
 * Prints what the reference server sees — ticket requests, upgrades, closes — as it
 * happens. `waitFor` evaluates its predicate after every server event, so a predicate
 * that never holds is a tap on the event stream; `close()` ends it.
 */
export function tapServer(server: ReferenceServer, names: (path: string) => string): { ticketNumber: (ticket: string | undefined) => string } {
  const numbers = new Map<string, number>();
  const ticketNumber = (ticket: string | undefined): string => {
    if (ticket === undefined) return "none";
    let number = numbers.get(ticket);
    if (number === undefined) {
      number = numbers.size + 1;
      numbers.set(ticket, number);
    }
    return `#${number}`;
  };
  let requestsSeen = 0;
  let connectionsSeen = 0;
  const closesSeen = new Set<number>();
  const flush = (): false => {
    for (const request of server.ticketRequests.slice(requestsSeen)) {
      const answer = request.status === 200 && request.ticket ? `200, ticket ${ticketNumber(request.ticket)}` : `${request.status}`;
      const auth = request.authorization ? " with Authorization: Bearer …" : "";
      log("server", dim(`POST ${TICKET_PATH} for ${names(request.path ?? "")}${auth} → ${answer}`));
    }
    requestsSeen = server.ticketRequests.length;
    for (const connection of server.connections.slice(connectionsSeen)) {
      const outcome = connection.refusedWith === undefined ? "accepted" : `refused with ${connection.refusedWith}`;
      log("server", dim(`upgrade ${names(connection.path)} with ticket ${ticketNumber(connection.ticket)}: ${outcome}`));
    }
    connectionsSeen = server.connections.length;
    for (const connection of server.connections) {
      if (connection.closeCode === undefined || closesSeen.has(connection.id)) continue;
      closesSeen.add(connection.id);
      const reason = connection.closeReason ? ` "${connection.closeReason}"` : connection.closeCode === 1006 ? " (no close frame)" : "";
      log("server", dim(`connection ${connection.id} (${names(connection.path)}) closed: ${connection.closeCode}${reason}`));
    }
    return false;
  };
  server.waitFor(flush, 2 ** 31 - 1).catch(() => {
    // Rejected when the server closes: the tap ends with it.
  });
  return { ticketNumber };
}

/** One snapshot of a socket's machine, as the `debug` option reports it. */
export interface MachineStep {
  state: string;
  event: string;
  at: number;
}

/**
 * A `debug` logger that records the machine's path (`ticket`, `socket.open.live`,
 * `backoff`, …) instead of printing it, so a step can check which way it went.
 */
export function machinePath(): { steps: MachineStep[]; debug: (message: string, details: Record<string, unknown>) => void } {
  const steps: MachineStep[] = [];
  return {
    steps,
    debug: (_message, details) => steps.push({ state: String(details.state), event: String(details.event), at: now() }),
  };
}
