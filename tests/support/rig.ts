/**
 * A real-socket rig for the integration suites: a reference server on loopback
 * (port 0), a sockstate client pointed at it with short intervals, and recorders for
 * what a socket emitted. Everything started here is torn down by `stopRigs()`.
 */
import WebSocket from "ws";
import { createClient, type Client, type ClientOptions, type ManagedWebSocket, type WebSocketState } from "../../src/index";
import { createReferenceServer, type ReferenceServer, type ReferenceServerOptions } from "../../src/testing/index";
import { PING_FRAME } from "../../machines/protocol";

import { until } from "./wait";

export { trackedWebSocket } from "./tracked-websocket";

/** Short intervals, so every fault plays out in well under a second. */
export const FAST = {
  reconnectDelay: 30,
  maxReconnectDelay: 120,
  heartbeatInterval: 200,
  heartbeatTimeout: 200,
  connectTimeout: 1000,
} as const;

export interface Rig {
  server: ReferenceServer;
  client: Client;
}

export interface RigOptions {
  server?: ReferenceServerOptions;
  /** Client options over {@link FAST}; `apiUrl` defaults to the server's. */
  client?: Partial<ClientOptions>;
  /**
   * `"ws"` passes `ws`'s `WebSocket` to `createClient` (unless `client.WebSocket` names
   * another); `"global"` passes none, so the client falls back to `globalThis.WebSocket`.
   * @default "ws"
   */
  webSocket?: "ws" | "global";
}

const started: Rig[] = [];

/** Starts a reference server and a client on it. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const server = await createReferenceServer(options.server);
  const clientOptions: ClientOptions = { apiUrl: server.apiUrl, ...FAST, ...options.client };
  if ((options.webSocket ?? "ws") === "ws") clientOptions.WebSocket ??= WebSocket;
  const rig = { server, client: createClient(clientOptions) };
  started.push(rig);
  return rig;
}

/** Closes every client socket and server started since the last call (use in `afterEach`). */
export async function stopRigs(): Promise<void> {
  const rigs = started.splice(0);
  for (const rig of rigs) rig.client.websocket.closeAll();
  await Promise.all(rigs.map((rig) => rig.server.close()));
}

/** Everything a socket emitted, in order, from the moment of the call. */
export interface Recording {
  states: WebSocketState[];
  attempts: number[];
  errors: Array<Event | Error>;
  messages: unknown[];
}

export function record(socket: ManagedWebSocket): Recording {
  const recording: Recording = { states: [], attempts: [], errors: [], messages: [] };
  socket.onStateChange.subscribe((state) => recording.states.push(state));
  socket.onReconnecting.subscribe((attempt) => recording.attempts.push(attempt));
  socket.onError.subscribe((error) => recording.errors.push(error));
  socket.onMessage.subscribe((event) => recording.messages.push(event.data));
  return recording;
}

/** Only the `Error`s of a recording (socket `error` events left out). */
export function errorsOf(recording: Recording): Error[] {
  return recording.errors.filter((error): error is Error => error instanceof Error);
}

/** Resolves once `socket.state` is `state` (now or later). */
export function stateOf(socket: ManagedWebSocket, state: WebSocketState, timeoutMs = 3000): Promise<true> {
  return until(() => socket.state === state, timeoutMs, `state "${state}" of ${socket.key}`);
}

/** Text of a frame whatever the client library made of it (string, Buffer, ArrayBuffer). */
export function text(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  return String(data);
}

/** The server's connection records on `path`. */
export function connectionsOn(server: ReferenceServer, path: string) {
  return server.connections.filter((connection) => connection.path === path);
}

/** Frames the server read from clients on `path`, heartbeat pings left out, as text. */
export function framesOn(server: ReferenceServer, path: string): string[] {
  return server.frames
    .filter((frame) => frame.path === path && frame.data !== PING_FRAME)
    .map((frame) => frame.data.toString());
}
