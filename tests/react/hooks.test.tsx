/**
 * The React bindings against the reference server on loopback: one socket per key for
 * every component that uses it, StrictMode-safe, state through useSyncExternalStore, and
 * a message list that keeps every frame of a burst.
 */
import { act, render, screen, waitFor } from "@testing-library/react";
import { useEffect, useState } from "react";
import { type } from "arktype";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConnectionRejectedError, type ManagedWebSocket, TicketError, type WebSocketState } from "../../src/index";
import { useSocket, useSocketState, useTranscriptSocket } from "../../src/react/index";
import { ChatView, QUIET, type RenderRecord, serveEachTest, sleep, withClient } from "./support";

const WAIT = { timeout: 5_000 };

const env = serveEachTest();

const shown = (chatId: string) => screen.getByTestId(`state-${chatId}`).textContent;
const messagesOf = (chatId: string) => [...screen.getByTestId(`messages-${chatId}`).querySelectorAll("li")].map((li) => li.textContent);
const waitForState = (chatId: string, state: WebSocketState) => waitFor(() => expect(shown(chatId)).toBe(state), WAIT);
/** Long enough for a second socket or ticket request, had one been started, to reach the env.server. */
const settle = () => act(() => sleep(150));

describe("one socket per key", () => {
  it("opens exactly one WebSocket and asks for one ticket under StrictMode", async () => {
    const renders: RenderRecord[] = [];
    render(withClient(env.test.client, <ChatView chatId="a" renders={renders} />, true));
    await waitForState("a", "open");
    await settle();

    expect(new Set(renders.map((record) => record.socket).filter(Boolean)).size).toBe(1);
    expect(env.test.ticketCalls).toHaveLength(1);
    expect(env.test.sockets).toHaveLength(1);
    expect(env.server.ticketRequests).toHaveLength(1);
    expect(env.server.liveConnections).toHaveLength(1);
    expect(env.test.client.websocket.connectionCount).toBe(1);
  });

  it("keeps the open socket when one component replaces another for the same chat in one commit", async () => {
    const renders: RenderRecord[] = [];
    const view = render(withClient(env.test.client, <ChatView key="list" chatId="a" renders={renders} />));
    await waitForState("a", "open");
    const socket = renders.at(-1)!.socket!;

    // A new React key: the old view unmounts and the new one mounts in the same commit.
    view.rerender(withClient(env.test.client, <ChatView key="detail" chatId="a" renders={renders} />));
    await waitForState("a", "open");
    await settle();
    expect(renders.at(-1)!.socket).toBe(socket);
    expect(socket.state).toBe("open");
    expect(env.test.sockets).toHaveLength(1);
    expect(env.test.ticketCalls).toHaveLength(1);
  });

  it("shares the socket between two components of the same chat until the last one leaves", async () => {
    const first: RenderRecord[] = [];
    const second: RenderRecord[] = [];
    function Two({ showFirst, showSecond }: { showFirst: boolean; showSecond: boolean }) {
      return (
        <>
          {showFirst && <ChatView chatId="a" renders={first} />}
          {showSecond && (
            <div>
              <ChatView chatId="a" renders={second} />
            </div>
          )}
        </>
      );
    }
    const view = render(withClient(env.test.client, <Two showFirst showSecond />));
    await waitFor(() => expect(screen.getAllByText("open")).toHaveLength(2), WAIT);
    const socket = first.at(-1)!.socket!;
    expect(second.at(-1)!.socket).toBe(socket);
    expect(env.test.sockets).toHaveLength(1);

    view.rerender(withClient(env.test.client, <Two showFirst={false} showSecond />));
    await settle();
    expect(socket.state).toBe("open");
    expect(env.server.liveConnections).toHaveLength(1);
    expect(shown("a")).toBe("open");

    view.rerender(withClient(env.test.client, <Two showFirst={false} showSecond={false} />));
    await waitFor(() => expect(socket.state).toBe("closed"), WAIT);
    await env.server.waitFor((s) => s.liveConnections.length === 0);
    expect(env.test.sockets).toHaveLength(1);
    expect(env.test.client.websocket.connectionCount).toBe(0);
  });

  it("gives a later component the socket the first one opened, with the first one's options", async () => {
    const renders: RenderRecord[] = [];
    const view = render(withClient(env.test.client, <ChatView chatId="a" options={{ params: { who: "first" } }} renders={renders} />));
    await waitForState("a", "open");
    view.rerender(
      withClient(
        env.test.client,
        <>
          <ChatView chatId="a" options={{ params: { who: "first" } }} />
          <ChatView chatId="a" options={{ params: { who: "second" } }} renders={renders} />
        </>,
      ),
    );
    await waitFor(() => expect(screen.getAllByText("open")).toHaveLength(2), WAIT);
    await settle();
    expect(env.test.sockets).toHaveLength(1);
    expect(env.server.connections.map((connection) => connection.query.who)).toEqual(["first"]);
  });

  it("opens a new socket when the key changes and releases the old one", async () => {
    const renders: RenderRecord[] = [];
    const view = render(withClient(env.test.client, <ChatView chatId="a" renders={renders} />));
    await waitForState("a", "open");
    const old = renders.at(-1)!.socket!;

    const before = renders.length;
    view.rerender(withClient(env.test.client, <ChatView chatId="b" renders={renders} />));
    // The first render of chat b shows no socket yet, not chat a's.
    expect(renders[before]!.socket).toBeUndefined();
    expect(renders[before]!.shown).toBe("connecting");
    await waitForState("b", "open");
    await waitFor(() => expect(old.state).toBe("closed"), WAIT);

    const current = renders.at(-1)!.socket!;
    expect(current).not.toBe(old);
    expect(current.key).toBe("chat:b");
    expect(env.test.sockets).toHaveLength(2);
    await env.server.waitFor((s) => s.liveConnections.length === 1 && s.liveConnections[0]!.path === "/ws/chat/b");
  });

  it("keys useTranscriptSocket and useSocket like the manager does", async () => {
    const seen: Record<string, ManagedWebSocket | undefined> = {};
    function Both() {
      seen.transcript = useTranscriptSocket("w 1", "t/2").socket;
      seen.raw = useSocket("/ws/custom", undefined, "custom").socket;
      return null;
    }
    render(withClient(env.test.client, <Both />));
    await waitFor(() => expect(seen.transcript?.state === "open" && seen.raw?.state === "open").toBe(true), WAIT);
    expect(seen.transcript!.key).toBe("transcript:w 1/t/2");
    expect(seen.raw!.key).toBe("custom");
    expect(env.server.connections.map((connection) => connection.path).sort()).toEqual(["/ws/custom", "/ws/workspaces/w%201/transcripts/t%2F2"]);
  });
});

describe("one socket per key, after it closed", () => {
  it("keeps every user of a key on the same socket after closeAll(), and opens a new one once they left", async () => {
    const first: RenderRecord[] = [];
    const second: RenderRecord[] = [];
    function Views({ second: showSecond, remount }: { second: boolean; remount: number }) {
      return (
        <div key={remount}>
          <ChatView chatId="a" renders={first} />
          {showSecond && <ChatView chatId="a" renders={second} />}
        </div>
      );
    }
    const view = render(withClient(env.test.client, <Views second={false} remount={0} />));
    await waitForState("a", "open");
    const socket = first.at(-1)!.socket!;
    act(() => env.test.client.websocket.closeAll());
    await waitForState("a", "closed");

    // A second component of the same chat joins while the first still shows the closed socket.
    view.rerender(withClient(env.test.client, <Views second remount={0} />));
    await settle();
    expect(second.at(-1)!.socket).toBe(socket);
    expect(screen.getAllByText("closed")).toHaveLength(2);
    expect(env.test.sockets).toHaveLength(1);

    // Once every user has left, the key opens afresh.
    view.rerender(withClient(env.test.client, <Views second={false} remount={1} />));
    await waitForState("a", "open");
    expect(first.at(-1)!.socket).not.toBe(socket);
    expect(env.test.sockets).toHaveLength(2);
  });
});

describe("schemas in hook options", () => {
  it.each([
    ["zod", z.object({ n: z.number() })],
    ["arktype (a callable schema)", type({ n: "number" })],
  ])("opens with a %s schema and delivers its values", async (_, schema) => {
    const renders: RenderRecord[] = [];
    render(withClient(env.test.client, <ChatView chatId="a" options={{ schema }} renders={renders} />));
    await waitForState("a", "open");
    act(() => void env.server.broadcast("/ws/chat/a", { n: 1 }));
    await waitFor(() => expect(messagesOf("a")).toEqual(['{"n":1}']), WAIT);
  });
});

describe("enabled", () => {
  it("opens nothing while disabled, shows closed, and connects once enabled", async () => {
    const view = render(withClient(env.test.client, <ChatView chatId="a" options={{ enabled: false }} />));
    expect(shown("a")).toBe("closed");
    await settle();
    expect(env.test.sockets).toHaveLength(0);
    expect(env.server.ticketRequests).toHaveLength(0);

    view.rerender(withClient(env.test.client, <ChatView chatId="a" options={{ enabled: true }} />));
    await waitForState("a", "open");
    expect(env.test.sockets).toHaveLength(1);
  });

  it("releases the socket when its only user disables it", async () => {
    const renders: RenderRecord[] = [];
    const view = render(withClient(env.test.client, <ChatView chatId="a" renders={renders} />));
    await waitForState("a", "open");
    const socket = renders.at(-1)!.socket!;

    view.rerender(withClient(env.test.client, <ChatView chatId="a" options={{ enabled: false }} renders={renders} />));
    expect(shown("a")).toBe("closed");
    expect(renders.at(-1)!.socket).toBeUndefined();
    await waitFor(() => expect(socket.state).toBe("closed"), WAIT);
  });
});

describe("handlers and options of every render", () => {
  it("calls the latest handler and never reconnects for a new handler or options object", async () => {
    const calls: Array<[render: number, data: string]> = [];
    function Chat() {
      const [count, setCount] = useState(0);
      // New options, handler and debug function on every render.
      useSocket("/ws/chat/a", {
        ...QUIET,
        debug: () => {},
        onMessage: (event) => {
          calls.push([count, String(event.data)]);
          setCount((n) => n + 1);
        },
      });
      return <span data-testid="count">{count}</span>;
    }
    render(withClient(env.test.client, <Chat />, true));
    await env.server.waitFor((s) => s.liveConnections.length === 1);
    const [connection] = env.server.liveConnections;
    for (let n = 0; n < 5; n++) {
      connection!.send(`m${n}`);
      await waitFor(() => expect(screen.getByTestId("count").textContent).toBe(String(n + 1)), WAIT);
    }
    await settle();

    expect(calls).toEqual([0, 1, 2, 3, 4].map((n) => [n, `m${n}`]));
    expect(env.test.ticketCalls).toHaveLength(1);
    expect(env.test.sockets).toHaveLength(1);
    expect(env.server.ticketRequests).toHaveLength(1);
    expect(env.server.connections).toHaveLength(1);
  });

  it("passes onData the parsed value of every text frame", async () => {
    const values: unknown[] = [];
    function Chat() {
      useSocket("/ws/chat/a", { onData: (value) => values.push(value) });
      return null;
    }
    render(withClient(env.test.client, <Chat />));
    await env.server.waitFor((s) => s.liveConnections.length === 1);
    env.server.broadcast("/ws/chat/a", '{"n":1}');
    env.server.broadcast("/ws/chat/a", '{"n":2}');
    await waitFor(() => expect(values).toEqual([{ n: 1 }, { n: 2 }]), WAIT);
  });
});

describe("useMessages", () => {
  it("shows all 1,000 frames of a burst, in order", async () => {
    render(withClient(env.test.client, <ChatView chatId="a" limit={1000} />));
    await waitForState("a", "open");
    for (let n = 0; n < 1000; n++) env.server.broadcast("/ws/chat/a", JSON.stringify({ n }));

    const expected = Array.from({ length: 1000 }, (_, n) => JSON.stringify({ n }));
    await waitFor(() => expect(messagesOf("a")).toEqual(expected), WAIT);
  });

  it("keeps the last `limit` values (100 by default)", async () => {
    render(withClient(env.test.client, <ChatView chatId="a" />));
    await waitForState("a", "open");
    for (let n = 0; n < 250; n++) env.server.broadcast("/ws/chat/a", JSON.stringify(n));

    const expected = Array.from({ length: 100 }, (_, n) => String(150 + n));
    await waitFor(() => expect(messagesOf("a")).toEqual(expected), WAIT);
  });

  it("skips binary and non-JSON frames", async () => {
    render(withClient(env.test.client, <ChatView chatId="a" />));
    await waitForState("a", "open");
    env.server.broadcast("/ws/chat/a", "not json");
    env.server.broadcast("/ws/chat/a", new TextEncoder().encode('"binary"'));
    env.server.broadcast("/ws/chat/a", '"last"');

    await waitFor(() => expect(messagesOf("a")).toEqual(['"last"']), WAIT);
  });
});

describe("state", () => {
  it("every render shows the socket's state, through a drop and a close", async () => {
    const renders: RenderRecord[] = [];
    const emitted: WebSocketState[] = [];
    function Recorded() {
      const { socket } = useSocket("/ws/chat/a", undefined, "chat:a");
      useEffect(() => socket?.onStateChange.subscribe((state) => emitted.push(state)), [socket]);
      return <ChatView chatId="a" renders={renders} />;
    }
    render(withClient(env.test.client, <Recorded />));
    await waitForState("a", "open");
    const socket = renders.at(-1)!.socket!;

    env.server.dropAll();
    await waitForState("a", "reconnecting");
    await waitForState("a", "open");
    act(() => socket.close());
    await waitForState("a", "closed");

    // No render shows a state (or attempt) the socket no longer has.
    for (const record of renders.filter((r) => r.socket !== undefined)) {
      expect(record.shown).toBe(record.socketState);
      expect(record.attempt).toBe(record.socketAttempt);
    }
    expect(renders[0]!.shown).toBe("connecting");
    expect(emitted).toEqual(["open", "reconnecting", "open", "closing", "closed"]);
    const distinct = renders.map((r) => r.shown).filter((state, i, all) => state !== all[i - 1]);
    expect(distinct).toEqual(["connecting", ...emitted]);
    expect(renders.some((r) => r.shown === "reconnecting" && r.attempt >= 1)).toBe(true);
  });

  it("useSocketState follows a socket given to it", async () => {
    const socket = env.test.client.websocket.open("/ws/chat/x");
    function Badge({ of }: { of: ManagedWebSocket | undefined }) {
      const { state } = useSocketState(of);
      return <span data-testid="state-x">{state}</span>;
    }
    const view = render(<Badge of={undefined} />);
    expect(shown("x")).toBe("connecting");
    view.rerender(<Badge of={socket} />);
    await waitForState("x", "open");
    act(() => socket.close());
    await waitForState("x", "closed");
  });

  it("reports the last error, and clears it once open again", async () => {
    env.server.rejectTickets(500);
    const renders: RenderRecord[] = [];
    render(withClient(env.test.client, <ChatView chatId="a" renders={renders} />));
    await waitForState("a", "open");
    const errors = renders.map((r) => r.error);
    expect(errors.some((error) => error instanceof TicketError)).toBe(true);
    expect(renders.at(-1)!.error).toBeUndefined();
  });

  it("keeps a terminal error with the closed state", async () => {
    env.server.refuseConnections(4003);
    const renders: RenderRecord[] = [];
    render(withClient(env.test.client, <ChatView chatId="a" renders={renders} />));
    await waitForState("a", "closed");
    await waitFor(() => expect(renders.at(-1)!.error).toBeInstanceOf(ConnectionRejectedError), WAIT);
  });
});
