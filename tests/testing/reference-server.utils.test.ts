import { describe, expect, it } from "vitest";
import {
  CountedQueue,
  TicketStore,
  bearerToken,
  isLoopbackAddress,
  isSendableCloseCode,
  parseTicketBody,
} from "../../src/testing/reference-server.utils";

describe("TicketStore", () => {
  it("spends a ticket once and reports why it refuses it afterwards", () => {
    let now = 1000;
    const store = new TicketStore(() => now);
    const { ticket, expiresAt } = store.issue("/ws/chat/1", 50);
    expect(expiresAt).toBe(1050);
    expect(store.redeem(ticket, "/ws/chat/2")).toBe("wrong-path");
    expect(store.redeem(ticket, "/ws/chat/1")).toBe("valid");
    expect(store.redeem(ticket, "/ws/chat/1")).toBe("used");

    const late = store.issue(undefined, 50).ticket;
    now = 1051;
    expect(store.redeem(late, "/anywhere")).toBe("expired");
    expect(store.redeem(undefined, "/x")).toBe("missing");
    expect(store.redeem("nope", "/x")).toBe("unknown");
  });

  it("compares paths the way a URL normalises them", () => {
    const store = new TicketStore();
    const { ticket } = store.issue("/ws/chat/a b", 1000);
    expect(store.redeem(ticket, "/ws/chat/a%20b")).toBe("valid");
  });

  it("keeps a double slash as part of the path", () => {
    const store = new TicketStore();
    const { ticket } = store.issue("//ws/chat", 1000);
    expect(store.redeem(ticket, "/ws/chat")).toBe("wrong-path");
  });

  it("forgets everything on clear()", () => {
    const store = new TicketStore();
    const { ticket } = store.issue(undefined, 1000);
    store.clear();
    expect(store.redeem(ticket, "/")).toBe("unknown");
  });
});

describe("helpers", () => {
  it("accepts only close codes a server may send", () => {
    for (const code of [1000, 1008, 1011, 1012, 3000, 4001, 4999]) expect(isSendableCloseCode(code)).toBe(true);
    for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 4000.5]) expect(isSendableCloseCode(code)).toBe(false);
  });

  it("accepts only loopback hosts", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1"].map(isLoopbackAddress)).toEqual([true, true, true]);
    expect(["0.0.0.0", "localhost", "10.0.0.1", "::"].map(isLoopbackAddress)).toEqual([false, false, false, false]);
  });

  it("reads bearer tokens only", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer  abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer ")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it("parses ticket bodies", () => {
    expect(parseTicketBody("")).toEqual({ ok: true, path: undefined });
    expect(parseTicketBody("{}")).toEqual({ ok: true, path: undefined });
    expect(parseTicketBody('{"path":"/ws/chat/1"}')).toEqual({ ok: true, path: "/ws/chat/1" });
    expect(parseTicketBody('{"path":3}').ok).toBe(false);
    expect(parseTicketBody("null").ok).toBe(false);
    expect(parseTicketBody("{").ok).toBe(false);
  });

  it("hands out queued values count times each, in order", () => {
    const queue = new CountedQueue<string>();
    queue.push("a", 2);
    queue.push("none", 0);
    queue.push("b", 1);
    expect([queue.take(), queue.take(), queue.take(), queue.take()]).toEqual(["a", "a", "b", undefined]);
    queue.push("c", 5);
    queue.clear();
    expect(queue.take()).toBeUndefined();
  });
});
