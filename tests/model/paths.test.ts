/**
 * Every path of the connection machine, executed on the real facade.
 *
 * The paths come from the machine (`createConnectionModel`, built on `xstate/graph`);
 * each runs against `createClient` → `ManagedWebSocket` on the in-memory model network,
 * with fake timers. After every step three things must agree: the model (which
 * transitions the machine takes, checked by the driver), the SPEC oracle (what the
 * socket must visibly do), and what the socket and the server actually show. Coverage
 * of states and transitions is measured on the running sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Client, createClient } from "../../src/index";
import {
  type ConnectionPath,
  createConnectionModel,
  createCoverageRecorder,
  createModelDriver,
  createModelNetwork,
  formatCoverage,
  type ModelDriver,
  type ModelNetwork,
} from "../../src/testing/model";
import { observe } from "./observer";
import { SpecOracle } from "./spec-oracle";

const model = createConnectionModel();
const paths = model.paths();
const coverage = createCoverageRecorder();

let network: ModelNetwork;
let client: Client;
let driver: ModelDriver;

beforeEach(() => {
  vi.useFakeTimers();
  network = createModelNetwork();
  client = createClient({ apiUrl: network.apiUrl, fetch: network.fetch, WebSocket: network.WebSocket });
  driver = createModelDriver({ network, timers: vi, model, coverage });
});

afterEach(() => {
  client.websocket.closeAll();
  driver.dispose();
  vi.useRealTimers();
});

function trySend(send: () => void): string {
  try {
    send();
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

async function runPath(path: ConnectionPath): Promise<void> {
  const socket = driver.open(client.websocket, "/ws/chat/model");
  const oracle = new SpecOracle(model.socketOptions.maxReconnectAttempts);
  const seen = observe(socket, client.websocket, network);
  await vi.advanceTimersByTimeAsync(0);
  expect(seen.take()).toMatchObject({ stateChanges: [], ticketRequests: 1, upgrades: 0 });

  for (const [index, step] of path.steps.entries()) {
    const where = `after step ${index + 1} of: ${path.description}`;
    // Something to send at every step: it goes out now, waits in the queue, or is refused.
    const message = `message ${index + 1}`;
    const outcome = oracle.send(message);
    expect(trySend(() => socket.send(message)), `send() ${where}`).toBe(outcome === "throws" ? "SocketClosedError" : "ok");
    const expected = oracle.apply(step.stimulus);
    if (outcome === "sent") expected.frames.unshift(message);

    await driver.perform(step);

    const { ready, upgradeTickets, issuedTickets, ...observed } = seen.take();
    expect(observed, where).toEqual({ ...expected, errors: [...expected.errors].sort() });
    expect(ready, `connect() ${where}`).toBe(oracle.ready);
    expect(seen.state(), where).toEqual({
      state: oracle.phase,
      reconnectAttempt: oracle.reconnectAttempt,
      isOpen: oracle.phase === "open",
      queuedMessages: oracle.queue.length,
      connectionCount: oracle.managed && oracle.phase !== "closed" ? 1 : 0,
      liveSockets: oracle.liveSockets,
      pendingTickets: oracle.link === "ticket" ? 1 : 0,
    });
    // The model's own prediction agrees with the contract.
    expect(step.publicState, `model ${where}`).toBe(oracle.phase);
    // Every attempt uses the ticket fetched for it, and never one twice (§5).
    for (const ticket of upgradeTickets) expect(ticket, where).toBe(issuedTickets.at(-1));
  }

  // Whatever state the path ended in, closing must leave nothing behind.
  if (socket.state !== "closed") {
    socket.close();
    await vi.advanceTimersByTimeAsync(0);
    if (socket.state === "closing") network.acknowledgeClose();
    await vi.advanceTimersByTimeAsync(0);
  }
  expect(socket.state).toBe("closed");
  expect(driver.leftovers()).toEqual({ liveSockets: 0, pendingTickets: 0, environmentListeners: 0 });
  expect(vi.getTimerCount(), "timers left after closed").toBe(0);
}

describe("every path of the connection machine, on the real facade", () => {
  it("has paths to run", () => {
    expect(paths.length).toBeGreaterThan(100);
  });

  for (const path of paths) {
    it(path.description, () => runPath(path));
  }
});

describe("coverage measured on the running sockets", () => {
  it("entered every state and took every transition the machine declares", () => {
    const report = coverage.report();
    console.log(`model coverage: ${formatCoverage(report)}, paths ${paths.length}`);
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
    expect(report.states.total).toBeGreaterThan(10);
    expect(report.transitions.total).toBeGreaterThan(25);
  });
});
