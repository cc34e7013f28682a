/**
 * The live inspector page: a small HTTP server on loopback that serves the page, its
 * script (sockstate + xstate, bundled by esbuild), the installed mermaid, the machine's
 * diagram, and a control endpoint that triggers the reference server's faults.
 *
 * Everything the page loads comes from this server; the demo connection talks to the
 * reference server (which answers CORS). Nothing leaves 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connectionMachine } from "../../machines/connection.machine";
import type { SocketOptions } from "../../src/options";
import { TICKET_REJECTED_CODE } from "../../machines/protocol";
import { createReferenceServer } from "../../src/testing";
import type { ReferenceServer, ReferenceServerOptions } from "../../src/testing";
import { buildBrowserBundle } from "../browser-bundle";
import { allStates, connectionPublicState, describeMachine } from "../describe-machine";
import { MERMAID_CONFIG, mermaidScriptPath, toDiagram } from "../visualize";
import type { FaultInfo, PageConfig } from "./page.types";

/** Heartbeat and backoff short enough to watch a fault play out in a few seconds. */
export const DEMO_SOCKET_OPTIONS = {
  heartbeatInterval: 4000,
  heartbeatTimeout: 2000,
  reconnectDelay: 1000,
  maxReconnectDelay: 8000,
  connectTimeout: 5000,
} satisfies SocketOptions;

export interface InspectorPageOptions {
  /** Loopback address of the page server. @default "127.0.0.1" */
  host?: string;
  /** Port of the page server; `0` picks a free one. @default 0 */
  port?: number;
  /** Options of the demo socket in the page. @default DEMO_SOCKET_OPTIONS */
  socketOptions?: SocketOptions;
  /** Options of the reference server started alongside (always on port 0). */
  referenceServer?: Omit<ReferenceServerOptions, "host" | "port">;
  /** The demo socket's chat id: it connects to `/ws/chat/{chatId}` under the key `chat:{chatId}`. @default "demo" */
  chatId?: string;
}

export interface InspectorPage {
  /** The page, e.g. `http://127.0.0.1:5173/`. */
  readonly url: string;
  /** The reference server the demo connection talks to. */
  readonly reference: ReferenceServer;
  /** Stops the page server and the reference server. Idempotent. */
  close(): Promise<void>;
}

/** Closes every live connection with `code`; returns how many there were. */
function closeLive(server: ReferenceServer, code: number, reason: string): number {
  const count = server.liveConnections.length;
  server.closeAll(code, reason);
  return count;
}

/** The faults of the page's buttons: each calls the reference server's own controls. */
const FAULTS: Record<string, FaultInfo & { run(server: ReferenceServer): string | Promise<string> }> = {
  drop: {
    name: "drop",
    label: "drop",
    title: "The server destroys every connection without a close frame (1006): the client backs off and reconnects.",
    run: (server) => {
      const count = server.liveConnections.length;
      server.dropAll();
      return `dropAll(): ${count} connection(s) dropped (1006)`;
    },
  },
  stall: {
    name: "stall",
    label: "stall",
    title:
      "The open connections go half-open: the server stops reading and writing without closing. Only the heartbeat notices; new connections are healthy.",
    run: (server) => {
      const connections = server.liveConnections;
      for (const connection of connections) connection.stall();
      return `stall(): ${connections.length} connection(s) silent, nothing closed`;
    },
  },
  rejectTicket: {
    name: "rejectTicket",
    label: "reject ticket",
    title:
      "The server closes the connection with 4001 (ticket rejected): the client fetches a fresh ticket at once, counting an attempt.",
    run: (server) =>
      `closeAll(${TICKET_REJECTED_CODE}): ${closeLive(server, TICKET_REJECTED_CODE, "ticket rejected")} connection(s) told their ticket is no longer valid`,
  },
  ticketOutage: {
    name: "ticketOutage",
    label: "ticket endpoint 503",
    title: "The next two ticket requests are answered 503 and the connection drops: the attempts fail and back off.",
    run: (server) => {
      server.rejectTickets(503, 2);
      server.dropAll();
      return "rejectTickets(503, 2) then dropAll()";
    },
  },
  restart: {
    name: "restart",
    label: "restart",
    title: "The server restarts: every connection drops, and for 1.5 s nothing listens (ECONNREFUSED).",
    run: async (server) => {
      await server.restart({ downtime: 1500 });
      return "restart({ downtime: 1500 }): listening again";
    },
  },
  forbid: {
    name: "forbid",
    label: "forbid (4003)",
    title: "The server closes the connection with 4003 (forbidden): terminal, the socket ends in closed.",
    run: (server) => `closeAll(4003): ${closeLive(server, 4003, "forbidden")} connection(s) forbidden`,
  },
};

function send(response: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  response.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, "application/json; charset=utf-8", JSON.stringify(value));
}

/** Starts the reference server and the page server; resolves once both listen. */
export async function startInspectorPage(options: InspectorPageOptions = {}): Promise<InspectorPage> {
  const host = options.host ?? "127.0.0.1";
  if (!/^127(\.\d{1,3}){3}$/.test(host) && host !== "::1") {
    throw new TypeError(`the inspector page only listens on loopback (127.x.x.x or ::1), got ${JSON.stringify(host)}`);
  }
  const chatId = options.chatId ?? "demo";
  const info = describeMachine(connectionMachine, connectionPublicState);
  const diagram = toDiagram(info);
  const [bundle, reference] = await Promise.all([
    buildBrowserBundle({ entry: "scripts/inspect-page/page.ts" }),
    createReferenceServer({ ...options.referenceServer, host: "127.0.0.1", port: 0 }),
  ]);
  const html = readFileSync(new URL("./index.html", import.meta.url), "utf8");
  const mermaidScript = readFileSync(mermaidScriptPath());
  const config: PageConfig = {
    apiUrl: reference.apiUrl,
    wsUrl: reference.wsUrl,
    chatId,
    socketOptions: options.socketOptions ?? DEMO_SOCKET_OPTIONS,
    mermaid: diagram.source,
    mermaidConfig: { ...MERMAID_CONFIG, state: { useMaxWidth: true } },
    states: allStates(info).map((state) => ({
      path: state.path,
      diagramId: state.diagramId,
      publicState: state.publicState,
      transient: state.transient,
    })),
    edges: diagram.edges,
    faults: Object.values(FAULTS).map(({ name, label, title }) => ({ name, label, title })),
  };

  async function control(name: string, response: ServerResponse): Promise<void> {
    const fault = Object.hasOwn(FAULTS, name) ? FAULTS[name] : undefined;
    if (!fault) return sendJson(response, 404, { error: `no fault named ${JSON.stringify(name)}` });
    try {
      sendJson(response, 200, { fault: name, detail: await fault.run(reference) });
    } catch (error) {
      sendJson(response, 409, { fault: name, error: error instanceof Error ? error.message : String(error) });
    }
  }

  function route(request: IncomingMessage, response: ServerResponse): void {
    const { pathname } = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    if (method === "POST" && pathname.startsWith("/control/")) {
      request.resume();
      void control(decodeURIComponent(pathname.slice("/control/".length)), response);
      return;
    }
    if (method !== "GET" && method !== "HEAD") return sendJson(response, 405, { error: "method not allowed" });
    switch (pathname) {
      case "/":
      case "/index.html":
        return send(response, 200, "text/html; charset=utf-8", html);
      case "/page.js":
        return send(response, 200, "text/javascript; charset=utf-8", bundle.code);
      case "/vendor/mermaid.min.js":
        return send(response, 200, "text/javascript; charset=utf-8", mermaidScript);
      case "/config.json":
        return sendJson(response, 200, config);
      case "/favicon.ico":
        response.writeHead(204).end();
        return;
      default:
        return sendJson(response, 404, { error: "not found" });
    }
  }

  const server = createServer(route);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await reference.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;

  let closing: Promise<void> | undefined;
  return {
    url,
    reference,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), reference.close()]);
      })();
      return closing;
    },
  };
}
