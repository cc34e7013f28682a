/**
 * Child processes of the bench: the server, and the scale run. Each is pinned to its
 * own core with `taskset` where it exists, gets the hard file-descriptor limit, and is
 * killed when the bench exits — normally, on an error, or on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { deriveWsUrl } from "../dist/machine.mjs";
import type { ServerReady, ServerReply, ServerRequest } from "./protocol";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const children = new Set<ChildProcess>();
/** Bound on how long a child may take to say it is ready. */
const STARTUP_TIMEOUT = 30_000;
/** Bound on one IPC request to the server. */
const REQUEST_TIMEOUT = 10_000;

function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}

process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killChildren();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

/** Which cores the bench pins itself (0) and the server (1) to, when it can. */
export interface Pinning {
  enabled: boolean;
  /** Why not, when disabled. */
  note: string;
  clientCore: number;
  serverCore: number;
}

/** Pins this process (every thread) to core 0 when `taskset` exists and there are 2+ cores. */
export function pinSelf(): Pinning {
  const pinning: Pinning = { enabled: false, note: "", clientCore: 0, serverCore: 1 };
  if (availableParallelism() < 2) {
    pinning.note = "one core only: client and server share it";
    return pinning;
  }
  const probe = spawnSync("taskset", ["-a", "-cp", String(pinning.clientCore), String(process.pid)], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    pinning.note = `taskset unavailable (${probe.error?.message ?? probe.stderr.trim()}): not pinned`;
    return pinning;
  }
  pinning.enabled = true;
  pinning.note = `client pinned to core ${pinning.clientCore}, server to core ${pinning.serverCore} (taskset)`;
  return pinning;
}

/**
 * Spawns `node <execArgv> bench/<script>` with an IPC channel, under `sh` to raise the
 * file-descriptor limit to its hard maximum, and under `taskset -c <core>` when pinning.
 */
export function spawnBenchProcess(script: string, options: { core?: number; execArgv?: string[]; args?: string[] }): ChildProcess {
  const node = [process.execPath, ...(options.execArgv ?? []), "--import", "tsx", `${benchDir}${script}`, ...(options.args ?? [])];
  const command = options.core === undefined ? node : ["taskset", "-c", String(options.core), ...node];
  const child = spawn("sh", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh", ...command], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Resolves with the first IPC message of `child` that `accept` takes, or rejects on exit or timeout. */
export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`))), timeoutMs);
    const onMessage = (message: unknown): void => {
      const value = accept(message);
      if (value !== undefined) finish(() => resolve(value));
    };
    const onExit = (code: number | null): void => finish(() => reject(new Error(`${what}: the process exited (${code})`)));
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      settle();
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** The bench server as the bench sees it. */
export interface BenchServer {
  apiUrl: string;
  wsUrl: string;
  /** Open WebSocket connections on the server. */
  connections(): Promise<number>;
  /** Destroys every stalled connection; resolves with how many. */
  destroyStalled(): Promise<number>;
  /** The server process's `process.cpuUsage()`. */
  cpu(): Promise<NodeJS.CpuUsage>;
  close(): void;
}

/**
 * The server as a child process of the bench knows it: its URLs only. The parent owns the
 * server and waits for it to drain, so `connections()` here has nothing to wait for.
 */
export function serverAt(apiUrl: string): BenchServer {
  const parentOnly = () => Promise.reject(new Error("only the bench's main process drives the server"));
  return { apiUrl, wsUrl: deriveWsUrl(apiUrl), connections: async () => 0, destroyStalled: parentOnly, cpu: parentOnly, close: () => {} };
}

export async function startServer(pinning: Pinning): Promise<BenchServer> {
  const child = spawnBenchProcess("server.ts", pinning.enabled ? { core: pinning.serverCore } : {});
  const ready = await nextMessage(
    child,
    (message) => ((message as ServerReady).type === "ready" ? (message as ServerReady) : undefined),
    STARTUP_TIMEOUT,
    "bench server start",
  );
  let nextId = 1;
  const request = <T>(cmd: ServerRequest["cmd"]): Promise<T> => {
    const id = nextId++;
    const answer = nextMessage(
      child,
      (message) => ((message as ServerReply).id === id ? (message as ServerReply) : undefined),
      REQUEST_TIMEOUT,
      `bench server ${cmd}`,
    );
    child.send({ id, cmd } satisfies ServerRequest);
    return answer.then((reply) => reply.result as T);
  };
  return {
    apiUrl: `http://127.0.0.1:${ready.port}`,
    wsUrl: `ws://127.0.0.1:${ready.port}`,
    connections: () => request<number>("connections"),
    destroyStalled: () => request<number>("destroy-stalled"),
    cpu: () => request<NodeJS.CpuUsage>("cpu"),
    close: () => {
      child.kill("SIGKILL");
    },
  };
}

/**
 * Runs `script` in a bench process of its own (pinned to the client core when pinning)
 * and resolves with its one result, the first IPC message of type `type`.
 */
export async function runChild<T extends { type: string }>(
  script: string,
  type: T["type"],
  args: readonly string[],
  pinning: Pinning,
  timeoutMs: number,
): Promise<T> {
  const child = spawnBenchProcess(script, {
    ...(pinning.enabled ? { core: pinning.clientCore } : {}),
    execArgv: ["--expose-gc"],
    args: [...args],
  });
  try {
    return await nextMessage(child, (message) => ((message as T).type === type ? (message as T) : undefined), timeoutMs, `${script} run`);
  } finally {
    child.kill("SIGKILL");
  }
}

/** The child side of {@link runChild}: sends what `main` resolves with and exits (1 on an error, or when the parent goes). */
export function reportToParent(main: () => Promise<unknown>): void {
  process.on("disconnect", () => process.exit(1));
  main().then(
    (result) => process.send?.(result, undefined, undefined, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
