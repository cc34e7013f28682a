/**
 * sockstate in a real browser: headless Chromium (tests/support/chromium.ts, driven by
 * playwright-core, no browser download) loads the browser bundle from a page on
 * 127.0.0.1 and talks to the reference server with the browser's own `WebSocket` and
 * `fetch` (cross-origin, so the ticket request goes through a CORS preflight). The page (fixtures/page.html) counts
 * fetch calls, sockets and the `visibilitychange`/`online` listeners before sockstate loads.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildBrowserBundle } from "../../scripts/browser-bundle";
import type { ManagedWebSocket, SocketOptions } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { launchChromium } from "../support/chromium";
import { PING_FRAME } from "../../machines/protocol";

/** Long enough that no ping in these tests comes from the heartbeat itself. */
const QUIET = { heartbeatInterval: 60_000, reconnectDelay: 100, maxReconnectDelay: 200 } satisfies SocketOptions;

/** What the page holds: sockstate, the probe of fixtures/page.html, and the test's sockets. */
interface PageWindow {
  sockstate: typeof import("../../src/index");
  __loaded: boolean;
  __probe: {
    nativeFetch: boolean;
    nativeWebSocket: boolean;
    fetchCalls: number;
    socketsCreated: number;
    listeners: { visibilitychange: Set<unknown>; online: Set<unknown> };
  };
  __setVisibility(state: "hidden" | "visible"): void;
  app: {
    sockets: Record<string, ManagedWebSocket>;
    received: Record<string, string[]>;
    states: Record<string, string[]>;
    errors: Record<string, string[]>;
  };
}

let browser: Browser;
let pageServer: Server;
let pageUrl: string;
let server: ReferenceServer;
let page: Page;
let pageErrors: Error[] = [];

beforeAll(async () => {
  const [bundle, html] = await Promise.all([
    buildBrowserBundle(),
    readFile(new URL("./fixtures/page.html", import.meta.url), "utf8"),
  ]);
  pageServer = createServer((req, res) => {
    if (req.url === "/") res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(html);
    else if (req.url === "/sockstate.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(bundle.code);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`;
  [browser, server] = await Promise.all([launchChromium(), createReferenceServer()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
});

beforeEach(async () => {
  server.reset();
  page = await browser.newPage();
  // Loopback only: anything else the page asks for is refused.
  await page.route("**/*", (route) =>
    new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort(),
  );
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  await page.goto(pageUrl);
  await page.waitForFunction(() => (window as unknown as PageWindow).__loaded === true);
  await page.evaluate((apiUrl) => {
    const w = window as unknown as PageWindow;
    w.app = { sockets: {}, received: {}, states: {}, errors: {} };
    // One client for the page, created with no WebSocket or fetch: the browser's are used.
    (w as unknown as { client: ReturnType<PageWindow["sockstate"]["createClient"]> }).client = w.sockstate.createClient({ apiUrl });
  }, server.apiUrl);
});
afterEach(async () => {
  await page?.close();
  expect(pageErrors).toEqual([]);
});

/** Opens a chat socket in the page and records what it receives, its states and errors. */
async function openInPage(chatId: string, options: SocketOptions = QUIET): Promise<void> {
  await page.evaluate(
    async ({ chatId, options }) => {
      const w = window as unknown as PageWindow & { client: ReturnType<PageWindow["sockstate"]["createClient"]> };
      const socket = w.client.websocket.open(`/ws/chat/${chatId}`, options, chatId);
      const received: string[] = (w.app.received[chatId] = []);
      const states: string[] = (w.app.states[chatId] = []);
      const errors: string[] = (w.app.errors[chatId] = []);
      socket.onMessage.subscribe((event) => received.push(typeof event.data === "string" ? event.data : `[${event.data.constructor.name}]`));
      socket.onStateChange.subscribe((state) => states.push(state));
      socket.onError.subscribe((error) => errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
      w.app.sockets[chatId] = socket;
      await socket.ready;
    },
    { chatId, options },
  );
}

const inPage = <T>(fn: (w: PageWindow) => T): Promise<T> =>
  page.evaluate(`(${fn.toString()})(window)`) as Promise<T>;

const stateOf = (chatId: string) => page.evaluate((id) => (window as unknown as PageWindow).app.sockets[id]!.state, chatId);

function pingsOn(connectionId: number): number {
  return server.frames.filter((frame) => frame.connectionId === connectionId && frame.data === PING_FRAME).length;
}

async function waitInPage(predicate: string, timeoutMs = 5_000): Promise<void> {
  await page.waitForFunction(`(() => { const app = window.app; return ${predicate}; })()`, undefined, { timeout: timeoutMs });
}

describe("sockstate in headless chromium", () => {
  it("connects with the browser's own WebSocket and fetch and carries data both ways", async () => {
    await openInPage("browser");
    const probe = await inPage((w) => ({ ...w.__probe, listeners: undefined }));
    expect(probe.nativeFetch && probe.nativeWebSocket).toBe(true);
    expect(probe.fetchCalls).toBe(1);
    expect(probe.socketsCreated).toBe(1);
    expect(server.ticketRequests).toMatchObject([{ method: "POST", path: "/ws/chat/browser", status: 200 }]);
    expect(server.connections).toMatchObject([{ path: "/ws/chat/browser", ticketValid: true }]);

    await page.evaluate(() => (window as unknown as PageWindow).app.sockets.browser!.send("hello from chromium"));
    await server.waitFor((s) => s.frames.some((frame) => frame.data === "hello from chromium"));
    server.broadcast("/ws/chat/browser", "hello from the server");
    server.liveConnections[0]!.send(new Uint8Array([1, 2, 3]));
    await waitInPage("app.received.browser.length === 3");
    expect(await inPage((w) => w.app.received.browser)).toEqual(["hello from chromium", "hello from the server", "[Blob]"]);
    expect(await stateOf("browser")).toBe("open");
  });

  it("survives a server restart: reconnects on a fresh ticket and carries data again", async () => {
    await openInPage("restart");
    const firstTicket = server.connections[0]!.ticket;
    await server.restart({ downtime: 300 });
    await waitInPage('app.states.restart.at(-1) === "open" && app.states.restart.includes("reconnecting")', 10_000);
    const live = server.liveConnections;
    expect(live).toHaveLength(1);
    const record = server.connections.find((c) => c.id === live[0]!.id)!;
    expect(record.ticketValid).toBe(true);
    expect(record.ticket).not.toBe(firstTicket);

    await page.evaluate(() => (window as unknown as PageWindow).app.sockets.restart!.send("after the restart"));
    await waitInPage('app.received.restart.includes("after the restart")');
    expect(await inPage((w) => w.__probe.socketsCreated)).toBeGreaterThanOrEqual(2);
  });

  it("pings at once when the page becomes visible again, and not when it is hidden", async () => {
    await openInPage("visibility");
    const connectionId = server.liveConnections[0]!.id;
    await page.evaluate(() => (window as unknown as PageWindow).__setVisibility("hidden"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pingsOn(connectionId)).toBe(0);
    await page.evaluate(() => (window as unknown as PageWindow).__setVisibility("visible"));
    await server.waitFor(() => pingsOn(connectionId) === 1, 2_000);
    expect(await stateOf("visibility")).toBe("open"); // the pong came back
  });

  it("pings at once when the network comes back, and skips a long backoff wait", async () => {
    await openInPage("online-open");
    await openInPage("online-backoff", { heartbeatInterval: 60_000, reconnectDelay: 20_000, maxReconnectDelay: 20_000 });
    const openId = server.liveConnections.find((c) => c.path === "/ws/chat/online-open")!.id;

    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await server.waitFor(() => pingsOn(openId) === 1, 2_000);

    server.liveConnections.find((c) => c.path === "/ws/chat/online-backoff")!.terminate();
    await waitInPage('app.states["online-backoff"].at(-1) === "reconnecting"');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stateOf("online-backoff")).toBe("reconnecting"); // waiting out ≥ 10 s
    const wokeAt = performance.now();
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await waitInPage('app.states["online-backoff"].at(-1) === "open"', 3_000);
    expect(performance.now() - wokeAt).toBeLessThan(3_000);
  });

  it("has one visibilitychange and one online listener per client, removed when its last socket closes", async () => {
    const count = () =>
      inPage((w) => ({ visibilitychange: w.__probe.listeners.visibilitychange.size, online: w.__probe.listeners.online.size }));
    expect(await count()).toEqual({ visibilitychange: 0, online: 0 });
    await openInPage("listeners-a");
    await openInPage("listeners-b");
    expect(await count()).toEqual({ visibilitychange: 1, online: 1 });
    await page.evaluate(() => (window as unknown as PageWindow).app.sockets["listeners-a"]!.close());
    await waitInPage('app.states["listeners-a"].at(-1) === "closed"');
    expect(await count()).toEqual({ visibilitychange: 1, online: 1 });
    await page.evaluate(() => (window as unknown as { client: { websocket: { closeAll(): void } } }).client.websocket.closeAll());
    await waitInPage('app.states["listeners-b"].at(-1) === "closed"');
    expect(await count()).toEqual({ visibilitychange: 0, online: 0 });
    // A wake-up after close does nothing.
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.liveConnections).toHaveLength(0);
  });
});
