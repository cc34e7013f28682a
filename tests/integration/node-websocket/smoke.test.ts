/**
 * The smoke subset on Node's own `WebSocket` (undici): this file runs in the
 * `node-websocket` vitest project, started with `--experimental-websocket` on Node 20
 * (see vitest.config.ts). No `WebSocket` is passed to `createClient`, so the client
 * must pick up the global one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WS from "ws";
import { smokeSuite } from "../../support/smoke";

const NativeWebSocket = globalThis.WebSocket;
let constructed = 0;

describe("Node's global WebSocket", () => {
  it("exists in this worker and is not ws", () => {
    expect(typeof NativeWebSocket, "run with --experimental-websocket on Node 20").toBe("function");
    expect(NativeWebSocket).not.toBe(WS);
  });
});

// Count constructions through the global, to prove the client used it.
beforeAll(() => {
  globalThis.WebSocket = class CountingWebSocket extends NativeWebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      constructed += 1;
    }
  };
});

afterAll(() => {
  globalThis.WebSocket = NativeWebSocket;
  expect(constructed).toBeGreaterThanOrEqual(4);
});

smokeSuite("global");
