/** Opens the example in headless Chromium, holds a short conversation and saves a PNG of it. */
import type { Page } from "playwright-core";
import { launchChromium } from "../../tests/support/chromium";
import type { ChatExample } from "./server";

/** Loopback only: anything else the page asks for is refused. */
export async function openChatPage(page: Page, example: ChatExample): Promise<void> {
  await page.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort()));
  await page.goto(example.url);
}

/** Types `text` into the send box and sends it with Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

export async function captureChat(example: ChatExample, path: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 720, height: 420 }, deviceScaleFactor: 1 });
    await openChatPage(page, example);
    await page.locator('[data-state="open"]').waitFor();
    example.announce("Welcome to #general. Messages here reach everyone in the chat.");
    await say(page, "Hi! Is the connection badge live?");
    example.announce("It is: the socket is open and confirmed by the server.", "ana");
    await say(page, "Great, and StrictMode opened one socket, not two.");
    await page.locator(".messages li").nth(3).waitFor();
    await page.screenshot({ path });
  } finally {
    await browser.close();
  }
}
