/**
 * A reference server in a child process, driven over IPC, so that a test with hundreds of
 * clients does not share one event loop (and one core) with the server it measures.
 *
 * `startRemoteServer()` runs this file as the child (`node --import tsx remote-server.ts`);
 * the child answers the few requests the storm test needs.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";

/** What the parent can see of the server: plain data, copied at the time of the request. */
export interface RemoteSnapshot {
  live: Array<{ id: number; path: string; ticket: string | undefined }>;
  connections: Array<{ id: number; path: string; ticket: string | undefined; ticketValid: boolean; at: number }>;
  ticketRequests: Array<{ path: string | undefined; ticket: string | undefined; status: number; at: number }>;
}

type Request =
  | { id: number; method: "restart"; downtime: number }
  | { id: number; method: "snapshot" }
  | { id: number; method: "clearRecords" }
  | { id: number; method: "waitForLive"; count: number; timeoutMs: number }
  | { id: number; method: "close" };

type Reply = { id: number; result?: unknown; error?: string };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface RemoteServer {
  readonly apiUrl: string;
  restart(downtime: number): Promise<void>;
  snapshot(): Promise<RemoteSnapshot>;
  clearRecords(): Promise<void>;
  /** Resolves once exactly `count` connections are live; rejects after `timeoutMs`. */
  waitForLive(count: number, timeoutMs: number): Promise<void>;
  /** Closes the server and ends the child. Idempotent. */
  close(): Promise<void>;
}

/** Starts the child and resolves once its reference server listens on 127.0.0.1. */
export async function startRemoteServer(): Promise<RemoteServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("message", (reply: Reply | { apiUrl: string }) => {
    if (!("id" in reply)) return;
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.result);
  });
  child.once("exit", () => {
    for (const waiter of pending.values()) waiter.reject(new Error("the server process exited"));
    pending.clear();
  });
  const apiUrl = await new Promise<string>((resolve, reject) => {
    child.once("message", (message: { apiUrl?: string }) => (message.apiUrl ? resolve(message.apiUrl) : reject(new Error("no apiUrl"))));
    child.once("exit", (code) => reject(new Error(`the server process exited with ${code}`)));
  });
  const call = <T>(request: DistributiveOmit<Request, "id">): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  let closing: Promise<void> | undefined;
  return {
    apiUrl,
    restart: (downtime) => call({ method: "restart", downtime }),
    snapshot: () => call({ method: "snapshot" }),
    clearRecords: () => call({ method: "clearRecords" }),
    waitForLive: (count, timeoutMs) => call({ method: "waitForLive", count, timeoutMs }),
    close() {
      closing ??= call({ method: "close" })
        .catch(() => undefined)
        .then(() => exited);
      return closing;
    },
  };
}

/** The child: one reference server, answering the parent's requests. */
async function serve(): Promise<void> {
  const server: ReferenceServer = await createReferenceServer();
  const answer = async (request: Request): Promise<unknown> => {
    switch (request.method) {
      case "restart":
        return server.restart({ downtime: request.downtime });
      case "snapshot":
        return {
          live: server.liveConnections.map((c) => ({ id: c.id, path: c.path, ticket: c.query.ticket })),
          connections: server.connections.map(({ id, path, ticket, ticketValid, at }) => ({ id, path, ticket, ticketValid, at })),
          ticketRequests: server.ticketRequests.map(({ path, ticket, status, at }) => ({ path, ticket, status, at })),
        } satisfies RemoteSnapshot;
      case "clearRecords":
        return server.clearRecords();
      case "waitForLive":
        await server.waitFor((s) => s.liveConnections.length === request.count, request.timeoutMs);
        return undefined;
      case "close":
        await server.close();
        setImmediate(() => process.exit(0));
        return undefined;
    }
  };
  process.on("message", (request: Request) => {
    answer(request).then(
      (result) => process.send?.({ id: request.id, result } satisfies Reply),
      (error: unknown) => process.send?.({ id: request.id, error: String(error) } satisfies Reply),
    );
  });
  process.on("disconnect", () => {
    void server.close().then(() => process.exit(0));
  });
  process.send?.({ apiUrl: server.apiUrl });
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) void serve();
