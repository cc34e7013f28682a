/**
 * `npm run demo` against "another backend" (`--api-url`): here a reference server this
 * test starts, standing in for a developer's own. The full fault tour (no flags) runs
 * in `.ci/run` as `npm run demo`.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";

const root = join(import.meta.dirname, "../..");
let server: ReferenceServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function runDemo(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts", ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("npm run demo -- --api-url", () => {
  it("connects, sends, receives and closes against another server, skipping the fault steps", async () => {
    server = await createReferenceServer({ token: "their-token" });
    const { code, output } = await runDemo(["--api-url", server.apiUrl, "--ws-url", server.wsUrl, "--token", "their-token"]);

    expect(output).toContain("every step behaved as docs/protocol.md says: 3 passed, 7 skipped");
    expect(output).toMatch(/chat: sent a ping with send\(\), the server answered with a pong/);
    expect(output).toMatch(/skipped: needs the embedded reference server's fault controls/);
    expect(code).toBe(0);
    expect(server.ticketRequests.every((request) => request.authorization === "Bearer their-token")).toBe(true);
    expect(server.connections.map((connection) => connection.path).sort()).toEqual([
      "/ws/chat/demo-thread",
      "/ws/workspaces/demo-workspace/transcripts/demo-transcript",
    ]);
    expect(server.connections.every((connection) => connection.closeCode === 1000)).toBe(true);
  });

  it("exits non-zero, saying why, when the backend refuses the token", async () => {
    server = await createReferenceServer({ token: "their-token" });
    const { code, output } = await runDemo(["--api-url", server.apiUrl, "--token", "wrong"]);

    expect(output).toMatch(/connect rejected with TicketError 401.*check --token/);
    expect(output).toContain("a step did not behave as docs/protocol.md says");
    expect(code).toBe(1);
  });
});
