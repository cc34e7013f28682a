/**
 * A new user's first mistakes over real HTTP and TCP on 127.0.0.1 (docs/protocol.md §2,
 * §4, §5, §7): the README's Quick Start run as a script against a wrong apiUrl, a wrong
 * apiUrl against the reference server, and a refused upgrade that must never show open.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClient, TicketError, type WebSocketState } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";

const root = join(import.meta.dirname, "../..");
let reference: ReferenceServer | undefined;
let httpServer: Server | undefined;
let scratch: string | undefined;

afterEach(async () => {
  await reference?.close();
  reference = undefined;
  await new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
  httpServer = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** An HTTP server on 127.0.0.1 that answers 404 to everything, like an apiUrl that is not the API. */
async function startNotFoundServer(): Promise<string> {
  httpServer = createServer((request, response) => {
    request.resume();
    response.writeHead(404, { "content-type": "text/html" }).end("<html><body>Not Found</body></html>");
  });
  await new Promise<void>((resolve) => httpServer!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
}

/** The ```ts blocks of README's "## Quick Start", up to and including the one under "### Connecting to a chat". */
function quickStartBlocks(): string[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Quick Start");
  const chat = readme.indexOf("\n### Connecting to a chat", start);
  if (start === -1 || chat === -1) throw new Error("README has no Quick Start / Connecting to a chat section");
  const firstAfterChat = readme.indexOf("```ts", chat);
  const end = readme.indexOf("```", firstAfterChat + 5) + 3;
  return [...readme.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

function run(file: string, timeoutMs: number): Promise<{ code: number | null; output: string; ms: number }> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - startedAt });
    });
  });
}

describe("the README Quick Start against a wrong apiUrl", () => {
  it("prints a TicketError naming the path and the status, and exits", async () => {
    const apiUrl = await startNotFoundServer();
    const blocks = quickStartBlocks();
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('apiUrl: "https://api.example.com"');
    const wsEntry = createRequire(join(root, "package.json")).resolve("ws");
    const source = [
      "const session = { token: \"quick-start-token\" };",
      "const thread = { id: \"room1\" };",
      ...blocks,
    ]
      .join("\n")
      .replace('"https://api.example.com"', JSON.stringify(apiUrl))
      .replace('from "sockstate"', `from ${JSON.stringify(pathToFileURL(join(root, "dist/index.mjs")).href)}`)
      .replace('from "ws"', `from ${JSON.stringify(pathToFileURL(wsEntry).href)}`);
    scratch = mkdtempSync(join(tmpdir(), "sockstate-quick-start-"));
    const file = join(scratch, "quick-start.mts");
    writeFileSync(file, source);

    const { code, output, ms } = await run(file, 30_000);
    expect(output).toMatch(/TicketError: ticket request for \/ws\/chat\/room1 failed: POST http:\/\/127\.0\.0\.1:\d+\/ws\/ticket answered 404/);
    expect(output).toContain("check apiUrl");
    expect(code).not.toBe(0);
    expect(code).not.toBeNull(); // exited on its own, not killed at the bound
    expect(ms).toBeLessThan(30_000);
  });
});

describe("over real sockets", () => {
  it("a wrong apiUrl rejects connectToChat with TicketError 404 within one round trip", async () => {
    reference = await createReferenceServer();
    const client = createClient({ apiUrl: `${reference.apiUrl}/v2`, WebSocket });
    const startedAt = performance.now();
    const error = await client.websocket.connectToChat("room1").catch((e: unknown) => e);
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(error).toBeInstanceOf(TicketError);
    expect(error).toMatchObject({ status: 404 });
    expect((error as Error).message).toContain("ticket request for /ws/chat/room1 failed:");
    expect(client.websocket.connectionCount).toBe(0);
  });

  it.each([4003, 4004, 1008])("an upgrade refused with %i never shows open", async (code) => {
    reference = await createReferenceServer();
    reference.refuseConnections(code, 1, "refused");
    const client = createClient({ apiUrl: reference.apiUrl, WebSocket });
    const socket = client.websocket.open("/ws/chat/room1");
    const states: WebSocketState[] = [];
    let everOpen = false;
    socket.onStateChange.subscribe((state) => {
      states.push(state);
      everOpen ||= socket.isOpen;
    });
    const error = await socket.ready.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ConnectionRejectedError", code });
    expect(states).toEqual(["closed"]);
    expect(everOpen).toBe(false);
  });

  it("an accepted upgrade is open once confirmed, and sends made meanwhile arrive once, in order", async () => {
    reference = await createReferenceServer();
    const client = createClient({ apiUrl: reference.apiUrl, WebSocket });
    const socket = client.websocket.open("/ws/chat/room1");
    socket.send("one");
    socket.send("two");
    await socket.ready;
    socket.send("three");
    const deadline = Date.now() + 5000;
    while (reference.frames.filter((frame) => frame.path === "/ws/chat/room1").length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(reference.frames.filter((frame) => frame.path === "/ws/chat/room1").map((frame) => String(frame.data))).toEqual([
      "one",
      "two",
      "three",
    ]);
    client.websocket.closeAll();
  });
});
