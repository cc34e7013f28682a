/**
 * The connection machine on its own, without the facade, as `sockstate/machine` users run it:
 * `connectionMachine.provide(createConnectionImplementations(runtime))`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Actor, type AnyActorRef, createActor } from "xstate";
import { createConnectionImplementations } from "../../machines/connection.actors";
import { connectionMachine, OPEN_CONFIRMATION_DELAY } from "../../machines/connection.machine";
import type { ConnectionRuntime, ConnectionSettings, SocketPort } from "../../machines/connection.types";
import { noop } from "../../machines/connection.utils";
import { resolveSocketOptions, toConnectionSettings } from "../../src/options";
import { createModelNetwork, type ModelNetwork } from "../model/kit/model-network";

/** The in-memory ticket endpoint and WebSocket of the model tests: nothing happens until told. */
let network: ModelNetwork;

/** Actors of the current test, stopped after it whether it passed or not. */
const started: AnyActorRef[] = [];

function startMachine(runtime: ConnectionRuntime = {}, connectionSettings: ConnectionSettings = settings, port?: SocketPort) {
  const machine = connectionMachine.provide(
    createConnectionImplementations({ WebSocket: network.WebSocket, fetch: network.fetch, ...runtime }),
  );
  const actor = createActor(machine, {
    input: {
      key: "chat:1",
      path: "/chat/1",
      apiUrl: network.apiUrl,
      wsUrl: network.wsUrl,
      settings: connectionSettings,
      ...(port ? { port } : {}),
    },
  });
  const emitted: string[] = [];
  actor.on("*", (event) => emitted.push(event.type));
  actor.start();
  started.push(actor);
  return { actor, emitted };
}

const settings = toConnectionSettings(resolveSocketOptions());

/** Answers the ticket request and completes the handshake. */
async function openSocket(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0); // the ticket request goes out
  network.answerTicket(200);
  await vi.advanceTimersByTimeAsync(0); // the socket is created
  network.accept();
  await vi.advanceTimersByTimeAsync(0); // it opens
}

/** A socket whose `onopen` cannot be set: opening it makes the connection actor's transition throw. */
class BrokenSocket {
  static readonly failure = new Error("broken socket");
  readyState = 0;
  onmessage = null;
  onclose = null;
  onerror = null;
  set onopen(_: unknown) {
    throw BrokenSocket.failure;
  }
  send(): void {}
  close(): void {}
}

/** Starts a machine whose socket breaks it, lets it fail, and returns what was thrown as uncaught meanwhile. */
async function failMachine(observe?: (actor: AnyActorRef) => void): Promise<unknown> {
  const { actor } = startMachine({ WebSocket: BrokenSocket as never });
  observe?.(actor);
  await vi.advanceTimersByTimeAsync(0);
  network.answerTicket(200);
  let uncaught: unknown;
  try {
    await vi.advanceTimersByTimeAsync(10);
  } catch (error) {
    uncaught = error;
  }
  expect(actor.getSnapshot().status).toBe("error");
  return uncaught;
}

describe("the connection machine without the facade", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    network = createModelNetwork();
  });
  afterEach(() => {
    for (const actor of started.splice(0)) actor.stop();
    vi.useRealTimers();
  });

  it("announces `established` once the socket stayed OPEN for the confirmation window", async () => {
    const { actor, emitted } = startMachine();
    await openSocket();
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY - 1);
    expect(emitted).not.toContain("established");
    await vi.advanceTimersByTimeAsync(1);
    expect(emitted).toEqual(["established"]);
    expect(actor.getSnapshot().matches({ socket: "open" })).toBe(true);
  });

  it("is confirming, not open, until the window ends; a wake-up meanwhile sends no ping", async () => {
    const { actor, emitted } = startMachine();
    await openSocket();
    expect(actor.getSnapshot().matches({ socket: "confirming" })).toBe(true);
    actor.send({ type: "connection.wake" });
    expect(network.sockets[0]!.received).toEqual([]);
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY);
    expect(emitted).toEqual(["established"]);
    expect(actor.getSnapshot().matches({ socket: { open: "live" } })).toBe(true);
  });

  it("confirms at the first inbound frame, before the window ends, and only once", async () => {
    const { actor, emitted } = startMachine();
    await openSocket();
    network.send("hello");
    await vi.advanceTimersByTimeAsync(0);
    expect(emitted).toEqual(["established"]);
    expect(actor.getSnapshot().matches({ socket: "open" })).toBe(true);
    network.send("again");
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY);
    expect(emitted).toEqual(["established"]);
  });

  it("asks for no token and no ticket twice: ticket.authorizing then ticket.requesting", async () => {
    const { actor } = startMachine();
    expect(actor.getSnapshot().matches({ ticket: "authorizing" })).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(actor.getSnapshot().matches({ ticket: "requesting" })).toBe(true);
    expect(network.pendingTickets).toBe(1);
  });

  it("does not announce a socket whose close frame arrived inside the window, and rejects it on the close event", async () => {
    const { actor, emitted } = startMachine();
    await openSocket();
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY - 2);
    network.receiveCloseFrame(); // a refusal: accepted, then closed at once
    await vi.advanceTimersByTimeAsync(2); // the window ends while the socket is CLOSING
    expect(emitted).toEqual([]);
    network.close(4003);
    await vi.advanceTimersByTimeAsync(0); // the close event
    expect(emitted).toEqual(["error"]);
    expect(actor.getSnapshot().status).toBe("done");
    expect(actor.getSnapshot().context.error).toMatchObject({ name: "ConnectionRejectedError", code: 4003 });
  });

  it("aborts the ticket request the attempt gave up on, and never acts on its late answer", async () => {
    // A fetch that ignores its signal: the first answer arrives after its attempt timed out.
    const answers: Array<(response: Response) => void> = [];
    const signals: AbortSignal[] = [];
    const fetch = ((_url: string, init: RequestInit) => {
      signals.push(init.signal!);
      return new Promise<Response>((resolve) => answers.push(resolve));
    }) as typeof globalThis.fetch;
    const { actor } = startMachine({ fetch });
    await vi.advanceTimersByTimeAsync(settings.connectTimeout);
    expect(signals[0]!.aborted).toBe(true);
    expect(actor.getSnapshot().matches("backoff")).toBe(true);
    actor.send({ type: "connection.wake" }); // the next attempt, at once
    await vi.advanceTimersByTimeAsync(0);
    expect(actor.getSnapshot().matches({ ticket: "requesting" })).toBe(true);
    answers[0]!(new Response('{"ticket":"stale"}', { status: 200 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(actor.getSnapshot().matches({ ticket: "requesting" })).toBe(true);
    expect(network.sockets).toEqual([]);
    answers[1]!(new Response('{"ticket":"fresh"}', { status: 200 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(network.sockets.map((socket) => socket.ticket)).toEqual(["fresh"]);
  });

  it("ignores a late result of a params function whose attempt ended", async () => {
    const results: Array<(params: Record<string, string>) => void> = [];
    const { actor } = startMachine({}, { ...settings, params: () => new Promise((resolve) => results.push(resolve)) });
    await vi.advanceTimersByTimeAsync(settings.connectTimeout);
    actor.send({ type: "connection.wake" });
    await vi.advanceTimersByTimeAsync(0);
    expect(results).toHaveLength(2);
    results[0]!({ round: "stale" });
    await vi.advanceTimersByTimeAsync(0);
    expect(actor.getSnapshot().value).toBe("params");
    results[1]!({ round: "fresh" });
    await vi.advanceTimersByTimeAsync(0);
    expect(actor.getSnapshot().matches("ticket")).toBe(true);
    expect(actor.getSnapshot().context.attemptParams).toEqual({ round: "fresh" });
  });

  it("aborts a pending ticket request when the actor is stopped", async () => {
    const { actor } = startMachine();
    await vi.advanceTimersByTimeAsync(0);
    expect(network.pendingTickets).toBe(1);
    actor.stop();
    expect(network.pendingTickets).toBe(0);
  });

  it("closes its socket when the actor is stopped, though stopping runs no exit actions", async () => {
    const { actor } = startMachine();
    await openSocket();
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY);
    expect(actor.getSnapshot().matches({ socket: "open" })).toBe(true);
    actor.stop();
    expect(network.sockets[0]!.clientClose).toMatchObject({ code: 1000 });
    expect(network.liveSockets()).toEqual([]);
  });

  it("tells its port what it emits as the emitting action runs, before `actor.on` listeners hear it", async () => {
    const heard: string[] = [];
    const port: SocketPort = { opened: noop, message: noop, detached: noop, emitted: (event) => heard.push(`port ${event.type}`) };
    const { actor } = startMachine({}, settings, port);
    actor.on("*", (event) => heard.push(`on ${event.type}`));
    await openSocket();
    await vi.advanceTimersByTimeAsync(OPEN_CONFIRMATION_DELAY);
    expect(heard).toEqual(["port established", "on established"]);
    network.close(4003);
    await vi.advanceTimersByTimeAsync(0);
    expect(heard.slice(2)).toEqual(["port error", "on error"]);
  });

  it("watching its actor for a stop leaves how a failure is reported as it was", async () => {
    // Handled by the application: reported once, to its observer, and never as uncaught.
    const heard: unknown[] = [];
    expect(await failMachine((actor) => actor.subscribe({ error: (error) => heard.push(error) }))).toBeUndefined();
    expect(heard).toEqual([BrokenSocket.failure]);
    // Handled by nobody: still reported as unhandled, as xstate does for an actor nobody watches.
    expect(await failMachine()).toBe(BrokenSocket.failure);
  });

  it("watches its actor for a stop only when the port's owner does not own the actor", async () => {
    // The link follows its actor from the first step on, which runs as the actor starts.
    const watched = async (port?: SocketPort) => {
      const subscribe = vi.spyOn(Actor.prototype, "subscribe");
      try {
        const { actor } = startMachine({}, settings, port);
        await openSocket();
        return subscribe.mock.contexts.filter((self) => self === actor).length;
      } finally {
        subscribe.mockRestore();
      }
    };
    expect(await watched()).toBe(1);
    expect(await watched({ opened: noop, message: noop, detached: noop, ownsActor: true })).toBe(0);
  });
});
