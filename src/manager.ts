/** `client.websocket`: opens managed sockets, one live socket per key (docs/protocol.md §2). */
import { buildSocketUrl, noop } from "../machines/connection.utils";
import { requestTicket, ticketTimedOut, tokenTimedOut } from "../machines/connection.actors";
import type { ConnectionRuntime } from "../machines/connection.types";
import { ManagedWebSocket, retireSocket } from "./managed-socket";
import type { StandardSchemaV1 } from "../machines/standard-schema";
import type { SocketOptionsWithSchema } from "./data-channel";
import {
  type ConnectionSettings,
  type ResolvedSocketOptions,
  resolveSocketOptions,
  type SocketOptions,
  toConnectionSettings,
  validateSocketOptions,
} from "./options";

/** What the client hands its manager. */
export interface ManagerConfig {
  apiUrl: string;
  wsUrl: string;
  runtime: Omit<ConnectionRuntime, "port">;
  defaults: SocketOptions;
}

function requireId(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`sockstate: ${name} must be a non-empty string, got ${value === "" ? "an empty string" : typeof value}`);
  }
  return value;
}

/** A socket path: starts with `/`, and carries no query or fragment (use `params` for those). */
function checkPath(path: unknown): asserts path is string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`sockstate: path must be a string starting with "/", got ${typeof path === "string" ? JSON.stringify(path) : typeof path}`);
  }
  if (/[?#]/.test(path)) {
    throw new TypeError(`sockstate: path must not contain "?" or "#" (pass query parameters as params), got ${JSON.stringify(path)}`);
  }
}

/** Whether per-socket options change anything (`{}` and all-`undefined` options do not). */
function hasOwnSettings(options: SocketOptions | undefined): boolean {
  return options !== undefined && Object.values(options).some((value) => value !== undefined);
}

/** Bad arguments reject the returned promise like every other failure of `connect*`. */
function settle(open: () => ManagedWebSocket): Promise<ManagedWebSocket> {
  try {
    return open().ready;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The sockets of one client (`client.websocket`, docs/protocol.md §2): opens managed
 * sockets by path or key, one live socket per key, and closes them all at once.
 */
export class WebSocketManager {
  readonly #config: ManagerConfig;
  /** Forgets a closed socket, unless its key already belongs to a replacement. One function for all sockets. */
  readonly #release = (closed: ManagedWebSocket): void => {
    if (this.#sockets.get(closed.key) === closed) this.#sockets.delete(closed.key);
    this.#replaced.delete(closed);
  };
  /**
   * The client's defaults, resolved (and copied) once when the client is created: shared,
   * frozen, by every socket opened without options of its own.
   */
  readonly #defaults: ResolvedSocketOptions;
  /** `#defaults` as the machine takes them: one settings object for all those sockets. */
  readonly #defaultSettings: ConnectionSettings;
  /** The same for `open()`, which never applies `openTimeout`. */
  readonly #defaultUnboundedSettings: ConnectionSettings;
  readonly #sockets = new Map<string, ManagedWebSocket>();
  /** Sockets replaced by a newer one of their key that are still closing: `closeAll()` closes them too. */
  readonly #replaced = new Set<ManagedWebSocket>();

  /** @internal Created by `createClient`. */
  constructor(config: ManagerConfig) {
    this.#config = config;
    const defaults = resolveSocketOptions(config.defaults);
    if (typeof defaults.params !== "function") Object.freeze(defaults.params);
    this.#defaults = Object.freeze(defaults);
    this.#defaultSettings = Object.freeze(toConnectionSettings(this.#defaults));
    this.#defaultUnboundedSettings = Object.freeze({ ...this.#defaultSettings, openTimeout: 0 });
  }

  /** Sockets of this manager that are not yet `closed`. */
  get connectionCount(): number {
    return this.#sockets.size;
  }

  /**
   * Opens `/ws/chat/{chatId}` under the key `chat:{chatId}`. With a `schema` option the
   * socket's `onData` values have the schema's output type.
   */
  connectToChat<S extends StandardSchemaV1>(chatId: string, options: SocketOptionsWithSchema<S>): Promise<ManagedWebSocket<StandardSchemaV1.InferOutput<S>>>;
  connectToChat(chatId: string, options?: SocketOptions): Promise<ManagedWebSocket>;
  connectToChat(chatId: string, options?: SocketOptions): Promise<ManagedWebSocket> {
    return settle(() => {
      const id = requireId("chatId", chatId);
      return this.#open(`/ws/chat/${encodeURIComponent(id)}`, options, `chat:${id}`, true);
    });
  }

  /**
   * Opens `/ws/workspaces/{workspaceId}/transcripts/{transcriptId}` under
   * `transcript:{workspaceId}/{transcriptId}`. With a `schema` option the socket's `onData`
   * values have the schema's output type.
   */
  connectToTranscript<S extends StandardSchemaV1>(workspaceId: string, transcriptId: string, options: SocketOptionsWithSchema<S>): Promise<ManagedWebSocket<StandardSchemaV1.InferOutput<S>>>;
  connectToTranscript(workspaceId: string, transcriptId: string, options?: SocketOptions): Promise<ManagedWebSocket>;
  connectToTranscript(workspaceId: string, transcriptId: string, options?: SocketOptions): Promise<ManagedWebSocket> {
    return settle(() => {
      const workspace = requireId("workspaceId", workspaceId);
      const transcript = requireId("transcriptId", transcriptId);
      return this.#open(
        `/ws/workspaces/${encodeURIComponent(workspace)}/transcripts/${encodeURIComponent(transcript)}`,
        options,
        `transcript:${workspace}/${transcript}`,
        true,
      );
    });
  }

  /**
   * Opens a managed socket on `path` (must start with `/`). `key` names it in the
   * manager (default `path`); an older socket with the same key is replaced: closed as
   * by `close()` (its listeners see `closing` and `closed`), then destroyed. Resolves
   * once the first connection is open; rejects with the error that ended it if the
   * socket closes before ever opening, and with `ConnectTimeoutError` when it is not
   * open within `openTimeout`. With a `schema` option the socket's `onData` values have
   * the schema's output type.
   */
  connect<S extends StandardSchemaV1>(path: string, options: SocketOptionsWithSchema<S>, key?: string): Promise<ManagedWebSocket<StandardSchemaV1.InferOutput<S>>>;
  connect(path: string, options?: SocketOptions, key?: string): Promise<ManagedWebSocket>;
  connect(path: string, options?: SocketOptions, key: string = path): Promise<ManagedWebSocket> {
    return settle(() => this.#open(path, options, key, true));
  }

  /**
   * Like `connect()`, but returns the socket at once (state `connecting`) instead of
   * waiting for it to open, and without `openTimeout`: it keeps trying under its own
   * reconnection policy. `socket.ready` settles as `connect()`'s promise would, unbounded.
   * Throws synchronously on bad arguments. With a `schema` option the socket's `onData`
   * values have the schema's output type.
   */
  open<S extends StandardSchemaV1>(path: string, options: SocketOptionsWithSchema<S>, key?: string): ManagedWebSocket<StandardSchemaV1.InferOutput<S>>;
  open(path: string, options?: SocketOptions, key?: string): ManagedWebSocket;
  open(path: string, options?: SocketOptions, key: string = path): ManagedWebSocket {
    return this.#open(path, options, key, false);
  }

  #open(path: string, options: SocketOptions | undefined, key: string, bounded: boolean): ManagedWebSocket {
    checkPath(path);
    if (typeof key !== "string" || key === "") throw new TypeError("sockstate: key must be a non-empty string");
    validateSocketOptions(options, "socket options");
    const own = hasOwnSettings(options);
    const resolved = own ? resolveSocketOptions(this.#defaults, options) : this.#defaults;
    // One live socket per key. The older one stops counting at once; closing it may report
    // queued messages to onError listeners, which may open this key again themselves:
    // loop until the key is free.
    for (let older = this.#sockets.get(key); older; older = this.#sockets.get(key)) {
      this.#sockets.delete(key);
      this.#replaced.add(older);
      older[retireSocket]();
    }
    const settings = own ? toConnectionSettings(resolved) : bounded ? this.#defaultSettings : this.#defaultUnboundedSettings;
    if (own && !bounded) settings.openTimeout = 0;

    const { apiUrl, wsUrl, runtime } = this.#config;
    const socket = new ManagedWebSocket({
      key,
      path,
      apiUrl,
      wsUrl,
      // With a params function the URL shows none: each attempt computes its own.
      url: buildSocketUrl(wsUrl, path, typeof resolved.params === "function" ? {} : resolved.params),
      options: resolved,
      settings,
      runtime,
      onClosed: this.#release,
    });
    // A socket that failed synchronously (e.g. no WebSocket) is already closed.
    if (socket.state !== "closed") this.#sockets.set(key, socket);
    return socket;
  }

  /**
   * A fresh ticket from `{apiUrl}/ws/ticket`; rejects with `TicketError` (`status`) on a
   * non-2xx answer, and with `TicketError` (`0`) when none came within the client's
   * `connectTimeout` (the auth token included), like a socket's own ticket request.
   */
  async getTicket(path?: string): Promise<string> {
    if (path !== undefined) checkPath(path);
    const timeout = this.#defaults.connectTimeout;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Until the token provider answers, a timeout is its fault: no request was sent yet.
    let authorized = false;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = authorized ? ticketTimedOut(timeout, path) : tokenTimedOut(timeout, path);
        reject(error);
        controller.abort(error);
      }, timeout);
    });
    const request = requestTicket(this.#config.runtime, this.#config.apiUrl, path, controller.signal, () => {
      authorized = true;
    });
    request.catch(noop); // once timed out, the aborted request's own rejection is not news
    try {
      return (await Promise.race([request, timedOut])).reveal();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Closes every socket this manager opened, replaced ones still closing included;
   * `connectionCount` is 0 when it returns and pending `connect*` promises reject.
   */
  closeAll(): void {
    const sockets = [...this.#sockets.values(), ...this.#replaced];
    this.#sockets.clear();
    for (const socket of sockets) socket.close();
  }
}
