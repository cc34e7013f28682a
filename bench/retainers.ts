/**
 * Who keeps what an idle socket costs. Opens `count` idle sockstate sockets against the
 * bench server (in-process), takes a heap snapshot before and after, and prints per socket
 * the heap nodes that are new (by snapshot id) by group (named as bench/heap-census.ts
 * names them), then, for each group asked for, the most common retainer paths of its new
 * nodes: from the node up, each step the retainer closest to the GC roots (as DevTools
 * shows them). A node marked `*` is new.
 *
 *   node --expose-gc --import tsx bench/retainers.ts [count=200] [settleMs=1000] [group…]
 *
 * Environment: `CLIENT` another bench client (e.g. `raw ws`), `LOCAL=1` tickets from an injected local fetch (no undici), `FLUSH=1` a full
 * GC and a task before the second snapshot (FinalizationRegistry callbacks of what died
 * run then: Node's fetch keeps each request's signal in one until then), `OPTIONS=1` the
 * key sets and hidden classes of every new `Actor`'s merged options, `DEPTH` (12) steps per
 * path, `TOP` (8) paths per group, `ROWS` (70) groups in the table.
 */
import { getHeapSnapshot } from "node:v8";
import { type BenchSocket, type ClientName, createBenchClient } from "./clients";
import { groupOf } from "./heap-groups";
import { openIdle } from "./scenarios";
import { startServer } from "./processes";
import { sleep } from "./stats";

interface Snapshot {
  nodeFields: string[];
  edgeFields: string[];
  nodeTypes: string[];
  edgeTypes: string[];
  nodes: number[];
  edges: number[];
  strings: string[];
}

async function takeSnapshot(): Promise<Snapshot> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  const json = JSON.parse(chunks.join(""));
  const meta = json.snapshot.meta;
  return {
    nodeFields: meta.node_fields,
    edgeFields: meta.edge_fields,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodes: json.nodes,
    edges: json.edges,
    strings: json.strings,
  };
}

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const [countArg = "200", settleArg = "1000", ...groups] = process.argv.slice(2);
const count = Number(countArg);
const settle = Number(settleArg);
const depth = env("DEPTH", 12);

const server = await startServer({ enabled: false, note: "", clientCore: 0, serverCore: 1 });
const client = createBenchClient((process.env.CLIENT ?? "sockstate") as ClientName, server, process.env.LOCAL ? { ticket: "local" } : {});

function openAll(n: number, tag: string): Promise<BenchSocket[]> {
  return openIdle(client, n, `retainers/${tag}`, 60_000);
}

// A warm-up batch first, so that lazy initialisation is not counted.
const warm = await openAll(50, "warm");
await Promise.all(warm.map((socket) => socket.close()));
await sleep(settle);
// The ids of the nodes before, sorted: in a typed array allocated before the snapshot, so
// that the table is not counted among the new nodes (a Set's would be).
const oldIds = new Float64Array(4_000_000).fill(Infinity);
/** Fills `oldIds`; in a function of its own, so that nothing keeps the snapshot once it returns. */
async function recordOldIds(): Promise<number> {
  const before = await takeSnapshot();
  const idAt = before.nodeFields.indexOf("id");
  const count = before.nodes.length / before.nodeFields.length;
  if (count > oldIds.length) throw new Error("retainers: more heap nodes than the id table holds");
  for (let i = 0, n = 0; i < before.nodes.length; i += before.nodeFields.length) oldIds[n++] = before.nodes[i + idAt]!;
  oldIds.sort();
  return count;
}
const oldCount = await recordOldIds();
function isOld(id: number): boolean {
  let low = 0;
  let high = oldCount - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (oldIds[middle] === id) return true;
    if (oldIds[middle]! < id) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
const kept = await openAll(count, "kept");
await sleep(settle);
if (process.env.FLUSH) {
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await sleep(10);
  }
}
const { nodes, edges, strings, nodeFields, edgeFields, nodeTypes, edgeTypes } = await takeSnapshot();

const NF = nodeFields.length;
const EF = edgeFields.length;
const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ["type", "name", "id", "self_size", "edge_count"].map((f) => nodeFields.indexOf(f)) as [number, number, number, number, number];
const [edgeTypeAt, edgeNameAt, toAt] = ["type", "name_or_index", "to_node"].map((f) => edgeFields.indexOf(f)) as [number, number, number];
const nodeCount = nodes.length / NF;
const firstEdge = new Int32Array(nodeCount + 1);
for (let n = 0, e = 0; n < nodeCount; n++) {
  firstEdge[n] = e;
  e += nodes[n * NF + edgeCountAt]! * EF;
}
firstEdge[nodeCount] = edges.length;
const isWeak = (e: number) => edgeTypes[edges[e + edgeTypeAt]!] === "weak";
const target = (e: number) => edges[e + toAt]! / NF;

// Strong retainers of every node, and every node's distance from the GC roots (node 0).
const retainers: Array<Array<[from: number, edge: number]>> = Array.from({ length: nodeCount }, () => []);
for (let n = 0; n < nodeCount; n++) {
  for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += EF) if (!isWeak(e)) retainers[target(e)]!.push([n, e]);
}
const distance = new Int32Array(nodeCount).fill(0x7fffffff);
distance[0] = 0;
for (let level = [0]; level.length > 0; ) {
  const next: number[] = [];
  for (const n of level) {
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += EF) {
      const to = target(e);
      if (isWeak(e) || distance[to]! <= distance[n]! + 1) continue;
      distance[to] = distance[n]! + 1;
      next.push(to);
    }
  }
  level = next;
}

const isNew = (n: number) => !isOld(nodes[n * NF + idAt]!);
const typeOf = (n: number) => nodeTypes[nodes[n * NF + typeAt]!]!;
const nameOf = (n: number) => strings[nodes[n * NF + nameAt]!]!;
function label(n: number): string {
  const name = nameOf(n);
  return `${typeOf(n)}:${name.length > 60 ? `${name.slice(0, 60)}…` : name}${isNew(n) ? "*" : ""}`;
}
/** An edge's name; element and slot indexes as `#`, so that paths that differ only there count as one. */
function edgeLabel(e: number): string {
  const type = edgeTypes[edges[e + edgeTypeAt]!]!;
  const raw = edges[e + edgeNameAt]!;
  if (type === "element" || type === "hidden") return `${type}:#`;
  const name = strings[raw]!;
  return `${type}:${type === "internal" && /^\d+$/.test(name) ? "#" : name}`;
}
function pathUp(n: number): string {
  const parts = [label(n)];
  const seen = new Set([n]);
  for (let current = n, step = 0; step < depth; step++) {
    let best: [number, number] | undefined;
    for (const candidate of retainers[current]!) {
      if (!seen.has(candidate[0]) && (!best || distance[candidate[0]]! < distance[best[0]]!)) best = candidate;
    }
    if (!best) break;
    parts.push(`<-${edgeLabel(best[1])}- ${label(best[0])}`);
    seen.add(best[0]);
    current = best[0];
  }
  return parts.join(" ");
}

const wanted = new Set(groups);
const byGroup = new Map<string, { count: number; bytes: number; paths: Map<string, number> }>();
for (let n = 0; n < nodeCount; n++) {
  if (!isNew(n) || typeOf(n) === "synthetic") continue;
  const group = groupOf(typeOf(n), nameOf(n));
  let entry = byGroup.get(group);
  if (!entry) byGroup.set(group, (entry = { count: 0, bytes: 0, paths: new Map() }));
  entry.count += 1;
  entry.bytes += nodes[n * NF + sizeAt]!;
  if (wanted.has(group)) {
    const path = pathUp(n);
    entry.paths.set(path, (entry.paths.get(path) ?? 0) + 1);
  }
}

const rows = [...byGroup].sort((a, b) => b[1].bytes - a[1].bytes);
const total = rows.filter(([group]) => group !== "(code)").reduce((sum, [, entry]) => sum + entry.bytes, 0);
console.log(`new heap nodes per socket (${count} sockets, read ${settle} ms after the last open; self sizes)`);
console.log(`total without (code): ${(total / count).toFixed(0)} B per socket`);
for (const [group, entry] of rows.slice(0, env("ROWS", 70))) {
  console.log(`${(entry.count / count).toFixed(2).padStart(7)} ${(entry.bytes / count).toFixed(0).padStart(6)} B  ${group}`);
}
for (const group of groups) {
  const entry = byGroup.get(group);
  console.log(`\n== ${group}: ${entry ? (entry.count / count).toFixed(2) : 0} per socket`);
  for (const [path, n] of [...(entry?.paths ?? [])].sort((a, b) => b[1] - a[1]).slice(0, env("TOP", 8))) {
    console.log(`${String(n).padStart(5)}  ${path}`);
  }
}

if (process.env.OPTIONS) {
  // XState's Actor merges its options as `{ ...defaultOptions, ...options }`: which hidden classes do they get?
  const outEdges = (n: number) => {
    const list: Array<[string, number]> = [];
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += EF) list.push([edgeLabel(e), target(e)]);
    return list;
  };
  const byKeys = new Map<string, { maps: Set<number>; objects: number }>();
  for (let n = 0; n < nodeCount; n++) {
    if (!isNew(n) || typeOf(n) !== "object" || nameOf(n) !== "Actor") continue;
    const options = outEdges(n).find(([name]) => name === "property:options")?.[1];
    if (options === undefined) continue;
    const fields = outEdges(options);
    const keys = fields.filter(([name]) => name.startsWith("property:")).map(([name]) => name.slice("property:".length)).join(",");
    const entry = byKeys.get(keys) ?? { maps: new Set(), objects: 0 };
    entry.maps.add(fields.find(([name]) => name === "internal:map")![1]);
    entry.objects += 1;
    byKeys.set(keys, entry);
  }
  console.log("\nnew Actor.options: hidden classes / objects, by keys");
  for (const [keys, entry] of byKeys) console.log(`${entry.maps.size} / ${entry.objects}  ${keys}`);
}

if (kept.length !== count) throw new Error("retainers: lost sockets");
server.close();
process.exit(0);
