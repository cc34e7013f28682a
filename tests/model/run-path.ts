/**
 * Runs one model path on the real facade and holds it to three standards after every
 * step: the model (the driver checks the machine took the predicted transitions), the
 * protocol oracle (what the socket must visibly do), and cleanup (closing leaves nothing).
 */
import { expect, vi } from "vitest";
import { type Client, createClient } from "../../src/index";
import {
  type ConnectionModel,
  type ConnectionPath,
  type CoverageRecorder,
  createModelDriver,
  createModelNetwork,
  type ModelDriver,
  type ModelNetwork,
} from "./kit/model";
import { observe } from "./observer";
import { SpecOracle } from "./spec-oracle";

export interface Rig {
  network: ModelNetwork;
  client: Client;
  driver: ModelDriver;
  /** Closes what the rig opened and removes the page stand-in. */
  dispose(): void;
}

/** A fresh network, client and driver; call with fake timers on. */
export function createRig(model: ConnectionModel, coverage?: CoverageRecorder): Rig {
  const network = createModelNetwork();
  const client = createClient({ apiUrl: network.apiUrl, fetch: network.fetch, WebSocket: network.WebSocket });
  const driver = createModelDriver({ network, timers: vi, model, coverage });
  return {
    network,
    client,
    driver,
    dispose() {
      client.websocket.closeAll();
      driver.dispose();
    },
  };
}

function trySend(send: () => void): string {
  try {
    send();
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

export async function runPath(rig: Rig, model: ConnectionModel, path: ConnectionPath): Promise<void> {
  const { network, client, driver } = rig;
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
