/**
 * `npm run bench -- --breakdown`: where sockstate's bytes go.
 *
 * (a) Per-socket heap by constructor: a heap census (bench/heap-census.ts) of N idle
 *     sockstate sockets minus one of N raw `ws` sockets, each in a fresh process, divided by N.
 * (b) Per-module bundle bytes of the main entry (esbuild's metafile: minified bytes each
 *     input file puts into the output), xstate external and xstate included, with the gzip
 *     of the whole; and the React entry's own code when it exists; then the floors of
 *     bench/bundle-floor.ts.
 */
import { type BundleSize, sockstateBundles } from "./bundle";
import { bundleFloor } from "./bundle-floor";
import { floorLines } from "./report";
import type { Census, CensusResult } from "./heap-census";
import { type Pinning, runChild } from "./processes";
import { kib } from "./stats";

const CENSUS_TIMEOUT = 240_000;
/** Rows below this many bytes and this share of an instance per socket are summed as "the rest". */
const MIN_BYTES = 24;
const MIN_COUNT = 0.5;
const TOP_INPUTS = 25;
/** V8's compiled code grows when the JIT optimizes, not per socket: reported apart. */
const COMPILED_CODE = "(code)";

export interface BreakdownSize {
  sockets: number;
  settleMs: number;
}

const censusOf = (client: "sockstate" | "raw ws", apiUrl: string, size: BreakdownSize, pinning: Pinning) =>
  runChild<CensusResult>("heap-census.ts", "census", [apiUrl, client, String(size.sockets), String(size.settleMs)], pinning, CENSUS_TIMEOUT);

const fixed = (value: number, digits = 1) => (Math.abs(value) < 0.05 && digits === 1 ? "0" : value.toFixed(digits));

function heapTable(sockstate: CensusResult, raw: CensusResult): string {
  const groups = new Set([...Object.keys(sockstate.perConnection), ...Object.keys(raw.perConnection)]);
  const zero = { count: 0, bytes: 0 };
  const rows = [...groups].filter((group) => group !== COMPILED_CODE).map((group) => {
    const own = sockstate.perConnection[group] ?? zero;
    const base = raw.perConnection[group] ?? zero;
    return { group, count: own.count - base.count, bytes: own.bytes - base.bytes, rawCount: base.count };
  });
  rows.sort((a, b) => b.bytes - a.bytes);
  const shown = rows.filter((row) => Math.abs(row.bytes) >= MIN_BYTES || Math.abs(row.count) >= MIN_COUNT);
  const rest = rows.filter((row) => !shown.includes(row));
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  const lines = [
    `Per socket: ${sockstate.count.toLocaleString("en-US")} idle sockstate sockets (real HTTP tickets) minus ${raw.count.toLocaleString("en-US")} raw ws sockets, each in a fresh process, a heap snapshot after opening them minus one before, divided by the count (self sizes; external memory not included). Read ${sockstate.settleMs / 1000} s after the last open, so that the ticket requests' keep-alive connections (Node's fetch keeps them 4 s) are gone.`,
    "",
    "| constructor / kind | count per socket | bytes per socket | (raw ws alone: count) |",
    "|---|---:|---:|---:|",
    ...shown.map((row) => `| ${row.group.replaceAll("|", "\\|")} | ${fixed(row.count)} | ${Math.round(row.bytes)} | ${fixed(row.rawCount)} |`),
    `| the rest (${rest.length} kinds) | ${fixed(rest.reduce((sum, row) => sum + row.count, 0))} | ${Math.round(rest.reduce((sum, row) => sum + row.bytes, 0))} | |`,
    `| **total** | | **${Math.round(total)}** (${kib(total)}) | |`,
    "",
    `Compiled code (V8's code objects, grown by the JIT, not per socket) is left out: ${Math.round((sockstate.perConnection[COMPILED_CODE]?.bytes ?? 0) - (raw.perConnection[COMPILED_CODE]?.bytes ?? 0))} bytes per socket over the same span.`,
    "",
    `Heap used + external after GC over the same span: sockstate ${kib(sockstate.heapBytes)}, raw ws ${kib(raw.heapBytes)} per socket (difference ${kib(sockstate.heapBytes - raw.heapBytes)}).`,
  ];
  return lines.join("\n");
}

/** A short, stable name for an input file: `src/…`, `machines/…`, `xstate/…`. */
const inputName = (path: string) => path.replace(/^.*node_modules\//, "");

function bundleTable(bundle: BundleSize): string {
  const top = bundle.inputs.slice(0, TOP_INPUTS);
  const rest = bundle.inputs.slice(TOP_INPUTS);
  return [
    `**${bundle.label}**: ${kib(bundle.minified)} minified, ${kib(bundle.gzip)} gzip -9 (the whole).`,
    "",
    "| input file | minified bytes in the output | share |",
    "|---|---:|---:|",
    ...top.map((input) => `| ${inputName(input.path)} | ${input.bytes.toLocaleString("en-US")} | ${((input.bytes / bundle.minified) * 100).toFixed(1)} % |`),
    ...(rest.length > 0 ? [`| the rest (${rest.length} files) | ${rest.reduce((sum, input) => sum + input.bytes, 0).toLocaleString("en-US")} | |`] : []),
  ].join("\n");
}

/** The breakdown as Markdown: heap by constructor, then bundle bytes by module. */
export async function breakdown(apiUrl: string, size: BreakdownSize, pinning: Pinning, log: (line: string) => void): Promise<string> {
  log(`breakdown: heap census of ${size.sockets} raw ws sockets…`);
  const raw = await censusOf("raw ws", apiUrl, size, pinning);
  log(`breakdown: heap census of ${size.sockets} sockstate sockets…`);
  const sockstate = await censusOf("sockstate", apiUrl, size, pinning);
  log("breakdown: bundles…");
  const [bundles, floor] = await Promise.all([sockstateBundles(), bundleFloor()]);
  return [
    "#### (a) Heap per idle socket by constructor (sockstate minus raw ws)",
    "",
    heapTable(sockstate, raw),
    "",
    "#### (b) Bundle bytes by module (esbuild metafile, main entry)",
    "",
    ...bundles.flatMap((bundle) => [bundleTable(bundle), ""]),
    "What the main entry cannot shed (bench/bundle-floor.ts):",
    "",
    ...floorLines(floor),
    "",
  ].join("\n");
}
