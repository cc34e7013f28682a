/** How the heap tools (bench/heap-census.ts, bench/retainers.ts) name a heap snapshot node's group. */

/** Snapshot node types whose name is content, not a kind: grouped by type alone. */
const BY_TYPE = new Set(["string", "concatenated string", "sliced string", "number", "code", "regexp", "symbol", "bigint", "heap number"]);

/** The group a heap node counts in: its constructor for objects, `closure <name>` for functions. */
export function groupOf(type: string, name: string): string {
  if (type === "object" || type === "native") return name || "(anonymous object)";
  if (type === "closure") return `closure ${name || "(anonymous)"}`;
  if (BY_TYPE.has(type)) return `(${type})`;
  return `(${type}) ${name}`;
}
