/**
 * What the socket link's inbound clock stamp costs in a browser, where every frame is a
 * task of its own (in Node, `ws` hands over a whole TCP read in one task, and the stamp is
 * read once per run of frames). Not part of `npm run bench`; run it by hand:
 *
 *   node --import tsx bench/browser-stamp.ts [frames=50000] [rounds=11] [--cdp]
 *
 * A pre-framed flood of ~100-byte text frames goes into headless Chromium (CHROMIUM_PATH,
 * else /usr/bin/chromium, else @sparticuz/chromium) on 127.0.0.1, interleaved round after round, into handlers
 * that differ only in the stamp:
 *   bare:  compare with the pong, count;
 *   stamp: + `Date.now()`, `performance.now()` and `queueMicrotask` once per task (what the
 *          socket link does);
 *   now:   + `Date.now()` on every frame.
 * It prints per-mode medians and the ratio bare/mode per round. By default chromium runs
 * as a plain process and the page posts its timings back (no DevTools protocol attached);
 * `--cdp` drives it through playwright-core instead, as the browser tests do.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { PONG_FRAME } from "../machines/protocol";
import { findChromium, launchChromium } from "../tests/support/chromium";
import { median, withTimeout } from "./stats";

const [frames = 50_000, rounds = 11] = process.argv.slice(2).filter((arg) => !arg.startsWith("--")).map(Number);
const CDP = process.argv.includes("--cdp");
const MODES = ["bare", "stamp", "now"] as const;
/** Generous: ~140 µs a frame over the DevTools protocol, three modes, warm-up included. */
const RUN_TIMEOUT = 60_000 + frames * (rounds + 1) * 3 * 0.5;

const browserBinary = await findChromium();

/** `count` unmasked text frames of 100 bytes each, as one buffer. */
function flood(count: number): Buffer {
  const chunks: Buffer[] = [];
  for (let seq = 0; seq < count; seq++) {
    const payload = Buffer.from(JSON.stringify({ type: "data", seq }).padEnd(100, " "));
    chunks.push(Buffer.from([0x81, payload.length]), payload);
  }
  return Buffer.concat(chunks);
}

const bytes = flood(frames);
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (ws) => {
  ws.on("message", () => (ws as unknown as { _socket: Socket })._socket.write(bytes));
});
await new Promise((resolve) => wss.once("listening", resolve));
const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;

/** The page: `run(mode)` opens a socket, asks for the flood and resolves with the ms until the last frame. */
const page = `<!doctype html><script>
const PONG = ${JSON.stringify(PONG_FRAME)};
const FRAMES = ${frames};
window.run = (mode) => new Promise((resolve) => {
  const ws = new WebSocket(${JSON.stringify(wsUrl)});
  let count = 0, stamped = false, last = 0, lastMono = 0, start = 0;
  const unstamp = () => { stamped = false; };
  const done = () => { const ms = performance.now() - start; ws.close(); resolve(ms); };
  ws.onmessage = {
    bare: (e) => { if (e.data === PONG) return; if (++count === FRAMES) done(); },
    stamp: (e) => { if (!stamped) { stamped = true; last = Date.now(); lastMono = performance.now(); queueMicrotask(unstamp); } if (e.data === PONG) return; if (++count === FRAMES) done(); },
    now: (e) => { last = Date.now(); if (e.data === PONG) return; if (++count === FRAMES) done(); },
  }[mode];
  ws.onopen = () => { start = performance.now(); ws.send("go"); };
});
window.runAll = async () => {
  const modes = ${JSON.stringify(MODES)};
  for (const mode of modes) await run(mode); // warm-up
  const times = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let round = 0; round < ${rounds}; round++) {
    for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) times[mode].push(await run(mode));
  }
  return times;
};
${CDP ? "" : 'runAll().then((times) => fetch("/result", { method: "POST", body: JSON.stringify(times) }));'}
</script>`;

let report!: (times: string) => void;
const reported = new Promise<string>((resolve) => (report = resolve));
const http = createServer((req, res) => {
  if (req.method !== "POST") return void res.writeHead(200, { "Content-Type": "text/html" }).end(page);
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk.toString()));
  req.on("end", () => {
    res.end();
    report(body);
  });
});
await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
const pageUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;

let times: Record<string, number[]>;
try {
  if (CDP) {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      const all = tab.evaluate(() => (window as unknown as { runAll(): Promise<unknown> }).runAll());
      times = (await withTimeout(all, RUN_TIMEOUT, "the rounds in chromium")) as Record<string, number[]>;
    } finally {
      await browser.close();
    }
  } else {
    const profile = join(tmpdir(), `sockstate-browser-stamp-${process.pid}`);
    const chromium = spawn(browserBinary.executablePath, [...browserBinary.args, `--user-data-dir=${profile}`, pageUrl], {
      stdio: "ignore",
    });
    try {
      times = JSON.parse(await withTimeout(reported, RUN_TIMEOUT, "the rounds in chromium")) as Record<string, number[]>;
    } finally {
      chromium.kill("SIGKILL");
      rmSync(profile, { recursive: true, force: true });
    }
  }
} finally {
  http.close();
  wss.close();
}

console.log(`${frames} frames per burst, ${rounds} rounds, chromium ${CDP ? "driven over the DevTools protocol" : "without DevTools attached"}`);
for (const mode of MODES) {
  const ratios = times[mode]!.map((ms, round) => times.bare![round]! / ms);
  console.log(
    `${mode.padEnd(5)} median ${median(times[mode]!).toFixed(0)} ms; bare/${mode} per round: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
  );
}
