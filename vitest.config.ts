import { defineConfig } from "vitest/config";

/** Tests that must run on Node's own `WebSocket` instead of `ws`. */
const NODE_WEBSOCKET_TESTS = "tests/integration/node-websocket/**/*.test.ts";

/** React bindings, rendered into happy-dom's document. */
const REACT_TESTS = "tests/react/**/*.test.{ts,tsx}";

/**
 * Node 20 has a global `WebSocket` only behind `--experimental-websocket`; Node 22+
 * has it by default (where the flag may be gone), so pass the flag only when needed.
 */
const nodeWebSocketArgv = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function" ? [] : ["--experimental-websocket"];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["tests/**/*.test.ts"],
          exclude: [NODE_WEBSOCKET_TESTS, REACT_TESTS],
        },
      },
      {
        extends: true,
        test: {
          name: "react",
          include: [REACT_TESTS],
          environment: "happy-dom",
        },
      },
      {
        extends: true,
        test: {
          name: "node-websocket",
          include: [NODE_WEBSOCKET_TESTS],
          execArgv: nodeWebSocketArgv,
        },
      },
    ],
  },
});
