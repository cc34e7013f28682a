import { describe, expect, it } from "vitest";
import { DEFAULT_SOCKET_OPTIONS, resolveSocketOptions, toConnectionSettings, validateSocketOptions } from "../../src/options";

describe("socket options", () => {
  it("has the defaults of docs/protocol.md §3", () => {
    expect(DEFAULT_SOCKET_OPTIONS).toEqual({
      reconnectDelay: 1000,
      maxReconnectDelay: 30000,
      maxReconnectAttempts: 0,
      heartbeatInterval: 25000,
      heartbeatTimeout: 10000,
      connectTimeout: 10000,
      openTimeout: 30000,
      maxQueuedMessages: 100,
      params: {},
      debug: false,
    });
  });

  it("layers client defaults under per-socket options", () => {
    const resolved = resolveSocketOptions({ reconnectDelay: 5, heartbeatInterval: 7 }, { reconnectDelay: 9 });
    expect(resolved.reconnectDelay).toBe(9);
    expect(resolved.heartbeatInterval).toBe(7);
    expect(resolved.heartbeatTimeout).toBe(10000);
  });

  it("gives the machine every resolved option but debug and inspect", () => {
    const resolved = resolveSocketOptions({ reconnectDelay: 5, params: { v: 2 }, debug: true, inspect: () => {} });
    const { debug: _debug, ...defaults } = DEFAULT_SOCKET_OPTIONS;
    expect(toConnectionSettings(resolved)).toStrictEqual({ ...defaults, reconnectDelay: 5, params: { v: 2 } });
  });

  it.each([
    ["reconnectDelay", -1],
    ["reconnectDelay", Number.NaN],
    ["maxReconnectDelay", Number.POSITIVE_INFINITY],
    ["heartbeatInterval", "25"],
    ["heartbeatTimeout", -5],
    ["connectTimeout", null],
    ["openTimeout", -1],
    ["openTimeout", "30s"],
    ["maxReconnectAttempts", 1.5],
    ["maxReconnectAttempts", -1],
    ["maxQueuedMessages", 2.2],
    ["params", "a=b"],
    ["debug", "yes"],
  ])("rejects %s = %o with a TypeError naming it", (name, value) => {
    expect(() => validateSocketOptions({ [name]: value })).toThrow(TypeError);
    expect(() => validateSocketOptions({ [name]: value })).toThrow(name);
  });

  it("accepts params as a function, and keeps it as it is", () => {
    const params = () => ({ since: "1" });
    expect(() => validateSocketOptions({ params })).not.toThrow();
    expect(resolveSocketOptions({ params }).params).toBe(params);
  });

  it("rejects a params value that is not a string, number or boolean, and a params.ticket", () => {
    expect(() => validateSocketOptions({ params: { a: {} as unknown as string } })).toThrow("params.a");
    expect(() => validateSocketOptions({ params: { ticket: "x" } })).toThrow("params.ticket");
  });

  it("accepts 0 for the numbers where 0 means something", () => {
    expect(() => validateSocketOptions({ heartbeatInterval: 0, maxReconnectAttempts: 0, maxQueuedMessages: 0 })).not.toThrow();
    // openTimeout 0: connect* waits as long as the reconnection policy retries.
    expect(() => validateSocketOptions({ openTimeout: 0 })).not.toThrow();
  });
});
