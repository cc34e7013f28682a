/** `createClient`: resolves the environment once and hands it to the manager (docs/protocol.md §2). */
import { deriveWsUrl } from "../machines/connection.utils";
import type { AuthTokenProvider, WebSocketConstructor } from "../machines/connection.types";
import { WebSocketManager } from "./manager";
import { describe, type InspectOption, type SocketOptions, validateSocketOptions } from "./options";

/** Options of {@link createClient}: where to connect, how, and defaults for every socket. */
export interface ClientOptions extends SocketOptions {
  /** HTTP API base; tickets come from `POST {apiUrl}/ws/ticket`. Required. */
  apiUrl: string;
  /**
   * Socket base.
   * @default apiUrl with http→ws, https→wss
   */
  wsUrl?: string;
  /** Bearer token for ticket requests, sync or async; no `Authorization` header when it returns nothing. */
  getAuthToken?: AuthTokenProvider;
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /**
   * A WebSocket constructor: the browser's, Node's global, or `ws`'s `WebSocket`.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor | (abstract new (...args: any[]) => unknown);
  /** XState inspection observer passed to every socket's actor. */
  inspect?: InspectOption;
}

/** What `createClient` returns. */
export interface Client {
  /** The manager of this client's sockets. */
  readonly websocket: WebSocketManager;
}

function checkUrl(name: string, value: unknown, protocols: string[]): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`sockstate: ${name} is required and must be a URL string, got ${describe(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`sockstate: ${name} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new TypeError(`sockstate: ${name} must use ${protocols.join(" or ")}, got ${JSON.stringify(value)}`);
  }
  if (/[?#]/.test(value)) {
    throw new TypeError(`sockstate: ${name} must not have a query or fragment, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The running Node.js version, e.g. `20.11.1`; `undefined` in browsers and other runtimes. */
function nodeVersion(): string | undefined {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const isBrowser = typeof (globalThis as { document?: unknown }).document !== "undefined";
  return isBrowser ? undefined : process?.versions?.node;
}

/** What to do about a missing `WebSocket`, for the runtime at hand. */
function missingWebSocket(): string {
  const node = nodeVersion();
  if (node) {
    return (
      `sockstate: no WebSocket available: Node.js ${node} has no global WebSocket (it has one from Node 22 on). ` +
      "Run node with --experimental-websocket, or pass `WebSocket` from the `ws` package: " +
      'import { WebSocket } from "ws"; createClient({ apiUrl, WebSocket })'
    );
  }
  return (
    "sockstate: no WebSocket available: globalThis.WebSocket is missing in this runtime. " +
    "Pass a WebSocket constructor as `WebSocket` to createClient (in a browser, check that the code runs on the page, not in a context without WebSocket)"
  );
}

/** What to do about a missing `fetch`, for the runtime at hand. */
function missingFetch(): string {
  const node = nodeVersion();
  if (node) {
    return `sockstate: no fetch available: Node.js ${node} has no global fetch (sockstate needs Node.js 20 or later). Upgrade Node.js, or pass \`fetch\` to createClient`;
  }
  return "sockstate: no fetch available: globalThis.fetch is missing in this runtime. Pass a fetch implementation as `fetch` to createClient";
}

/** Creates a client. Throws a `TypeError` that says what is missing or invalid. */
export function createClient(options: ClientOptions): Client {
  if (options === null || typeof options !== "object") {
    throw new TypeError("sockstate: createClient needs an options object with at least apiUrl");
  }
  const { apiUrl, wsUrl, getAuthToken, fetch, WebSocket, ...socketDefaults } = options;
  checkUrl("apiUrl", apiUrl, ["http:", "https:"]);
  const resolvedWsUrl = wsUrl === undefined ? deriveWsUrl(apiUrl) : checkUrl("wsUrl", wsUrl, ["ws:", "wss:", "http:", "https:"]);
  const fetchImpl = fetch ?? (globalThis as { fetch?: typeof globalThis.fetch }).fetch;
  if (typeof fetchImpl !== "function") {
    throw new TypeError(missingFetch());
  }
  const WebSocketImpl = (WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as WebSocketConstructor | undefined;
  if (typeof WebSocketImpl !== "function") {
    throw new TypeError(missingWebSocket());
  }
  if (getAuthToken !== undefined && typeof getAuthToken !== "function") {
    throw new TypeError(`sockstate: getAuthToken must be a function, got ${describe(getAuthToken)}`);
  }
  validateSocketOptions(socketDefaults, "createClient options");

  const websocket = new WebSocketManager({
    apiUrl,
    wsUrl: resolvedWsUrl,
    runtime: { WebSocket: WebSocketImpl, fetch: fetchImpl, getAuthToken },
    defaults: socketDefaults,
  });
  return { websocket };
}
