import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay, buildSocketUrl, deriveWsUrl, messageOf, redactTicket, stableUptime, Ticket } from "../../machines/connection.utils";
import { classifyClose, HEARTBEAT_TIMEOUT_CODE, PING_FRAME, PONG_FRAME, TICKET_PATH, ticketEndpoint } from "../../machines/protocol";

const settings = { reconnectDelay: 1000, maxReconnectDelay: 30000 };

describe("backoff", () => {
  it("doubles the ceiling per attempt from reconnectDelay, capped at maxReconnectDelay", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, settings))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
  });

  it("draws from [d/2, d]", () => {
    expect(backoffDelay(3, settings, () => 0)).toBe(2000);
    expect(backoffDelay(3, settings, () => 1)).toBe(4000);
    expect(backoffDelay(3, settings, () => 0.5)).toBe(3000);
  });

  it("stays finite and capped for huge attempt numbers", () => {
    expect(backoffCeiling(5000, settings)).toBe(30000);
    expect(backoffDelay(5000, settings, () => 0.99)).toBeLessThanOrEqual(30000);
  });

  it("resets only after max(5000, reconnectDelay) of uptime", () => {
    expect(stableUptime(1000)).toBe(5000);
    expect(stableUptime(8000)).toBe(8000);
  });
});

describe("wire format (docs/protocol.md §5), written out here on purpose", () => {
  it("pings and pongs with these exact text frames", () => {
    expect([PING_FRAME, PONG_FRAME]).toEqual(['{"type":"ping"}', '{"type":"pong"}']);
  });
  it("posts for tickets to /ws/ticket and closes a dead link with 4000", () => {
    expect([TICKET_PATH, HEARTBEAT_TIMEOUT_CODE]).toEqual(["/ws/ticket", 4000]);
  });
});

describe("close codes", () => {
  it("refreshes the ticket after 4001", () => expect(classifyClose(4001)).toBe("refresh-ticket"));
  it.each([4003, 4004, 1008])("treats %i as terminal", (code) => expect(classifyClose(code)).toBe("terminal"));
  it.each([1000, 1001, 1006, 1011, 4000, 4002, 4500])("retries after %i", (code) =>
    expect(classifyClose(code)).toBe("retry"),
  );
});

describe("URLs", () => {
  it("derives the socket base from the API base", () => {
    expect(deriveWsUrl("http://a.test")).toBe("ws://a.test");
    expect(deriveWsUrl("https://a.test/api")).toBe("wss://a.test/api");
  });

  it("builds the ticket endpoint without doubling slashes", () => {
    expect(ticketEndpoint("https://a.test/")).toBe("https://a.test/ws/ticket");
  });

  it("puts the ticket first, then the params, all URI-encoded", () => {
    const url = buildSocketUrl("wss://a.test/", "/ws/chat/x", { "a b": "c&d", n: 1 }, new Ticket("t/+="));
    expect(url).toBe("wss://a.test/ws/chat/x?ticket=t%2F%2B%3D&a%20b=c%26d&n=1");
  });

  it("leaves out a param whose value is undefined (a params function before the first event id)", () => {
    expect(buildSocketUrl("wss://a.test", "/p", { since: undefined, room: "a" })).toBe("wss://a.test/p?room=a");
    expect(buildSocketUrl("wss://a.test", "/p", { since: undefined })).toBe("wss://a.test/p");
  });

  it("leaves the ticket out of the public URL", () => {
    expect(buildSocketUrl("wss://a.test", "/p")).toBe("wss://a.test/p");
    expect(buildSocketUrl("wss://a.test", "/p", { x: "1" })).toBe("wss://a.test/p?x=1");
  });

  it("redacts ticket values in text", () => {
    expect(redactTicket("wss://a/p?ticket=secret&x=1")).toBe("wss://a/p?ticket=[redacted]&x=1");
  });
});

describe("Ticket", () => {
  it("never prints its value", () => {
    const ticket = new Ticket("secret-value", 1);
    expect(String(ticket)).not.toContain("secret");
    expect(JSON.stringify({ ticket })).not.toContain("secret");
    expect(inspect(ticket)).not.toContain("secret");
    expect(`${ticket}`).not.toContain("secret");
    expect(ticket.reveal()).toBe("secret-value");
  });
});

describe("messageOf", () => {
  it("names an Error by its message and any other value as a string", () => {
    expect(messageOf(new TypeError("bad"))).toBe("bad");
    expect(messageOf("plain")).toBe("plain");
    expect(messageOf(42)).toBe("42");
  });

  it("never throws itself, for a value that cannot be made a string", () => {
    const throwing = {
      toString() {
        throw new Error("no");
      },
    };
    expect(messageOf(Object.create(null))).toBe("[object Object]");
    expect(messageOf(throwing)).toBe("[object Object]");
  });
});
