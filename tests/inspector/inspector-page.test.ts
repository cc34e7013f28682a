/**
 * The live inspector page in real headless Chromium (tests/support/chromium.ts):
 * the statechart drawn from the machine, the active state highlighted as a real
 * connection moves, the fault and command buttons wired to the reference server and
 * the socket. Screenshots go to test-results/inspector/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startInspectorPage, type InspectorPage } from "../../scripts/inspect-page/server";
import type { ObservedState, PageConfig } from "../../scripts/inspect-page/page.types";
import { launchChromium } from "../support/chromium";

const SCREENSHOTS = join(import.meta.dirname, "../../test-results/inspector");
/** Short heartbeat and backoff, so a stall plays out in about two seconds; waits allow several times that. */
const SOCKET_OPTIONS = { heartbeatInterval: 600, heartbeatTimeout: 1200, reconnectDelay: 200, maxReconnectDelay: 400 };
const WAIT = { timeout: 12_000 };

let browser: Browser;
let inspector: InspectorPage;
let page: Page;
/** Requests the page tried to make anywhere but the page server and the reference server. */
let edges: PageConfig["edges"];
const foreignRequests: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  [browser, inspector] = await Promise.all([launchChromium(), startInspectorPage({ socketOptions: SOCKET_OPTIONS })]);
  // One page for the whole file: loading mermaid and drawing the chart is the slow part.
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const allowed = [new URL(inspector.url).host, new URL(inspector.reference.apiUrl).host];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (allowed.includes(url.host)) return route.continue();
    foreignRequests.push(url.href);
    return route.abort();
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(inspector.url);
  await page.waitForFunction(() => window.sockstateInspector?.ready === true, null, WAIT);
  edges = ((await (await fetch(new URL("/config.json", inspector.url))).json()) as PageConfig).edges;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await inspector?.close();
});

beforeEach(async () => {
  // Each test starts from an open connection, whatever the previous one left.
  inspector.reference.reset();
  if (await page.evaluate(() => document.body.dataset.publicState === "closed")) await page.click("#reconnect");
  await page.waitForFunction(() => document.body.dataset.machineState === "socket.open.live", null, WAIT);
});

afterEach(() => {
  expect(foreignRequests).toEqual([]);
  expect(pageErrors).toEqual([]);
});

// ── helpers ───────────────────────────────────────────────────────────────────

function history(): Promise<ObservedState[]> {
  return page.evaluate(() => [...window.sockstateInspector.history]);
}

/** Waits until the page has seen `states` in this order, after history entry `from`; returns those entries. */
async function waitForSequence(from: number, states: string[]): Promise<ObservedState[]> {
  await page.waitForFunction(
    ({ from, states }) => {
      let next = 0;
      for (const entry of window.sockstateInspector.history.slice(from)) {
        if (entry.state === states[next]) next += 1;
        if (next === states.length) return true;
      }
      return false;
    },
    { from, states },
    WAIT,
  );
  const seen = (await history()).slice(from);
  const matched: ObservedState[] = [];
  for (const entry of seen) if (entry.state === states[matched.length]) matched.push(entry);
  return matched;
}

/** Diagram ids currently marked as the active state (atomic) in the SVG. */
function highlightedNodes(): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("#diagram g.node.is-active")].map((node) => node.id.replace(/^machine-state-(.+)-\d+$/, "$1")),
  );
}

async function press(selector: string): Promise<number> {
  const from = (await history()).length;
  await page.click(selector);
  return from;
}

/** The label the diagram shows on arrow `id`, from the page's config. */
function edgeLabel(id: string): string {
  const edge = edges.find((candidate) => candidate.id === id);
  if (!edge) throw new Error(`no arrow ${id}`);
  return edge.label;
}

/** The source state of arrow `id`. */
function edgeSource(id: string): string | undefined {
  return edges.find((candidate) => candidate.id === id)?.from;
}

function logLines(): Promise<string[]> {
  return page.$$eval("#log li", (items) => items.map((item) => item.textContent ?? ""));
}

// ── tests ─────────────────────────────────────────────────────────────────────

describe("the inspector page", () => {
  it("draws the statechart from the machine and highlights the open connection", async () => {
    const labels = await page.$$eval("#diagram svg tspan", (spans) => spans.map((span) => span.textContent?.trim()));
    for (const name of ["ticket", "authorizing", "requesting", "handshake", "confirming", "live", "probing", "awaitingPong", "dropping", "closing", "backoff", "closed"]) {
      expect(labels).toContain(name);
    }
    await page.waitForFunction(() => document.querySelector("#diagram g.node.is-active")?.id.includes("-socket_open_"), null, WAIT);
    expect((await highlightedNodes())[0]).toMatch(/^socket_open_(live|probing|awaitingPong)$/);
    expect(await page.textContent("#public-state")).toBe("open");
    expect(await page.textContent("#socket-key")).toBe("chat:demo");
    const first = (await history())[0]!;
    expect(first).toMatchObject({
      state: "ticket.authorizing",
      publicState: "connecting",
      event: "xstate.init",
      highlighted: ["ticket", "ticket_authorizing"],
    });
  });

  it("follows a stall through the heartbeat timeout to reconnecting and back to open", async () => {
    const from = await press('button[data-fault="stall"]');

    const [awaiting, dropping, backoff, ticket, open] = await waitForSequence(from, [
      "socket.open.awaitingPong",
      "socket.dropping",
      "backoff",
      "ticket.authorizing",
      "socket.open.live",
    ]);
    expect(awaiting!.highlighted).toEqual(["socket", "socket_open", "socket_open_awaitingPong"]);
    expect(dropping).toMatchObject({ event: "after heartbeatTimeout", publicState: "open", highlighted: ["socket", "socket_dropping"] });
    // The arrow taken is lit: awaitingPong --after heartbeatTimeout--> dropping.
    expect(dropping!.edges.map(edgeLabel)).toEqual(["after heartbeatTimeout"]);
    expect(backoff!.edges.map(edgeLabel)).toEqual(["socket.closed", "always [canRetry]"]);
    expect(backoff!.edges.map(edgeSource)).toEqual(["socket.dropping", "lost"]);
    expect(backoff).toMatchObject({ publicState: "reconnecting", highlighted: ["backoff"] });
    expect(ticket).toMatchObject({ event: "after retryDelay", publicState: "reconnecting" });
    expect(open).toMatchObject({ publicState: "open", highlighted: ["socket", "socket_open", "socket_open_live"] });
    // The heartbeat timeout took at least heartbeatTimeout after the ping.
    expect(dropping!.at - awaiting!.at).toBeGreaterThanOrEqual(SOCKET_OPTIONS.heartbeatTimeout - 50);

    await page.waitForFunction(() => document.body.dataset.publicState === "open", null, WAIT);
    expect(await logLines()).toEqual(
      expect.arrayContaining([expect.stringContaining("after heartbeatTimeout → socket.dropping  (open)")]),
    );
    await page.screenshot({ path: join(SCREENSHOTS, "stall-recovered.png") });
  });

  it("sends, closes and reconnects the socket from the command buttons", async () => {
    await page.fill("#message", "ping from the page");
    await page.click("#send");
    await page.waitForFunction(
      () => [...document.querySelectorAll('#log li[data-kind="message"]')].some((li) => li.textContent?.includes("← ping from the page")),
      null,
      WAIT,
    );

    const closing = await press("#close");
    await waitForSequence(closing, ["socket.closing", "closed"]);
    await page.waitForFunction(() => document.body.dataset.publicState === "closed", null, WAIT);
    expect(await highlightedNodes()).toEqual(["closed"]);

    const reconnecting = await press("#reconnect");
    const [ticket] = await waitForSequence(reconnecting, ["ticket.authorizing", "socket.handshake", "socket.open.live"]);
    expect(ticket).toMatchObject({ publicState: "connecting", event: "xstate.init" });
    expect(ticket!.generation).toBeGreaterThan(closing === 0 ? 0 : (await history())[closing - 1]!.generation);
    await page.screenshot({ path: join(SCREENSHOTS, "reconnected.png") });
  });

  it("triggers the reference server's faults from the fault buttons", async () => {
    const { reference } = inspector;

    const dropped = await press('button[data-fault="drop"]');
    const [lost] = await waitForSequence(dropped, ["backoff", "ticket.authorizing", "socket.open.live"]);
    expect(lost!.event).toBe("socket.closed");
    expect(await logLines()).toEqual(expect.arrayContaining([expect.stringContaining("dropAll(): 1 connection(s) dropped (1006)")]));

    const rejected = await press('button[data-fault="rejectTicket"]');
    const [refreshed] = await waitForSequence(rejected, ["ticket.authorizing", "socket.open.live"]);
    expect(refreshed).toMatchObject({ event: "socket.closed", publicState: "reconnecting" });
    // through `refreshing` and `starting`, no backoff
    expect(refreshed!.edges.map(edgeLabel)).toEqual(["socket.closed [isTicketRejected]", "always [canRetry]", "always"]);
    expect(reference.connections.some((connection) => connection.closeCode === 4001)).toBe(true);

    const outage = await press('button[data-fault="ticketOutage"]');
    await waitForSequence(outage, ["backoff", "ticket.authorizing", "backoff", "ticket.authorizing", "socket.open.live"]);
    expect(reference.ticketRequests.filter((request) => request.status === 503)).toHaveLength(2);

    const restarted = await press('button[data-fault="restart"]');
    await waitForSequence(restarted, ["backoff", "ticket.authorizing", "socket.open.live"]);

    const forbidden = await press('button[data-fault="forbid"]');
    const [closed] = await waitForSequence(forbidden, ["closed"]);
    expect(closed!.publicState).toBe("closed");
    expect(await logLines()).toEqual(expect.arrayContaining([expect.stringContaining("ConnectionRejectedError")]));
  });
});
