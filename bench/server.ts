/**
 * The bench server, run in its own process (`bench/run.ts` forks it, pinned to its own
 * core where `taskset` exists). It speaks docs/protocol.md §5 — single-use tickets from
 * `POST {TICKET_PATH}` (the reference server's own `TicketStore`), ticketed upgrades,
 * `PING_FRAME` → `PONG_FRAME` — plus the bench scenarios of `protocol.ts`; it greets each
 * new connection with one frame unless the path asks for a silent server.
 *
 * Why not `createReferenceServer`: the inbound flood must cost the server next to
 * nothing, so that the client is what is measured. Here a flood is pre-framed bytes
 * written straight to the TCP socket, and the outbound sink checks sequence numbers on
 * raw bytes; the reference server records every frame and has no such path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { PING_FRAME, PONG_FRAME, TICKET_PATH, TICKET_REJECTED_CODE } from "../machines/protocol";
import { TicketStore, parseTarget, parseTicketBody } from "../src/testing/reference-server.utils";
import {
  type ClientControl,
  dataFrame,
  FRAME_BYTES,
  GREETING_FRAME,
  LOCAL_TICKET_PREFIX,
  OPEN_PREFIX,
  seqOfBytes,
  type ServerControl,
  type ServerReady,
  type ServerReply,
  type ServerRequest,
  SILENT_SEGMENT,
  TICKETED_PREFIX,
} from "./protocol";

const TICKET_TTL = 30_000;
/** Room for 5,000 clients connecting at once (the kernel caps it at `somaxconn`). */
const LISTEN_BACKLOG = 8192;
/** A flood is written in chunks of this many whole frames, honouring backpressure. */
const FRAMES_PER_CHUNK = 640;
/** Text frame, FIN, unmasked, 7-bit length: two header bytes. */
const FRAME_HEADER = [0x81, FRAME_BYTES] as const;

interface Sink {
  count: number;
  received: number;
  next: number;
  outOfOrder: number;
}

interface Connection {
  ws: WebSocket;
  socket: Socket;
  stalled: boolean;
  sink: Sink | undefined;
}

const tickets = new TicketStore();
const wss = new WebSocketServer({ noServer: true });
const connections = new Set<Connection>();
const floods = new Map<number, Buffer>();

/** `count` data frames, already framed for the wire; built once per count. */
function preframed(count: number): Buffer {
  let bytes = floods.get(count);
  if (bytes) return bytes;
  const frameLength = FRAME_HEADER.length + FRAME_BYTES;
  bytes = Buffer.allocUnsafe(count * frameLength);
  for (let seq = 0; seq < count; seq++) {
    const offset = seq * frameLength;
    bytes[offset] = FRAME_HEADER[0];
    bytes[offset + 1] = FRAME_HEADER[1];
    bytes.write(dataFrame(seq), offset + FRAME_HEADER.length, "latin1");
  }
  floods.set(count, bytes);
  return bytes;
}

function sendControl(connection: Connection, control: ServerControl): void {
  connection.ws.send(JSON.stringify(control));
}

function flood(connection: Connection, count: number): void {
  const bytes = preframed(count);
  const chunk = FRAMES_PER_CHUNK * (FRAME_HEADER.length + FRAME_BYTES);
  let offset = 0;
  const pump = (): void => {
    while (offset < bytes.length) {
      if (connection.stalled || connection.socket.destroyed) return;
      const end = Math.min(bytes.length, offset + chunk);
      const flushed = connection.socket.write(bytes.subarray(offset, end));
      offset = end;
      if (!flushed) {
        connection.socket.once("drain", pump);
        return;
      }
    }
  };
  pump();
}

function receiveData(connection: Connection, seq: number): void {
  const sink = connection.sink;
  if (!sink) return;
  if (seq !== sink.next) sink.outOfOrder += 1;
  sink.next = seq + 1;
  sink.received += 1;
  if (sink.received === sink.count) {
    connection.sink = undefined;
    sendControl(connection, { type: "sink-done", count: sink.received, outOfOrder: sink.outOfOrder });
  }
}

function receiveControl(connection: Connection, control: ClientControl): void {
  switch (control.type) {
    case "flood":
      flood(connection, control.count);
      break;
    case "sink":
      connection.sink = { count: control.count, received: 0, next: 0, outOfOrder: 0 };
      break;
    case "stall":
      sendControl(connection, { type: "stalling" });
      connection.stalled = true;
      connection.socket.pause();
      break;
    case "drop":
      connection.socket.destroy();
      break;
  }
}

function accept(ws: WebSocket, socket: Socket, greet: boolean): void {
  const connection: Connection = { ws, socket, stalled: false, sink: undefined };
  connections.add(connection);
  if (greet) ws.send(GREETING_FRAME);
  ws.on("error", () => {});
  ws.on("close", () => connections.delete(connection));
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (connection.stalled || isBinary) return;
    const seq = seqOfBytes(data);
    if (seq >= 0) {
      receiveData(connection, seq);
      return;
    }
    const text = data.toString("utf8");
    if (text === PING_FRAME) ws.send(PONG_FRAME);
    else receiveControl(connection, JSON.parse(text) as ClientControl);
  });
}

function answerTicket(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = parseTicketBody(Buffer.concat(chunks).toString("utf8"));
    const [status, payload] = body.ok ? [200, tickets.issue(body.path, TICKET_TTL)] : [400, { error: body.error }];
    const text = JSON.stringify(payload);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
  });
}

const http = createServer((req, res) => {
  if (req.method === "POST" && parseTarget(req.url ?? "/").path === TICKET_PATH) answerTicket(req, res);
  else res.writeHead(404).end();
});

http.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
  const { path, query } = parseTarget(req.url ?? "/");
  const prefix = [TICKETED_PREFIX, LOCAL_TICKET_PREFIX, OPEN_PREFIX].find((candidate) => path.startsWith(candidate));
  if (prefix === undefined) {
    socket.destroy();
    return;
  }
  const greet = !path.startsWith(SILENT_SEGMENT, prefix.length);
  wss.handleUpgrade(req, socket, head, (ws) => {
    const refused =
      prefix === TICKETED_PREFIX ? tickets.redeem(query.ticket, path) !== "valid" : prefix === LOCAL_TICKET_PREFIX && !query.ticket;
    if (refused) ws.close(TICKET_REJECTED_CODE, "ticket rejected");
    else accept(ws, socket, greet);
  });
});

function answer(request: ServerRequest): unknown {
  switch (request.cmd) {
    case "connections":
      return connections.size;
    case "destroy-stalled": {
      let destroyed = 0;
      for (const connection of connections) {
        if (!connection.stalled) continue;
        connection.socket.destroy();
        destroyed += 1;
      }
      return destroyed;
    }
    case "cpu":
      return process.cpuUsage();
  }
}

process.on("message", (request: ServerRequest) => {
  const reply: ServerReply = { id: request.id, result: answer(request) };
  process.send?.(reply);
});
// The parent owns this process: when it goes, so do we.
process.on("disconnect", () => process.exit(0));

http.listen({ host: "127.0.0.1", port: 0, backlog: LISTEN_BACKLOG }, () => {
  const address = http.address();
  const ready: ServerReady = { type: "ready", port: typeof address === "object" && address ? address.port : 0 };
  process.send?.(ready);
});
