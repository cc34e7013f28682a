/**
 * `ManagedWebSocket`: the thin facade over one connection actor. Reads come from the
 * snapshot, methods send events, emitters forward what the machine emits. Data frames
 * and sends use the socket's port directly, never the interpreter.
 */
import { type Actor, type AnyActorRef, createActor, type InspectionEvent } from "xstate";
import { createConnectionImplementations } from "../machines/connection.actors";
import { connectionMachine } from "../machines/connection.machine";
import { messageOf, noop, READY_STATE } from "../machines/connection.utils";
import { type ConnectionSnapshot, toPublicAttempt, toPublicState } from "../machines/connection.public";
import type {
  ConnectionContext,
  ConnectionEmitted,
  ConnectionRuntime,
  SendData,
  SocketPort,
  SocketTransport,
  WebSocketState,
} from "../machines/connection.types";
import { joinEnvironmentWatch } from "./browser";
import { joinSharedSystem, leaveSharedSystem, type SharedSystem } from "./shared-systems";
import { createDebugErrorLogger, createDebugInspector } from "./debug";
import { type Emitter, EventEmitter, reportListenerError } from "./emitter";
import { QueueFullError, SocketClosedError } from "../machines/connection.errors";
import type { ConnectionSettings, InspectOption, ResolvedSocketOptions } from "./options";
import { DataChannel, type DataOptions, toJsonFrame } from "./data-channel";

export type { WebSocketState };

const { OPEN } = READY_STATE;

/** Everything a socket is made from; the manager builds this. */
export interface ManagedWebSocketInit {
  key: string;
  path: string;
  apiUrl: string;
  wsUrl: string;
  /** The public URL, without the ticket. */
  url: string;
  options: ResolvedSocketOptions;
  /** `options` as the machine takes them (see `toConnectionSettings`). */
  settings: ConnectionSettings;
  runtime: Omit<ConnectionRuntime, "port">;
  /** Called once when the socket reaches `closed`. */
  onClosed?: (socket: ManagedWebSocket) => void;
}

/**
 * The manager's way to replace a socket (docs/protocol.md §2): `close()`, and once its
 * listeners have seen `closed`, `destroy()`. A symbol, so it is no public method.
 */
export const retireSocket = Symbol("sockstate.retire");

/** Shared memory: browsers refuse to send it, and Node's own `WebSocket` sends it as text. */
const isShared = (data: unknown): boolean =>
  typeof SharedArrayBuffer !== "undefined" &&
  (data instanceof SharedArrayBuffer || (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer));

const isSendable = (data: unknown): data is SendData =>
  typeof data === "string" ||
  data instanceof ArrayBuffer ||
  (ArrayBuffer.isView(data) && !isShared(data)) ||
  (typeof Blob !== "undefined" && data instanceof Blob);

function callInspect(inspect: InspectOption, event: InspectionEvent): void {
  if (typeof inspect === "function") inspect(event);
  else inspect.next?.(event);
}

/**
 * Runs a debug logger or an inspector. One that throws is reported like a listener that
 * throws and never stops the connection (xstate would rethrow it from a transition).
 */
function observeSafely(observe: () => void): void {
  try {
    observe();
  } catch (error) {
    reportListenerError(error);
  }
}

function validateClose(code: unknown, reason: unknown): void {
  if (typeof code !== "number" || !Number.isInteger(code) || (code !== 1000 && (code < 3000 || code > 4999))) {
    throw new TypeError(`sockstate: close code must be 1000 or an integer in 3000–4999, got ${String(code)}`);
  }
  if (typeof reason !== "string") throw new TypeError("sockstate: close reason must be a string");
  if (new TextEncoder().encode(reason).byteLength > 123) {
    throw new TypeError("sockstate: close reason must be at most 123 bytes of UTF-8");
  }
}

/**
 * One provided machine per runtime (i.e. per client): `provide()` rebuilds the whole
 * state tree, so doing it per socket multiplied the memory of an idle
 * connection. Each socket passes its own port through the machine's input instead.
 */
const machines = new WeakMap<ManagedWebSocketInit["runtime"], typeof connectionMachine>();

function machineFor(runtime: ManagedWebSocketInit["runtime"]): typeof connectionMachine {
  let machine = machines.get(runtime);
  if (!machine) {
    machine = connectionMachine.provide(createConnectionImplementations(runtime));
    machines.set(runtime, machine);
  }
  return machine;
}

/**
 * The socket's line into the facade: data frames go straight to `onMessage`, and
 * the open socket is kept for `send()`. A class, not closures: one small object per socket.
 * It travels in the machine's context, so everything is private: an inspector that
 * serializes the context sees `{}`, never the socket (whose URL holds the ticket).
 */
class FacadePort implements SocketPort {
  readonly #owner: ManagedWebSocket;
  readonly #messages = new EventEmitter<MessageEvent>();
  #transport: SocketTransport | undefined = undefined;
  /** The `onData` pipeline, once something needs it. */
  #data: DataChannel | undefined = undefined;
  /** What the machine emitted in the transition being taken, until the facade hears it. */
  #emitted: ConnectionEmitted[] | undefined = undefined;

  constructor(owner: ManagedWebSocket) {
    this.#owner = owner;
  }

  /** The socket this port belongs to. */
  get owner(): ManagedWebSocket {
    return this.#owner;
  }

  get messages(): EventEmitter<MessageEvent> {
    return this.#messages;
  }

  /** The socket never stops its actor (no method does): the link need not watch for a stop. */
  get ownsActor(): boolean {
    return true;
  }

  /** The open socket, until it is detached. */
  get transport(): SocketTransport | undefined {
    return this.#transport;
  }

  opened(transport: SocketTransport): void {
    this.#transport = transport;
  }

  message(event: MessageEvent): void {
    this.#messages.emit(event);
  }

  detached(): void {
    this.#transport = undefined;
  }

  /** The `eventId` of the last value `onData` delivered: where the next attempt resumes. */
  get lastEventId(): string | undefined {
    return this.#data?.lastEventId;
  }

  /** `lastEventId` once frames still being validated have been delivered or refused. */
  async settledEventId(): Promise<string | undefined> {
    await this.#data?.settled();
    return this.#data?.lastEventId;
  }

  /** The `onData` pipeline, created on first use. */
  data(reportError: (error: Error) => void, options: DataOptions): DataChannel {
    return (this.#data ??= new DataChannel(this.#messages, reportError, options));
  }

  /** Removes every `onData` listener (the socket is being destroyed). */
  clearData(): void {
    this.#data?.clear();
  }

  emitted(event: ConnectionEmitted): void {
    (this.#emitted ??= []).push(event);
  }

  /** What the machine emitted since the last call, in order. */
  takeEmitted(): ConnectionEmitted[] | undefined {
    const emitted = this.#emitted;
    this.#emitted = undefined;
    return emitted;
  }
}

/** The socket whose connection actor has `snapshot`; none for any other actor of its system. */
function ownerOf(snapshot: unknown): ManagedWebSocket | undefined {
  const port = (snapshot as Partial<ConnectionSnapshot> | undefined)?.context?.port;
  return port instanceof FacadePort ? port.owner : undefined;
}

/** What `onOpen` tells: a connection became open (confirmed). */
export interface OpenInfo {
  /** `false` the first time, `true` for every later connection. */
  reconnected: boolean;
  /** The attempt that succeeded: `0` the first time, `n` for reconnect attempt `n`. */
  attempt: number;
  /** Ms since the previous connection dropped; `0` the first time. */
  downtime: number;
}

/** One managed connection (docs/protocol.md §4). `ChatWebSocket` is the same type. */
export class ManagedWebSocket<T = unknown> {
  /** The manager key, e.g. `chat:abc`. */
  readonly key: string;
  /** The socket URL without the ticket. */
  readonly url: string;

  readonly #actor: Actor<typeof connectionMachine>;
  readonly #port: FacadePort;
  // The emitters, each made when first asked for: nothing emits to an event nobody can hear.
  #states: EventEmitter<WebSocketState> | undefined = undefined;
  #reconnects: EventEmitter<number> | undefined = undefined;
  #errors: EventEmitter<Event | Error> | undefined = undefined;
  #opens: EventEmitter<OpenInfo> | undefined = undefined;
  readonly #maxQueued: number;
  readonly #ready: Promise<ManagedWebSocket>;
  readonly #onClosed: ((socket: ManagedWebSocket) => void) | undefined;
  readonly #dataOptions: DataOptions;
  #resolve!: (socket: ManagedWebSocket) => void;
  #reject!: (error: unknown) => void;
  #queue: SendData[] = [];
  #lastState: WebSocketState = "connecting";
  #unwatchEnvironment: () => void;
  /** Replaced by a newer socket of the same key: destroyed once its listeners saw `closed`. */
  #retiring = false;
  readonly #debugError: ((error: unknown) => void) | undefined;
  /** The shared actor system this socket joined, until it closes; none for an inspected socket. */
  #system: SharedSystem | undefined = undefined;


  /** @internal Created by the manager's `connect*` and `open`. */
  constructor(init: ManagedWebSocketInit) {
    this.key = init.key;
    this.url = init.url;
    this.#maxQueued = init.options.maxQueuedMessages;
    this.#onClosed = init.onClosed;
    this.#dataOptions = init.options;

    const port = new FacadePort(this);
    this.#port = port;
    // Invalid frames are reported and `lastEventId` kept even with no `onData` listener.
    if (init.options.schema || init.options.eventId) this.#data();
    const machine = machineFor(init.runtime);
    const { debug, inspect: userInspect } = init.options;
    const debugInspect = debug ? createDebugInspector(init.key, debug) : undefined;
    this.#debugError = debug ? createDebugErrorLogger(init.key, debug) : undefined;
    const inspect =
      debugInspect || userInspect
        ? (event: InspectionEvent) => {
            if (debugInspect) observeSafely(() => debugInspect(event));
            if (userInspect) observeSafely(() => callInspect(userInspect, event));
          }
        : undefined;

    this.#actor = createActor(machine, {
      id: init.key,
      input: {
        key: init.key,
        path: init.path,
        apiUrl: init.apiUrl,
        wsUrl: init.wsUrl,
        settings: init.settings,
        port,
      },
      ...(inspect ? { inspect } : { parent: this.#joinSystem(init.runtime) }),
    });

    this.#ready = new Promise<ManagedWebSocket>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that never awaits must not see an unhandled rejection; awaiting still rejects.
    this.#ready.catch(noop);

    // A socket in a shared system is heard by the system's one inspection observer.
    if (inspect) {
      this.#actor.subscribe(
        (snapshot) => this.#onSnapshot(snapshot),
        (error) => this.#fail(error),
      );
    }
    this.#unwatchEnvironment = joinEnvironmentWatch(init.runtime, () => this.#actor.send({ type: "connection.wake" }));
    this.#actor.start();
  }

  /** A data frame arrived (heartbeat pongs are not delivered). */
  get onMessage(): Emitter<MessageEvent> {
    return this.#port.messages;
  }

  /** The public state changed; never twice the same value in a row. */
  get onStateChange(): Emitter<WebSocketState> {
    return (this.#states ??= new EventEmitter());
  }

  /** Reconnect attempt `n` started (after its backoff delay). */
  get onReconnecting(): Emitter<number> {
    return (this.#reconnects ??= new EventEmitter());
  }

  /** Socket error events and the errors of docs/protocol.md §7. */
  get onError(): Emitter<Event | Error> {
    return (this.#errors ??= new EventEmitter());
  }

  /**
   * A connection became open (confirmed), after queued messages were flushed: where an
   * app fetches what it missed (`reconnected`, `downtime`).
   */
  get onOpen(): Emitter<OpenInfo> {
    return (this.#opens ??= new EventEmitter());
  }

  /** `"connecting" | "open" | "closing" | "closed" | "reconnecting"`. */
  get state(): WebSocketState {
    return toPublicState(this.#actor.getSnapshot());
  }

  /** `state === "open"`. */
  get isOpen(): boolean {
    return this.state === "open";
  }

  /** The current reconnect attempt, `0` when not reconnecting. */
  get reconnectAttempt(): number {
    return toPublicAttempt(this.#actor.getSnapshot());
  }

  /** Messages waiting for a confirmed open connection to be flushed into. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /**
   * Resolves with this socket once its first connection is open (confirmed: the first
   * frame arrived, or it stayed open `OPEN_CONFIRMATION_DELAY` ms without a close);
   * rejects with the error that ended it if the socket closes before.
   */
  get ready(): Promise<ManagedWebSocket<T>> {
    return this.#ready as Promise<ManagedWebSocket<T>>;
  }

  /**
   * Every text frame parsed as JSON and, with the `schema` option, validated; delivered in
   * frame order, also when the schema validates asynchronously. A frame that is not JSON,
   * fails validation or whose validator throws goes to `onError` as
   * `MessageValidationError` instead. Binary frames and pongs never arrive here. Nothing
   * is parsed until the first `subscribe()` (or while a `schema` or `eventId` is set).
   */
  get onData(): Emitter<T> {
    return this.#data() as Emitter<T>;
  }

  /** The socket's `onData` pipeline, created on first use; its errors go where every error goes. */
  #data(): DataChannel {
    return this.#port.data((error) => this.#emitError(error), this.#dataOptions);
  }

  /** `String()` of the last defined result of the `eventId` option; `undefined` before one. */
  get lastEventId(): string | undefined {
    return this.#port.lastEventId;
  }

  /**
   * Sends now when open. Otherwise queues, in order: while connecting or reconnecting
   * (a connection waiting to be confirmed included), and when the server's close frame
   * already arrived. Queued messages are flushed once, in order, when a connection is
   * confirmed. Throws `QueueFullError` when the queue is full and `SocketClosedError`
   * when closing or closed.
   */
  send(data: SendData): void {
    if (!isSendable(data)) {
      throw new TypeError(
        `sockstate: send() takes a string, ArrayBuffer, typed array, DataView or Blob, got ${data === null ? "null" : isShared(data) ? "shared memory" : typeof data}`,
      );
    }
    const state = this.state;
    if (state === "closing" || state === "closed") {
      throw new SocketClosedError(`cannot send: the socket is ${state}`);
    }
    // Straight to the socket only while it is really open and nothing queued waits before
    // it (order); a socket that already got the server's close frame (CLOSING) would drop
    // the message silently, so it is queued for the next connection.
    const transport = this.#port.transport;
    if (state === "open" && this.#queue.length === 0 && transport?.readyState === OPEN) {
      transport.send(data);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) throw new QueueFullError(this.#maxQueued);
    this.#queue.push(data);
  }

  /**
   * `send(JSON.stringify(value))`, with the same queue rules. Throws a `TypeError` for a
   * value JSON cannot represent (`undefined`, a function, a BigInt, a cycle).
   */
  sendJson(value: unknown): void {
    this.send(toJsonFrame(value));
  }

  /** Graceful close, no further reconnects: `closing` (when a socket is open) then `closed`. Idempotent. */
  close(code = 1000, reason = ""): void {
    validateClose(code, reason);
    if (this.#actor.getSnapshot().status !== "active") return;
    this.#actor.send({ type: "connection.close", code, reason });
  }

  /**
   * `close()` and remove every listener. Idempotent. Messages still queued are reported
   * to `onError` (`SocketClosedError`) before its listeners go; no other listener hears
   * of the close.
   */
  destroy(): void {
    this.#port.messages.clear();
    this.#port.clearData();
    this.#states?.clear();
    this.#reconnects?.clear();
    this.#opens?.clear();
    this.close();
    // After close(): a listener that sends from here is told the socket is closing.
    this.#dropQueue();
    this.#errors?.clear();
  }

  /** Closes as by `close()`; once its listeners have seen `closed`, removes them (`destroy()`). */
  [retireSocket](): void {
    this.#retiring = true;
    // Destroyed at once only when its listeners already heard `closed`: a machine that
    // just ended (an onError listener reopening the key) announces `closed` next.
    if (this.#lastState === "closed") this.destroy();
    else if (this.#actor.getSnapshot().status === "active") this.close();
  }

  #flushQueue(): void {
    const transport = this.#port.transport;
    while (transport && this.#queue.length > 0) {
      const next = this.#queue[0]!;
      try {
        transport.send(next);
      } catch (error) {
        // Keep it queued for the next connection rather than lose it.
        this.#reportError(error);
        return;
      }
      this.#queue.shift();
    }
  }

  /** Resolves or rejects `ready` once, then lets go of its resolvers. */
  #settle(socket: ManagedWebSocket | undefined, error?: unknown): void {
    if (socket) this.#resolve(socket);
    else this.#reject(error);
    this.#resolve = noop;
    this.#reject = noop;
  }

  /**
   * What the machine emitted, heard by the port as it was emitted and told here once the
   * transition's snapshot is committed, before state listeners hear of it (as `actor.on()`
   * listeners would be).
   */
  #hear(event: ConnectionEmitted): void {
    switch (event.type) {
      case "established":
        // The connection is confirmed (docs/protocol.md §4). Queued messages waited for
        // the server to accept it: flushed into a connection that is refused at once
        // (4001, 4003, …) they would be lost unreported.
        this.#flushQueue();
        this.#settle(this);
        this.#opens?.emit({ reconnected: event.reconnected, attempt: event.attempt, downtime: event.downtime });
        break;
      case "reconnecting":
        this.#reconnects?.emit(event.attempt);
        break;
      case "error":
        this.#emitError(event.error as Event | Error);
        break;
    }
  }

  #onSnapshot(snapshot: ConnectionSnapshot): void {
    const emitted = this.#port.takeEmitted();
    if (emitted) for (const event of emitted) this.#hear(event);
    const state = toPublicState(snapshot);
    if (state === this.#lastState) return;
    this.#lastState = state;
    if (state === "closed") this.#finish(snapshot.context.error);
    this.#states?.emit(state);
    if (state === "closed" && this.#retiring) this.destroy();
  }

  #joinSystem(runtime: ManagedWebSocketInit["runtime"]): AnyActorRef {
    this.#system = joinSharedSystem(runtime, ManagedWebSocket.#observeSystem);
    return this.#system.parent;
  }

  /**
   * A shared system's one observer, in place of an observer per socket: a connection
   * actor's new snapshot (reported right after its own observers were told) goes to its
   * socket, found through the port in its context; a connection actor that failed reports
   * its error to its parent, the group's actor.
   */
  static #observeSystem(event: InspectionEvent): void {
    // xstate calls inspection observers unguarded: a throw here would leave the actor stuck.
    try {
      if (event.type === "@xstate.snapshot") {
        const owner = ownerOf(event.snapshot);
        if (owner) owner.#onSnapshot(event.snapshot as ConnectionSnapshot);
      } else if (event.type === "@xstate.event" && event.event.type.startsWith("xstate.error.actor.")) {
        const owner = ownerOf(event.sourceRef?.getSnapshot());
        if (owner) owner.#fail((event.event as { error?: unknown }).error);
      }
    } catch (error) {
      reportListenerError(error);
    }
  }

  /**
   * The machine itself failed: let go of its socket and any pending step (a failed actor
   * runs no exit actions), report the error and end like a closed socket.
   */
  #fail(error: unknown): void {
    this.#reportError(error);
    this.#finish(error);
    (this.#actor.getSnapshot().context as ConnectionContext | undefined)?.link?.complete();
  }

  #reportError(error: unknown): void {
    this.#emitError(error instanceof Error ? error : new Error(messageOf(error)));
  }

  /** Every error `onError` hears, the machine's and the facade's own, goes through `debug` too. */
  #emitError(error: Event | Error): void {
    if (this.#debugError) observeSafely(() => this.#debugError!(error));
    this.#errors?.emit(error);
  }

  /** Empties the queue for good, reporting what it held: nothing queued is lost silently. */
  #dropQueue(): void {
    const queued = this.#queue.length;
    if (queued === 0) return;
    this.#queue = [];
    this.#emitError(new SocketClosedError(`the socket was closed with ${queued} queued message${queued === 1 ? "" : "s"} unsent`));
  }

  #finish(error: unknown): void {
    this.#unwatchEnvironment();
    this.#unwatchEnvironment = noop;
    if (this.#system) leaveSharedSystem(this.#system);
    this.#system = undefined;
    this.#dropQueue();
    this.#settle(undefined, error ?? new SocketClosedError("the socket was closed before its first connection was confirmed open"));
    this.#onClosed?.(this);
  }
}

/** The socket `connectToChat` returns; the same type as every managed socket. */
export type ChatWebSocket<T = unknown> = ManagedWebSocket<T>;
