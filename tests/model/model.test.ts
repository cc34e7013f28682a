/**
 * The model kit (tests/model/kit) on its own: what they refuse, and that the
 * driver's conformance check does fail when a socket strays from a path.
 */
import { createMachine } from "xstate";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "../../src/index";
import {
  createConnectionModel,
  createCoverageRecorder,
  createModelDriver,
  createModelNetwork,
  machineInventory,
  stateName,
} from "./kit/model";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("createConnectionModel", () => {
  it("needs a small maxReconnectAttempts so that traversal terminates", () => {
    expect(() => createConnectionModel({ maxReconnectAttempts: 0 })).toThrow(TypeError);
    expect(() => createConnectionModel({ maxReconnectAttempts: 5 })).toThrow(/1–4/);
  });

  it("refuses a machine event it has no stimulus for, instead of leaving it untested", () => {
    const machine = createMachine({
      id: "connection",
      initial: "ticket",
      context: { attempt: 0 },
      states: {
        ticket: { tags: ["attempt"], on: { "mystery.event": { target: "closed" } } },
        closed: { tags: ["closed"], type: "final" },
      },
    });
    expect(() => createConnectionModel({ machine }).paths()).toThrow(/no stimulus for the machine event "mystery.event"/);
  });

  it("replays stimuli into the steps a socket must take", () => {
    const path = createConnectionModel().replay([
      { type: "ticket.answer", answer: 200 },
      { type: "server.accept" },
      { type: "server.close", code: 4001 },
    ]);
    expect(path.description).toBe("ticket 200 → server accepts → server closes 4001");
    expect(path.steps.map((step) => [step.state, step.publicState, step.reconnectAttempt])).toEqual([
      ["socket.handshake", "connecting", 0],
      ["socket.confirming", "connecting", 0],
      ["ticket.requesting", "reconnecting", 1],
    ]);
  });

  it("names states by their deepest node", () => {
    expect(stateName({ socket: { open: "live" } })).toBe("socket.open.live");
    expect(stateName("closed")).toBe("closed");
  });
});

describe("machineInventory", () => {
  it("lists guarded and eventless transitions by name", () => {
    const { states, transitions } = machineInventory();
    expect(states).toContain("socket.open.awaitingPong");
    const labels = transitions.map((t) => t.label);
    expect(labels).toContain("lost —always [canRetry]→ backoff");
    expect(labels).toContain("socket.open.awaitingPong —after heartbeatTimeout [wasTimerLate]→ socket.open.repinging");
    expect(labels).toContain("socket.open.repinging —after heartbeatTimeout→ socket.dropping");
    expect(new Set(transitions.map((t) => t.key)).size).toBe(transitions.length);
  });
});

describe("createModelDriver", () => {
  it("rejects a step the socket does not take, naming what the machine did", async () => {
    const network = createModelNetwork();
    const client = createClient({ apiUrl: network.apiUrl, fetch: network.fetch, WebSocket: network.WebSocket });
    const coverage = createCoverageRecorder();
    const driver = createModelDriver({ network, timers: vi, coverage });
    try {
      driver.open(client.websocket);
      const [step] = createConnectionModel().replay([{ type: "ticket.answer", answer: 200 }]).steps;
      // The model says a 200 leads to the handshake; pretend it said the socket opened.
      await expect(driver.perform({ ...step!, state: "socket.open.live" })).rejects.toThrow(
        /the machine is in socket.handshake, the model predicts socket.open.live/,
      );
      await expect(driver.perform({ ...step!, events: ["socket.open"] })).rejects.toThrow(/no ticket request is pending/);
      expect(coverage.report().states.covered).toBeGreaterThanOrEqual(2);
    } finally {
      client.websocket.closeAll();
      driver.dispose();
    }
  });
});
