/**
 * Every path of the connection machine, executed on the real facade.
 *
 * The paths come from the machine (`createConnectionModel`, built on `xstate/graph`): the
 * shortest way to every model state, extended by every stimulus that state accepts. Each
 * runs against `createClient` → `ManagedWebSocket` on the in-memory model network with
 * fake timers (see run-path.ts for what is checked after every step). Coverage of the
 * machine's states and transitions is measured on the running sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type Client,
  ConnectTimeoutError,
  createClient,
  type ManagedWebSocket,
  type OpenInfo,
  type ParamsContext,
  type ParamsOption,
  type QueryParams,
  type SocketOptions,
  TicketError,
  type WebSocketState,
} from "../../src/index";
import { createConnectionModel, createCoverageRecorder, createModelNetwork, formatCoverage, type ModelNetwork } from "./kit/model";
import { createRig, type Rig, runPath } from "./run-path";
import { seededRandom } from "./seed";

const model = createConnectionModel();
const paths = model.paths();
const coverage = createCoverageRecorder();
let rig: Rig;

beforeEach(() => {
  vi.useFakeTimers();
  // Backoff jitter, the same on every run.
  vi.spyOn(Math, "random").mockImplementation(seededRandom(7));
  rig = createRig(model, coverage);
});

afterEach(() => {
  rig.dispose();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("every path of the connection machine, on the real facade", () => {
  it("has paths to run", () => {
    expect(paths.length).toBeGreaterThan(100);
  });

  for (const path of paths) {
    it(path.description, () => runPath(rig, model, path));
  }
});

/**
 * What the paths leave out on purpose: the model's socket has no token provider and no
 * `openTimeout` (it is opened with `open()`), and one socket per path (no replacement).
 * These run on the same in-memory network and feed the same coverage.
 */
/** A client on a fresh in-memory network whose sockets feed the coverage. */
function modelClient(options: Partial<Parameters<typeof createClient>[0]> = {}): { network: ModelNetwork; client: Client } {
  const network = createModelNetwork();
  const client = createClient({
    apiUrl: network.apiUrl,
    fetch: network.fetch,
    WebSocket: network.WebSocket,
    inspect: (event) => coverage.inspect(event),
    reconnectDelay: 1000,
    maxReconnectDelay: 1000,
    connectTimeout: 1000,
    ...options,
  });
  return { network, client };
}

describe("beyond the paths", () => {
  let network: ModelNetwork;
  let client: Client;
  const newClient = (options: Partial<Parameters<typeof createClient>[0]> = {}) => {
    ({ network, client } = modelClient(options));
    return client;
  };
  afterEach(() => client.websocket.closeAll());

  it("connect() rejects with ConnectTimeoutError at openTimeout, its cause a token provider that never settled", async () => {
    const lines: string[] = [];
    newClient({ getAuthToken: () => new Promise<string>(() => {}), openTimeout: 3500, debug: (line) => lines.push(line) });
    let error: unknown = "still pending";
    client.websocket.connectToChat("a").catch((rejection: unknown) => (error = rejection));
    await vi.advanceTimersByTimeAsync(3499);
    expect(client.websocket.connectionCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error).toMatchObject({ timeout: 3500, step: "open", cause: expect.any(TicketError) });
    expect((error as Error).message).toMatch(/within 3500 ms \(openTimeout\).*token provider \(getAuthToken\) did not settle within 1000 ms/);
    expect(network.ticketRequests).toEqual([]); // no ticket request was ever sent
    expect(lines.filter((line) => line.includes("error TicketError status 0: ticket request for /ws/chat/a not sent"))).toHaveLength(2);
    expect(client.websocket.connectionCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("openTimeout no longer acts once the first connection was confirmed", async () => {
    newClient({ openTimeout: 2000 });
    const socket = client.websocket.connectToChat("a");
    await vi.advanceTimersByTimeAsync(0);
    network.answerTicket(200);
    await vi.advanceTimersByTimeAsync(0);
    network.accept();
    await vi.advanceTimersByTimeAsync(60);
    const open = await socket;
    network.close(1006); // dropped; the reconnect attempts fail from here on
    await vi.advanceTimersByTimeAsync(5000);
    expect(open.state).toBe("reconnecting");
  });

  it("replacing a socket of the same key closes it as close() does: its listeners see closing and closed", async () => {
    newClient();
    const first = client.websocket.open("/ws/chat/a", undefined, "chat:a");
    const states: WebSocketState[] = [];
    first.onStateChange.subscribe((state) => states.push(state));
    await vi.advanceTimersByTimeAsync(0);
    network.answerTicket(200);
    await vi.advanceTimersByTimeAsync(0);
    network.accept();
    await vi.advanceTimersByTimeAsync(60);
    first.send("queued while closing? no: sent");
    const second: ManagedWebSocket = client.websocket.open("/ws/chat/a", undefined, "chat:a");
    expect(states).toEqual(["open", "closing"]);
    expect(client.websocket.connectionCount).toBe(1); // the replaced one no longer counts
    client.websocket.closeAll();
    expect(second.state).toBe("closed");
    network.acknowledgeClose();
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(["open", "closing", "closed"]);
    expect(client.websocket.connectionCount).toBe(0);
  });
});

describe("beyond the paths: a params function and onOpen", () => {
  let network: ModelNetwork;
  let client: Client;
  afterEach(() => client.websocket.closeAll());

  const start = (params: ParamsOption, options: SocketOptions = {}) => {
    ({ network, client } = modelClient());
    return client.websocket.open("/ws/chat/a", { ...options, params });
  };
  /** Answers the pending ticket, accepts the upgrade and lets the confirmation window pass. */
  const connect = async () => {
    await vi.advanceTimersByTimeAsync(0);
    network.answerTicket(200);
    await vi.advanceTimersByTimeAsync(0);
    network.accept();
    await vi.advanceTimersByTimeAsync(50);
  };

  it("calls the params function before every attempt, with its attempt and lastEventId, sync or async", async () => {
    const calls: ParamsContext[] = [];
    const socket = start((context) => {
      calls.push(context);
      return context.attempt === 0 ? { since: "start" } : Promise.resolve({ since: `attempt-${context.attempt}` });
    });
    const opens: OpenInfo[] = [];
    socket.onOpen.subscribe((info) => opens.push(info));
    await connect();
    expect(socket.state).toBe("open");
    network.close(1006);
    await vi.advanceTimersByTimeAsync(1000); // the backoff (at most reconnectDelay)
    await connect();
    expect(socket.state).toBe("open");
    expect(calls).toEqual([
      { attempt: 0, lastEventId: undefined },
      { attempt: 1, lastEventId: undefined },
    ]);
    expect(network.sockets.map((record) => new URL(record.url).searchParams.get("since"))).toEqual(["start", "attempt-1"]);
    expect(socket.url).toBe(`${network.wsUrl}/ws/chat/a`);
    expect(opens[0]).toEqual({ reconnected: false, attempt: 0, downtime: 0 });
    expect(opens[1]).toMatchObject({ reconnected: true, attempt: 1 });
  });

  it("hands the next attempt's params function the lastEventId of the frames before the drop", async () => {
    const calls: ParamsContext[] = [];
    const socket = start(
      (context) => {
        calls.push(context);
        return { since: context.lastEventId };
      },
      { eventId: (data) => (data as { id?: number }).id },
    );
    await connect();
    network.send(JSON.stringify({ id: 7 }));
    network.send(JSON.stringify({ note: "no id: lastEventId stays" }));
    network.send(JSON.stringify({ id: 8 }));
    network.send(JSON.stringify({ note: "still 8" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.lastEventId).toBe("8");
    network.close(1006);
    await vi.advanceTimersByTimeAsync(1000);
    await connect();
    expect(calls).toEqual([
      { attempt: 0, lastEventId: undefined },
      { attempt: 1, lastEventId: "8" },
    ]);
    expect(network.sockets.map((record) => new URL(record.url).searchParams.get("since"))).toEqual([null, "8"]);
  });

  it.each([
    ["throws", () => {
      throw new Error("no cursor");
    }, /^the params function for \/ws\/chat\/a failed: no cursor$/],
    ["rejects", () => Promise.reject(new Error("no cursor")), /^the params function for \/ws\/chat\/a failed: no cursor$/],
    ["is too slow", () => new Promise<QueryParams>(() => {}), /^the params function for \/ws\/chat\/a did not settle within 1000 ms \(connectTimeout\)$/],
    ["returns a ticket", () => ({ ticket: "mine" }), /returned unusable params: params\.ticket is reserved/],
  ] as const)("a params function that %s fails the attempt: reported, retried", async (_, params, message) => {
    const socket = start(params as ParamsOption);
    const errors: unknown[] = [];
    socket.onError.subscribe((error) => errors.push(error));
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    const before = errors.length;
    expect(socket.state).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(3000);
    expect(errors.length).toBeGreaterThan(before); // called again on each retry
    for (const error of errors) expect((error as Error).message).toMatch(message);
    expect(network.ticketRequests).toEqual([]);
  });

  it("onOpen says how long the socket was down, under fake timers", async () => {
    const socket = start({});
    const opens: OpenInfo[] = [];
    socket.onOpen.subscribe((info) => opens.push(info));
    await connect();
    expect(opens).toEqual([{ reconnected: false, attempt: 0, downtime: 0 }]);
    await vi.advanceTimersByTimeAsync(300);
    network.close(1006);
    const droppedAt = Date.now();
    await vi.advanceTimersByTimeAsync(1000); // backoff, then the next attempt's ticket request
    await connect();
    expect(opens).toHaveLength(2);
    expect(opens[1]).toEqual({ reconnected: true, attempt: 1, downtime: Date.now() - droppedAt });
    expect(opens[1]!.downtime).toBeGreaterThan(1000);
  });
});

describe("beyond the paths: no backoff delay", () => {
  let network: ModelNetwork;
  let client: Client;
  afterEach(() => client.websocket.closeAll());

  it("with reconnectDelay 0 the next attempt starts in the drop's own step, without a timer", async () => {
    ({ network, client } = modelClient({ reconnectDelay: 0 }));
    const socket = client.websocket.open("/ws/chat/a");
    const attempts: number[] = [];
    socket.onReconnecting.subscribe((attempt) => attempts.push(attempt));
    await vi.advanceTimersByTimeAsync(0);
    network.answerTicket(200);
    await vi.advanceTimersByTimeAsync(0);
    network.accept();
    await vi.advanceTimersByTimeAsync(50);
    expect(socket.state).toBe("open");
    const timers = vi.getTimerCount();
    network.close(1006);
    await Promise.resolve(); // the model network delivers the close event in a microtask
    // No timer ran: the backoff was entered and left in the close event's own step.
    expect(attempts).toEqual([1]);
    expect(socket.state).toBe("reconnecting");
    expect(vi.getTimerCount()).toBeLessThanOrEqual(timers);
    await vi.advanceTimersByTimeAsync(0);
    expect(network.ticketRequests).toHaveLength(2);
  });
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

