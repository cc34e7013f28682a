/**
 * What `onData` costs on the inbound path: the same flood of 100-byte JSON text frames
 * received by one sockstate socket with only an `onMessage` listener (no parsing), with an
 * `onData` listener (every frame parsed), with a zod or valibot `schema`, and with an
 * `eventId` and no `onData` listener. Self-contained: it forks its own server process,
 * which writes pre-framed bytes straight to the TCP socket so that the client is what is
 * measured.
 *
 *   npm run build && node --expose-gc --import tsx bench/data-throughput.ts [--frames 100000] [--rounds 5]
 *
 * Bursts of the variants are interleaved round by round; the fastest burst of each counts
 * (on a shared machine noise only ever slows a burst down), the median is shown beside it.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import WebSocket, { WebSocketServer } from "ws";
import { z } from "zod";
import { createClient, type SocketOptions } from "../dist/index.mjs";

const FRAME_BYTES = 100;
const FLOOD_PREFIX = "flood:";

/** Data frame `seq`: `{"seq":42,"type":"data","payload":"xxx…"}`, padded to FRAME_BYTES. */
function dataFrame(seq: number): string {
  const head = `{"seq":${seq},"type":"data","payload":"`;
  return head + "x".repeat(FRAME_BYTES - head.length - 2) + '"}';
}

// ── server process ───────────────────────────────────────────────────────────

function serve(): void {
  const floods = new Map<number, Buffer>();
  const preframed = (count: number): Buffer => {
    let bytes = floods.get(count);
    if (bytes) return bytes;
    bytes = Buffer.allocUnsafe(count * (FRAME_BYTES + 2));
    for (let seq = 0; seq < count; seq++) {
      const offset = seq * (FRAME_BYTES + 2);
      bytes[offset] = 0x81; // FIN, text
      bytes[offset + 1] = FRAME_BYTES; // unmasked, 7-bit length
      bytes.write(dataFrame(seq), offset + 2, "latin1");
    }
    floods.set(count, bytes);
    return bytes;
  };
  const wss = new WebSocketServer({ noServer: true });
  const http = createServer((req, res) => {
    // Every ticket request gets a ticket; the upgrade does not check it.
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ticket: randomUUID(), expiresAt: Date.now() + 30_000 }));
    });
  });
  http.on("upgrade", (req, socket: Socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("message", (data, isBinary) => {
        const text = data.toString();
        if (isBinary) return;
        if (text === '{"type":"ping"}') ws.send('{"type":"pong"}');
        else if (text.startsWith(FLOOD_PREFIX)) flood(socket, preframed(Number(text.slice(FLOOD_PREFIX.length))));
      });
      ws.on("error", () => {});
    });
  });
  const flood = (socket: Socket, bytes: Buffer): void => {
    const chunk = 640 * (FRAME_BYTES + 2);
    let offset = 0;
    const pump = (): void => {
      while (offset < bytes.length && !socket.destroyed) {
        const end = Math.min(bytes.length, offset + chunk);
        const flushed = socket.write(bytes.subarray(offset, end));
        offset = end;
        if (!flushed) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    pump();
  };
  http.listen(0, "127.0.0.1", () => {
    const address = http.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  });
  process.on("disconnect", () => process.exit(0));
}

// ── client (this process) ────────────────────────────────────────────────────

const zodFrame = z.object({ seq: z.number(), type: z.literal("data"), payload: z.string() });
const valibotFrame = v.object({ seq: v.number(), type: v.literal("data"), payload: v.string() });

interface Variant {
  name: string;
  options: SocketOptions;
  /** Subscribes the counting listener; returns nothing, the socket is closed after the burst. */
  listen(socket: ReturnType<ReturnType<typeof createClient>["websocket"]["open"]>, count: () => void): void;
}

const onMessage: Variant["listen"] = (socket, count) => {
  socket.onMessage.subscribe(count);
};
const onData: Variant["listen"] = (socket, count) => {
  socket.onData.subscribe(count);
};

const VARIANTS: Variant[] = [
  { name: "onMessage only (nothing parsed)", options: {}, listen: onMessage },
  { name: "onData, no schema", options: {}, listen: onData },
  { name: "onData, zod schema", options: { schema: zodFrame }, listen: onData },
  { name: "onData, valibot schema", options: { schema: valibotFrame }, listen: onData },
  { name: "eventId, onMessage listener only", options: { eventId: (data) => (data as { seq: number }).seq }, listen: onMessage },
];

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`--${name} must be a positive integer`);
  return value;
}

/** Wall-clock and CPU ms of one burst (CPU time is less disturbed by other processes). */
interface Burst {
  ms: number;
  cpuMs: number;
}

async function burst(client: ReturnType<typeof createClient>, variant: Variant, frames: number): Promise<Burst> {
  const socket = client.websocket.open("/bench", variant.options);
  await socket.ready;
  let received = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  variant.listen(socket, () => {
    received += 1;
    if (received === frames) finish();
  });
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  const cpu = process.cpuUsage();
  socket.send(`${FLOOD_PREFIX}${frames}`);
  await done;
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  socket.close();
  await new Promise<void>((resolve) => socket.onStateChange.subscribe((state) => state === "closed" && resolve()));
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

async function measure(): Promise<void> {
  const frames = argument("frames", 100_000);
  const rounds = argument("rounds", 5);
  const server = fork(fileURLToPath(import.meta.url), ["--server"], { execArgv: ["--import", "tsx"] });
  try {
    const port = await new Promise<number>((resolve) => server.once("message", (message: { port: number }) => resolve(message.port)));
    const client = createClient({ apiUrl: `http://127.0.0.1:${port}`, WebSocket, heartbeatInterval: 0 });
    await burst(client, VARIANTS[0]!, frames); // warm-up
    const times = VARIANTS.map(() => [] as Burst[]);
    for (let round = 0; round < rounds; round++) {
      for (const [index, variant] of VARIANTS.entries()) times[index]!.push(await burst(client, variant, frames));
    }
    const best = (list: number[]) => Math.min(...list);
    const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    const wall = (index: number) => times[index]!.map((b) => b.ms);
    const cpu = (index: number) => times[index]!.map((b) => b.cpuMs);
    console.log(`${frames} × ${FRAME_BYTES} B text frames, best of ${rounds} (median in brackets), Node ${process.version}\n`);
    console.log("| variant | frames/s | wall ms | client CPU ms | CPU vs onMessage only |");
    console.log("|---|---:|---:|---:|---:|");
    for (const [index, variant] of VARIANTS.entries()) {
      const ms = best(wall(index));
      const rate = Math.round((frames / ms) * 1000).toLocaleString("en-US");
      const cpuMs = best(cpu(index));
      console.log(
        `| ${variant.name} | ${rate} | ${ms.toFixed(1)} (${median(wall(index)).toFixed(1)}) | ${cpuMs.toFixed(1)} (${median(cpu(index)).toFixed(1)}) | ${(best(cpu(0)) / cpuMs).toFixed(2)}× |`,
      );
    }
    client.websocket.closeAll();
  } finally {
    server.disconnect();
  }
}

if (process.argv.includes("--server")) serve();
else await measure();
