/** Server rendering: the hooks render `connecting` (or `closed` when disabled) and open nothing. */
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { useChatSocket, useMessages, useSocketState } from "../../src/react/index";
import { serveEachTest, sleep, withClient } from "./support";

const env = serveEachTest();

function Chat({ enabled }: { enabled?: boolean }) {
  const { socket, state, error } = useChatSocket("a", { enabled });
  const { state: badge } = useSocketState(socket);
  const messages = useMessages(socket);
  return (
    <p>
      {state}|{badge}|{messages.length}|{socket === undefined ? "no socket" : "socket"}|{error === undefined ? "no error" : "error"}
    </p>
  );
}

describe("renderToString", () => {
  it("renders connecting and opens nothing", async () => {
    const html = renderToString(withClient(env.test.client, <Chat />));
    expect(html).toBe("<p>connecting<!-- -->|<!-- -->connecting<!-- -->|<!-- -->0<!-- -->|<!-- -->no socket<!-- -->|<!-- -->no error</p>");
    await sleep(100);
    expect(env.test.ticketCalls).toHaveLength(0);
    expect(env.test.sockets).toHaveLength(0);
    expect(env.test.client.websocket.connectionCount).toBe(0);
    expect(env.server.ticketRequests).toHaveLength(0);
  });

  it("renders closed when disabled", () => {
    const html = renderToString(withClient(env.test.client, <Chat enabled={false} />));
    expect(html).toMatch(/^<p>closed<!-- -->\|<!-- -->connecting/);
  });
});
