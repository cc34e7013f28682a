/**
 * The memory scenario for one client, in a process of its own: a fresh heap, so that
 * what the earlier scenarios left behind (compiled code, hidden classes of a million
 * frames, another client's objects) is not read as this client's cost per connection.
 * A warm-up batch is opened and closed first, as in a long-running process, so that
 * lazy initialisation (undici, the first compilations) is not counted either.
 *
 * Usage (bench/run.ts spawns it): `node --expose-gc --import tsx bench/idle-memory.ts
 * <apiUrl> <client> <connections> <openBatch> <idleSettleMs>`.
 */
import { type ClientName, createBenchClient } from "./clients";
import { reportToParent, serverAt } from "./processes";
import { type IdleMemory, idleMemory, type Plan } from "./scenarios";

export interface IdleMemoryResult extends IdleMemory {
  type: "idle-memory";
}

async function main(): Promise<IdleMemoryResult> {
  const [apiUrl, name, connections, openBatch, idleSettle] = process.argv.slice(2);
  const sizes = [connections, openBatch, idleSettle].map(Number);
  if (!apiUrl || !name || sizes.some((size) => !(size >= 0))) {
    throw new TypeError("usage: idle-memory.ts <apiUrl> <client> <connections> <openBatch> <idleSettleMs>");
  }
  const [idleConnections, batch, settle] = sizes as [number, number, number];
  const server = serverAt(apiUrl);
  const plan = { idleConnections, openBatch: batch, idleSettle: settle } as Plan;
  await idleMemory(createBenchClient(name as ClientName, server), server, { ...plan, idleConnections: batch, idleSettle: 0 });
  const result = await idleMemory(createBenchClient(name as ClientName, server), server, plan);
  return { type: "idle-memory", ...result };
}

reportToParent(main);
