/**
 * The connection machine on its own, without the facade, as `sockstate/machine` users run it:
 * `connectionMachine.provide({ actors: createConnectionActors(runtime) })`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type AnyActorRef, createActor } from "xstate";
import { createConnectionActors } from "../../machines/connection.actors";
import { connectionMachine, OPEN_CONFIRMATION_DELAY } from "../../machines/connection.machine";
import { READY_STATE } from "../../machines/connection.utils";
import { resolveSocketOptions, toConnectionSettings } from "../../src/options";

/** A socket the test opens and closes by hand; `closeFrame()` is the server's close frame arriving. */
class HandSocket {
  static last: HandSocket | undefined;
  readyState: number = READY_STATE.CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    HandSocket.last = this;
  }
  accept(): void {
    this.readyState = READY_STATE.OPEN;
    this.onopen?.({ type: "open" });
  }
  /** The close frame is in: CLOSING until the close event. */
  closeFrame(): void {
    this.readyState = READY_STATE.CLOSING;
  }
  closeEvent(code: number): void {
    this.readyState = READY_STATE.CLOSED;
    this.onclose?.({ code, reason: "", wasClean: true });
  }
  send(): void {}
  close(): void {
    this.readyState = READY_STATE.CLOSED;
  }
}

const ticketFetch = (async () => new Response(JSON.stringify({ ticket: "t-1" }), { status: 200 })) as typeof fetch;

/** Actors of the current test, stopped after it whether it passed or not. */
const started: AnyActorRef[] = [];

function startMachine() {
  const machine = connectionMachine.provide({ actors: createConnectionActors({ WebSocket: HandSocket, fetch: ticketFetch }) });
  const actor = createActor(machine, {
    input: {
      key: "chat:1",
      path: "/chat/1",
      apiUrl: "http://api.test",
      wsUrl: "ws://api.test",
      settings: toConnectionSettings(resolveSocketOptions()),
    },
  });
  const emitted: string[] = [];
  actor.on("*", (event) => emitted.push(event.type));
  actor.start();
  started.push(actor);
  return { actor, emitted };
}

async function openedSocket(): Promise<HandSocket> {
  await vi.advanceTimersByTimeAsync(0); // the ticket request settles
  const socket = HandSocket.last!;
  socket.accept();
  return socket;
}

describe("the connection machine without the facade", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    HandSocket.last = undefined;
  });
  afterEach(() => {
    for (const actor of started.splice(0)) actor.stop();
    vi.useRealTimers();
  });

  it("announces `established` once the socket stayed OPEN for the confirmation window", async () => {
    const { actor, emitted } = startMachine();
    await openedSocket();
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY - 1);
    expect(emitted).not.toContain("established");
    await vi.advanceTimersByTimeAsync(1);
    expect(emitted).toEqual(["established"]);
    expect(actor.getSnapshot().matches({ socket: "open" })).toBe(true);
  });

  it("asks the socket when the window ends in the middle of a heartbeat ping", async () => {
    const { actor, emitted } = startMachine();
    await openedSocket();
    actor.send({ type: "connection.wake" }); // the page came back: a ping goes out at once
    expect(actor.getSnapshot().matches({ socket: { open: "awaitingPong" } })).toBe(true);
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY);
    expect(emitted).toEqual(["established"]);
  });

  it("does not announce a socket whose close frame arrived inside the window, and rejects it on the close event", async () => {
    const { actor, emitted } = startMachine();
    const socket = await openedSocket();
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY - 2);
    socket.closeFrame(); // a refusal: accepted, then closed at once
    await vi.advanceTimersByTimeAsync(2); // the window ends while the socket is CLOSING
    expect(emitted).toEqual([]);
    socket.closeEvent(4003);
    expect(emitted).toEqual(["error"]);
    expect(actor.getSnapshot().status).toBe("done");
    expect(actor.getSnapshot().context.error).toMatchObject({ name: "ConnectionRejectedError", code: 4003 });
  });
});
