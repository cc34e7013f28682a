/**
 * What the React tests share: a client on the reference server with `ws`'s WebSocket
 * (counted) and a fetch over node:http (happy-dom's own `WebSocket` and `fetch` are not the
 * network under test), a provider wrapper, and a chat view that records its renders.
 */
import { request } from "node:http";
import { cleanup } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import { afterEach, beforeEach } from "vitest";
import { createClient, type Client, type ManagedWebSocket, type SocketOptions } from "../../src/index";
import { SockstateProvider, useChatSocket, useMessages, type UseSocketOptions, type UseSocketResult } from "../../src/react/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { trackedWebSocket } from "../support/tracked-websocket";

/** Long enough that no test sees a heartbeat; short backoff so reconnects are quick. */
export const QUIET = { heartbeatInterval: 60_000, reconnectDelay: 50, maxReconnectDelay: 100 } satisfies SocketOptions;

/** `fetch` for loopback requests through node:http, answering with the environment's `Response`. */
export const loopbackFetch = ((input: string | URL | Request, init: RequestInit = {}) =>
  new Promise<Response>((resolve, reject) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const req = request(String(input), { method: init.method ?? "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(new Response(Buffer.concat(chunks).toString("utf8"), { status: res.statusCode ?? 0 })));
      res.on("error", reject);
    });
    req.on("error", reject);
    init.signal?.addEventListener("abort", () => {
      req.destroy();
      reject(init.signal?.reason);
    });
    req.end(typeof init.body === "string" ? init.body : undefined);
  })) as typeof fetch;

export interface TestClient {
  client: Client;
  /** Every WebSocket the client created. */
  sockets: unknown[];
  /** Ticket requests the client started, answered or not. */
  ticketCalls: string[];
}

export function createTestClient(server: ReferenceServer): TestClient {
  const { WebSocket, instances } = trackedWebSocket();
  const ticketCalls: string[] = [];
  const fetch = ((input: string | URL | Request, init?: RequestInit) => {
    ticketCalls.push(String(init?.body));
    return loopbackFetch(input, init);
  }) as typeof globalThis.fetch;
  const client = createClient({ apiUrl: server.apiUrl, WebSocket, fetch, ...QUIET });
  return { client, sockets: instances, ticketCalls };
}

export function withClient(client: Client, children: ReactNode, strict = false): ReactNode {
  const tree = <SockstateProvider client={client}>{children}</SockstateProvider>;
  return strict ? <StrictMode>{tree}</StrictMode> : tree;
}

/** One render of a {@link ChatView}: what it showed, and the socket's own state at that moment. */
export interface RenderRecord {
  shown: UseSocketResult["state"];
  attempt: number;
  socket: ManagedWebSocket | undefined;
  socketState: ManagedWebSocket["state"] | undefined;
  socketAttempt: number | undefined;
  error: UseSocketResult["error"];
}

export interface ChatViewProps {
  chatId: string;
  options?: UseSocketOptions;
  limit?: number;
  renders?: RenderRecord[];
}

/** A chat as an app would show it: the state badge and the messages. */
export function ChatView({ chatId, options, limit, renders }: ChatViewProps) {
  const { socket, state, reconnectAttempt, error } = useChatSocket(chatId, options);
  const messages = useMessages(socket, limit === undefined ? {} : { limit });
  renders?.push({
    shown: state,
    attempt: reconnectAttempt,
    socket,
    socketState: socket?.state,
    socketAttempt: socket?.reconnectAttempt,
    error,
  });
  return (
    <section data-testid={`chat-${chatId}`}>
      <span data-testid={`state-${chatId}`}>{state}</span>
      <ol data-testid={`messages-${chatId}`}>
        {messages.map((message, index) => (
          <li key={index}>{JSON.stringify(message)}</li>
        ))}
      </ol>
    </section>
  );
}

/** Resolves after `ms` of real time. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A reference server and a client on it for every test of the file, closed after each
 * (rendered trees unmounted first).
 */
export function serveEachTest(): { readonly server: ReferenceServer; readonly test: TestClient } {
  const env = {} as { server: ReferenceServer; test: TestClient };
  beforeEach(async () => {
    env.server = await createReferenceServer();
    env.test = createTestClient(env.server);
  });
  afterEach(async () => {
    cleanup();
    env.test.client.websocket.closeAll();
    await env.server.close();
  });
  return env;
}
