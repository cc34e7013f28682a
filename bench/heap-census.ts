/**
 * One side of the heap breakdown, in a process of its own (fresh heap): a census of the
 * heap by constructor (count and self bytes) before and after opening `count` idle
 * connections of one client against the bench server; the difference goes to the parent.
 *
 * Usage (bench/breakdown.ts spawns it):
 * `node --expose-gc --import tsx bench/heap-census.ts <apiUrl> <client> <count> <settleMs>`
 * where `client` is `sockstate` or `raw ws`. sockstate fetches real tickets, as in the
 * memory scenario; a warm-up batch is opened and closed first, so that lazy initialisation
 * (undici, compiled code) is not counted.
 */
import { getHeapSnapshot } from "node:v8";
import { type BenchServer, reportToParent, serverAt } from "./processes";
import { type BenchSocket, type ClientName, createBenchClient } from "./clients";
import { collectedMemory, sleep } from "./stats";
import { groupOf } from "./heap-groups";
import { openIdle } from "./scenarios";

/** Count and self bytes per group of heap nodes. */
export type Census = Record<string, { count: number; bytes: number }>;

export interface CensusResult {
  type: "census";
  client: ClientName;
  count: number;
  settleMs: number;
  /** Per connection: after minus before, divided by `count`. */
  perConnection: Census;
  /** (heap used + external) after GC, per connection, over the same span. */
  heapBytes: number;
}

const OPEN_TIMEOUT = 60_000;
const WARM_UP = 50;

interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** A census of the live heap (a heap snapshot collects garbage first), parsed in-process. */
async function census(): Promise<Census> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  const snapshot = JSON.parse(chunks.join("")) as HeapSnapshotJson;
  chunks.length = 0;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((field) => fields.indexOf(field)) as [number, number, number];
  const result: Census = {};
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]!]!;
    if (type === "synthetic") continue;
    const group = groupOf(type, strings[nodes[i + nameAt]!]!);
    const entry = (result[group] ??= { count: 0, bytes: 0 });
    entry.count += 1;
    entry.bytes += nodes[i + sizeAt]!;
  }
  return result;
}

/** Opens `count` connections at once; resolves once all are open. */
function openAll(name: ClientName, server: BenchServer, count: number, tag: string): Promise<BenchSocket[]> {
  return openIdle(createBenchClient(name, server), count, `census/${tag}`, OPEN_TIMEOUT);
}

async function main(): Promise<CensusResult> {
  const [apiUrl, name, countArg, settleArg] = process.argv.slice(2);
  const count = Number(countArg);
  const settle = Number(settleArg);
  if (!apiUrl || (name !== "sockstate" && name !== "raw ws") || !(count > 0) || !(settle >= 0)) {
    throw new TypeError("usage: heap-census.ts <apiUrl> <sockstate|raw ws> <count> <settleMs>");
  }
  const server = serverAt(apiUrl);
  const warm = await openAll(name, server, WARM_UP, "warm");
  await Promise.all(warm.map((socket) => socket.close()));
  await sleep(settle);
  const heapBefore = await collectedMemory();
  const before = await census();
  const sockets = await openAll(name, server, count, "kept");
  await sleep(settle);
  const heapAfter = await collectedMemory();
  const after = await census();
  const perConnection: Census = {};
  for (const group of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = after[group] ?? { count: 0, bytes: 0 };
    const b = before[group] ?? { count: 0, bytes: 0 };
    if (a.count === b.count && a.bytes === b.bytes) continue;
    perConnection[group] = { count: (a.count - b.count) / count, bytes: (a.bytes - b.bytes) / count };
  }
  // Kept alive until after the census.
  if (sockets.length !== count) throw new Error("census: lost connections");
  return { type: "census", client: name, count, settleMs: settle, perConnection, heapBytes: (heapAfter - heapBefore) / count };
}

reportToParent(main);
