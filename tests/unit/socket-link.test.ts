import { describe, expect, it, vi } from "vitest";
import { SocketLink, type SocketEnvironment } from "../../machines/connection.socket";
import type { ConnectionContext, SocketPort } from "../../machines/connection.types";
import { PING_FRAME, PONG_FRAME } from "../../machines/protocol";
import { FakeWebSocket } from "../support/fake-socket";

/** A WebSocket that only records what it is sent; the test fires its handlers. */
class FakeSocket extends FakeWebSocket {
  static created: FakeSocket[] = [];
  readonly sent: unknown[] = [];
  constructor(url: string) {
    super(url);
    FakeSocket.created.push(this);
  }
  send(data: unknown): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(data: string): void {
    this.onmessage?.({ data });
  }
}

/**
 * A link with a recording owner and port. Every step of a test runs in one task, as
 * frames of one TCP read do: no microtask runs between them.
 */
function linkUnderTest() {
  FakeSocket.created = [];
  // What the machine heard and what was delivered, in one log: the order between them counts.
  const events: string[] = [];
  const owner = { send: (event: { type: string }) => events.push(event.type), subscribe: () => undefined };
  const port: SocketPort = { opened: () => {}, message: (event) => events.push(`delivered ${event.data}`), detached: () => {} };
  const environment: SocketEnvironment = {
    WebSocket: FakeSocket as unknown as SocketEnvironment["WebSocket"],
    port,
    clock: { watch: () => {}, unwatch: () => {} },
  };
  const context = {
    wsUrl: "ws://127.0.0.1:1",
    path: "/x",
    attemptParams: undefined,
    settings: { heartbeatInterval: 1000, params: undefined },
    port,
  } as unknown as ConnectionContext;
  const link = new SocketLink();
  const open = () => {
    link.open(owner, environment, context, undefined);
    const socket = FakeSocket.created.at(-1)!;
    socket.open();
    return socket;
  };
  return { link, events, open };
}

describe("the socket link's inbound frames", () => {
  it("confirms before the first frame is delivered, hears a ping answered once, and never delivers a pong", () => {
    const { link, events, open } = linkUnderTest();
    const socket = open();
    socket.frame("a");
    socket.frame("b");
    link.ping();
    expect(socket.sent).toEqual([PING_FRAME]);
    socket.frame(PONG_FRAME);
    socket.frame("c");
    expect(events).toEqual(["socket.open", "socket.confirmed", "delivered a", "delivered b", "socket.alive", "delivered c"]);
  });

  it("hears a ping's answer that arrives in the same run of frames as the ping", () => {
    const { link, events, open } = linkUnderTest();
    const socket = open();
    socket.frame("a");
    link.ping();
    socket.frame("b");
    expect(events).toEqual(["socket.open", "socket.confirmed", "delivered a", "socket.alive", "delivered b"]);
  });

  it("confirms a new socket opened in the same run of frames as the last one's", () => {
    const { link, events, open } = linkUnderTest();
    open().frame("a");
    link.release();
    open().frame("b");
    expect(events).toEqual(["socket.open", "socket.confirmed", "delivered a", "socket.open", "socket.confirmed", "delivered b"]);
  });

  it("stamps the first frame of every run, not only of the first", async () => {
    vi.useFakeTimers({ toFake: ["Date", "performance"] });
    try {
      const { link, events, open } = linkUnderTest();
      const socket = open();
      socket.frame("a");
      await Promise.resolve(); // the run is over
      vi.advanceTimersByTime(900);
      socket.frame("b");
      vi.advanceTimersByTime(500);
      link.probe(1000);
      expect(events.at(-1)).toBe("socket.active");
    } finally {
      vi.useRealTimers();
    }
  });
});
