/**
 * Half-open connections over real TCP: a freezable proxy between the client and
 * the reference server stops forwarding both ways without closing anything. Only the
 * application-level heartbeat can notice; the client must close the dead link with 4000
 * within heartbeatInterval + heartbeatTimeout (plus a margin for a busy machine), and
 * reopen through the proxy with a fresh ticket once it thaws.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ClientOptions, createClient, type ManagedWebSocket, type WebSocketState } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { createTcpProxy, type TcpProxy } from "../support/tcp-proxy";
import { nextState } from "../support/reliability";
import { nextMessage, sleep } from "../support/wait";
import { PING_FRAME } from "../../machines/protocol";

const HEARTBEAT_INTERVAL = 500;
const HEARTBEAT_TIMEOUT = 500;
/** Scheduling slack on a shared 2-core machine; the detection itself is interval + timeout. */
const MARGIN = 500;

let server: ReferenceServer;
let proxy: TcpProxy;
let socket: ManagedWebSocket | undefined;

/** `ws`'s WebSocket, noting the code of every close the client starts. */
const clientCloses: Array<number | undefined> = [];
class RecordingWebSocket extends WebSocket {
  override close(code?: number, reason?: string | Buffer): void {
    clientCloses.push(code);
    super.close(code, reason);
  }
}

beforeEach(async () => {
  clientCloses.length = 0;
  server = await createReferenceServer();
  proxy = await createTcpProxy({ port: server.port });
});
afterEach(async () => {
  socket?.destroy();
  socket = undefined;
  await proxy.close();
  await server.close();
});

/** A chat socket whose tickets and frames all go through the proxy, with a short heartbeat. */
function connectThroughProxy(chatId: string, options: Partial<ClientOptions> = {}): Promise<ManagedWebSocket> {
  const client = createClient({
    apiUrl: proxy.url,
    WebSocket: RecordingWebSocket,
    heartbeatInterval: HEARTBEAT_INTERVAL,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    ...options,
  });
  return client.websocket.connectToChat(chatId);
}

describe("half-open connections over real TCP", () => {
  it("detects a frozen link by heartbeat, closes it with 4000, and reopens with a fresh ticket after the thaw", async () => {
    socket = await connectThroughProxy("half-open", { reconnectDelay: 100, maxReconnectDelay: 200, connectTimeout: 800 });
    const open = socket;
    // Traffic really goes through the proxy.
    const echoed = nextMessage(open);
    open.send("before the freeze");
    expect(await echoed).toBe("before the freeze");
    expect(proxy.acceptedCount).toBeGreaterThanOrEqual(1);
    const [firstConnection] = server.connections;

    const detected = nextState(open, "reconnecting", HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT + 5_000);
    const frozenAt = performance.now();
    proxy.freeze();
    const detectedAfter = (await detected) - frozenAt;
    console.info(`[half-open] dead link detected ${detectedAfter.toFixed(0)} ms after the freeze`);

    // A ping went out and a full timeout passed before the verdict, and not much more.
    expect(detectedAfter).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT - 20);
    expect(detectedAfter).toBeLessThanOrEqual(HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT + MARGIN);
    expect(clientCloses).toContain(4000);
    // Half-open indeed: the server never heard anything and still counts the link as live.
    expect(server.liveConnections.map((c) => c.id)).toEqual([firstConnection!.id]);

    // While frozen, attempts cannot get through: the socket keeps reconnecting.
    await sleep(600);
    expect(open.state).toBe("reconnecting");
    expect(server.connections).toHaveLength(1);

    const reopened = nextState(open, "open", 5_000);
    proxy.thaw();
    await reopened;

    // The held frames arrive: the ping, then the client's 4000 close of the dead link.
    await server.waitFor((s) => s.connections[0]!.closeCode === 4000 && s.liveConnections.length === 1, 5_000);
    expect(server.frames.filter((f) => f.connectionId === firstConnection!.id).map((f) => f.data)).toContain(PING_FRAME);
    const live = server.liveConnections[0]!;
    const record = server.connections.find((c) => c.id === live.id)!;
    expect(record.ticketValid).toBe(true);
    expect(record.ticket).not.toBe(firstConnection!.ticket);
    expect(server.ticketRequests.filter((r) => r.ticket === record.ticket)).toHaveLength(1);
    expect(server.connections.filter((c) => c.ticket === record.ticket)).toHaveLength(1);

    // And the new link carries data both ways through the proxy.
    const again = nextMessage(open);
    open.send("after the thaw");
    expect(await again).toBe("after the thaw");
  });

  it("never pings nor drops a link that is not frozen while the server keeps talking (control)", async () => {
    // Control: with traffic flowing the heartbeat never pings, so a freeze is the only
    // thing that makes the first test go red.
    socket = await connectThroughProxy("chatty");
    const path = server.liveConnections[0]!.path;
    const states: WebSocketState[] = [];
    socket.onStateChange.subscribe((state) => states.push(state));
    for (let i = 0; i < 5; i++) {
      server.broadcast(path, `tick ${i}`);
      await sleep(HEARTBEAT_INTERVAL / 2);
    }
    expect(states).toEqual([]);
    expect(server.frames.filter((f) => f.data === PING_FRAME)).toHaveLength(0);
    expect(clientCloses).toEqual([]);
  });
});
