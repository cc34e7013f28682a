/**
 * The React chat example (examples/react-chat) in headless Chromium against the reference
 * server: the page's own WebSocket and fetch, React 19 in StrictMode, sockstate/react.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openChatPage, say } from "../../examples/react-chat/screenshot";
import { type ChatExample, startChatExample } from "../../examples/react-chat/server";
import { launchChromium } from "../support/chromium";

let browser: Browser;
let example: ChatExample;
let page: Page;
let problems: string[];

beforeAll(async () => {
  [browser, example] = await Promise.all([launchChromium(), startChatExample()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await example?.close();
});

beforeEach(async () => {
  example.server.reset();
  problems = [];
  page = await browser.newPage({ viewport: { width: 720, height: 420 } });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
  });
  await openChatPage(page, example);
  // Every state the badge shows, in order, from the first render on.
  await page.evaluate(() => {
    const w = window as unknown as { __badge: string[] };
    w.__badge = [];
    const record = () => {
      const state = document.querySelector("[data-testid=badge]")?.getAttribute("data-state");
      if (state && state !== w.__badge.at(-1)) w.__badge.push(state);
    };
    record();
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
  });
  await page.locator('[data-state="open"]').waitFor({ timeout: 10_000 });
});
afterEach(async () => {
  await page?.close();
  expect(problems).toEqual([]);
});

const texts = () => page.locator(".messages li .text").allTextContents();
const badgeHistory = () => page.evaluate(() => (window as unknown as { __badge: string[] }).__badge);

describe("the React chat example", () => {
  it("connects once under StrictMode, receives and sends", async () => {
    expect(example.server.ticketRequests).toHaveLength(1);
    expect(example.server.connections).toHaveLength(1);

    example.announce("hello from the server");
    await page.getByText("hello from the server").waitFor();

    await say(page, "hello from the page");
    await page.getByText("hello from the page").waitFor();
    const sent = example.server.frames.map((frame) => JSON.parse(String(frame.data)) as { text?: string });
    expect(sent).toContainEqual({ type: "say", author: "you", text: "hello from the page" });
    expect(await texts()).toEqual(["hello from the server", "hello from the page"]);
    expect(await page.getByLabel("Message").inputValue()).toBe("");
  });

  it("shows reconnecting and then open again when the server drops every connection", async () => {
    example.server.dropAll();
    await page.waitForFunction(
      () => (window as unknown as { __badge: string[] }).__badge.join(" ").endsWith("open reconnecting open"),
      undefined,
      { timeout: 10_000 },
    );
    expect(await badgeHistory()).toEqual(["connecting", "open", "reconnecting", "open"]);

    // And the chat works on the new connection.
    await say(page, "still here");
    await page.getByText("still here").waitFor();
  });

  it("shows all 500 frames of a burst, in order", async () => {
    const burst = Array.from({ length: 500 }, (_, n) => `burst ${n}`);
    for (const text of burst) example.announce(text);
    await page.waitForFunction(() => document.querySelectorAll(".messages li").length === 500, undefined, { timeout: 10_000 });
    expect(await texts()).toEqual(burst);
  });

  it("saves a screenshot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sockstate-react-"));
    try {
      example.announce("a message for the picture");
      await page.getByText("a message for the picture").waitFor();
      const path = join(dir, "react-chat.png");
      await page.screenshot({ path });
      const png = await readFile(path);
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.length).toBeGreaterThan(5_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
