/**
 * `npm run bench` — sockstate side by side with raw `ws`, partysocket and
 * reconnecting-websocket, round after round, every client interleaved.
 *
 *   npm run bench                      1 warm-up + 7 measured rounds, full sizes, then the scale
 *                                      figure; writes bench/RESULTS.md
 *   npm run bench -- --quick           1 warm-up + 2 rounds at small sizes (CI; prints only)
 *   npm run bench -- --check           exits 1 when a budget is missed
 *   npm run bench -- --rounds 9        more measured rounds
 *   npm run bench -- --only inbound,memory   some scenarios only (inbound, outbound,
 *                                      memory, reconnect, half-open, bundle, scale; prints only)
 *   npm run bench -- --idle-settle 6000   read idle memory 6 s after opening (default 1 s)
 *   npm run bench -- --results         write bench/RESULTS.md even from --quick or --only
 *   npm run bench -- --breakdown       where the bytes go: heap per socket by constructor,
 *                                      bundle bytes by module; writes RESULTS.md's latest
 *                                      breakdown (with --baseline: its "before" section)
 *   node --expose-gc --import tsx bench/retainers.ts 300 1000 Map   who keeps those bytes:
 *                                      retainer paths per group (after npm run build)
 *   node --expose-gc --import tsx bench/inbound-pairs.ts 80   sockstate against ws's
 *                                      WebSocket API only, turn by turn: a change to the
 *                                      inbound path told from noise (after npm run build)
 *
 * sockstate is measured as built (`dist/`): `prebench` (scripts/ensure-dist.ts) rebuilds it
 * when it is missing or older than a source file.
 *
 * The server runs in its own process (bench/server.ts) on 127.0.0.1; this process and
 * the server are pinned to different cores with `taskset` where it exists.
 */
import { parseArgs } from "node:util";
import { breakdown } from "./breakdown";
import { bundleSizes, type BundleSize } from "./bundle";
import { CLIENT_NAMES, type ClientName, createBenchClient, RAW_WS_WEBSOCKET_API, type SockstateVariant } from "./clients";
import { type BenchServer, pinSelf, type Pinning, runChild, startServer } from "./processes";
import { type BundleFloor, bundleFloor } from "./bundle-floor";
import { BUDGETS, budgetList, checkBudgets, floorLines, informationLines, Measurements, resultsTable, type Round, scaleTable } from "./report";
import { machineLines, RESULTS_PATH, writeSection } from "./results";
import type { ScaleResult } from "./scale";
import type { IdleMemoryResult } from "./idle-memory";
import { type Burst, halfOpen, inbound, outbound, type Plan, reconnectLatencies } from "./scenarios";
import { median, percentile, waitUntil } from "./stats";

const SCENARIOS = ["inbound", "outbound", "memory", "reconnect", "half-open", "bundle", "scale"] as const;
type Scenario = (typeof SCENARIOS)[number];

const FULL: Plan = {
  frames: 200_000,
  // An inbound burst is short, and the ratio of two clients' bursts in one turn spreads
  // widely (a burst runs in a fast or a slow mode): a round takes more of them.
  bursts: { inbound: 9, outbound: 3 },
  idleConnections: 1000,
  openBatch: 100,
  idleSettle: 1000,
  drops: 50,
  // Five times the budget: the peers have no heartbeat and never notice; waiting longer proves nothing.
  halfOpenCap: 5000,
  heartbeat: { interval: 500, timeout: 500 },
};
const QUICK: Plan = { ...FULL, frames: 20_000, bursts: { inbound: 1, outbound: 1 }, idleConnections: 200, drops: 10, halfOpenCap: 2000 };
/** The scale figure: the default heartbeat (25 s), so "idle" is what an application would see. */
const SCALE = {
  full: { count: BUDGETS.scaleSockets, idleMs: 30_000, settleMs: 6000 },
  quick: { count: 500, idleMs: 2000, settleMs: 500 },
  heartbeatInterval: 25_000,
};
/**
 * The breakdown's heap census: sockets per side, and the wait after the last open (past
 * the 4 s for which Node's fetch keeps a ticket request's connection alive).
 */
const BREAKDOWN = { full: { sockets: 1000, settleMs: 5000 }, quick: { sockets: 200, settleMs: 5000 } };

/** Information rows: sockstate set up another way, run beside the four clients in these scenarios. */
const TYPED_MESSAGES: readonly SockstateVariant[] = ["sockstate, onData", "sockstate, onData + schema"];
const RECONNECT_VARIANTS: readonly SockstateVariant[] = ["sockstate, HTTP ticket", "sockstate, silent server"];
const HALF_OPEN_VARIANTS: readonly SockstateVariant[] = ["sockstate, silent server"];
/** One client's warm-up batch and idle connections, opened, read and closed. */
const IDLE_MEMORY_TIMEOUT = 120_000;
/** Two openings of up to 310 s each (bench/scale.ts), the idle window and the closes. */
const SCALE_TIMEOUT = 900_000;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
      rounds: { type: "string" },
      only: { type: "string" },
      "idle-settle": { type: "string" },
      results: { type: "boolean", default: false },
      breakdown: { type: "boolean", default: false },
      baseline: { type: "boolean", default: false },
    },
  });
  if (values.baseline && !values.breakdown) throw new TypeError("--baseline goes with --breakdown");
  const settleArg = values["idle-settle"];
  const idleSettle = settleArg === undefined ? undefined : Number(settleArg);
  if (idleSettle !== undefined && (!/^\d+$/.test(settleArg!) || idleSettle > 60_000)) {
    throw new TypeError("--idle-settle must be an integer number of ms from 0 to 60000");
  }
  const rounds = values.rounds === undefined ? (values.quick ? 2 : 7) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new TypeError("--rounds must be an integer from 1 to 50");
  const only = values.only?.split(",").map((name) => name.trim()) ?? [...SCENARIOS];
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new TypeError(`--only: unknown scenario ${name} (${SCENARIOS.join(", ")})`);
  }
  return {
    quick: values.quick,
    check: values.check,
    rounds,
    only: new Set(only as Scenario[]),
    partial: values.only !== undefined,
    idleSettle,
    results: values.results,
    breakdown: values.breakdown,
    baseline: values.baseline,
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** `names` in a different order every round, so no client always goes first. */
function rotated(names: readonly ClientName[], round: number): ClientName[] {
  const shift = round % names.length;
  return [...names.slice(shift), ...names.slice(0, shift)];
}

/** What a round runs beyond the four clients, and how. */
interface Extras {
  /** The core the client side runs on, also for the processes it starts. */
  pinning: Pinning;
  /** The typed-message rows, when this sockstate has `onData`. */
  typedMessages: readonly SockstateVariant[];
}

async function runRound(server: BenchServer, plan: Plan, only: Set<Scenario>, round: Round, index: number, extras: Extras): Promise<void> {
  const order = rotated(CLIENT_NAMES, index);
  const put = (metric: Parameters<typeof Measurements.record>[1], client: ClientName, value: number | null) =>
    Measurements.record(round, metric, client, value);
  // Throughput: the clients take turns; per client every burst (the ratios pair them turn by
  // turn), the fastest and the least CPU.
  const throughput = async (metric: "inbound" | "outbound", burst: typeof inbound, names: readonly ClientName[]) => {
    const bursts = new Map<ClientName, Burst[]>(names.map((name) => [name, []]));
    for (let repeat = 0; repeat < plan.bursts[metric]; repeat++) {
      for (const name of names) bursts.get(name)!.push(await burst(createBenchClient(name, server), server, plan.frames));
    }
    for (const [name, results] of bursts) {
      const times = results.map((result) => result.ms);
      put(metric, name, Math.min(...times));
      put(`${metric}-cpu`, name, Math.min(...results.map((result) => result.cpuMs)));
      Measurements.recordBursts(round, metric, name, times);
    }
  };
  if (only.has("inbound")) await throughput("inbound", inbound, rotated([...CLIENT_NAMES, RAW_WS_WEBSOCKET_API, ...extras.typedMessages], index));
  if (only.has("outbound")) await throughput("outbound", outbound, order);
  if (only.has("memory")) {
    for (const name of order) {
      const { bytes, codeBytes } = await idleMemoryApart(server, plan, name, extras.pinning);
      put("memory", name, bytes);
      put("memory-code", name, codeBytes);
    }
  }
  if (only.has("reconnect")) {
    // The budget row: sockstate's ticket from an injected fetch that answers at once.
    for (const name of rotated([...CLIENT_NAMES, ...RECONNECT_VARIANTS], index)) {
      const latencies = await reconnectLatencies(name, server, plan.drops, { ticket: "local" });
      put("reconnect-median", name, median(latencies));
      put("reconnect-p95", name, percentile(latencies, 95));
    }
  }
  if (only.has("half-open")) {
    const results = await halfOpen([...order, ...HALF_OPEN_VARIANTS], server, plan);
    for (const [name, result] of results) {
      put("half-open-detected", name, result.detected ?? null);
      put("half-open-reopened", name, result.reopened ?? null);
    }
  }
}

function describeRound(round: Round): string {
  return [...round]
    .map(([metric, byClient]) => `${metric} ${[...byClient].map(([client, value]) => `${client}=${value === null ? "never" : value.toFixed(1)}`).join(" ")}`)
    .join(" | ");
}

/**
 * The memory scenario for one client in a process of its own (bench/idle-memory.ts), so
 * that no earlier scenario's leftovers are counted; then the server drains its connections.
 */
async function idleMemoryApart(server: BenchServer, plan: Plan, name: ClientName, pinning: Pinning): Promise<IdleMemoryResult> {
  const args = [server.apiUrl, name, String(plan.idleConnections), String(plan.openBatch), String(plan.idleSettle)];
  const result = await runChild<IdleMemoryResult>("idle-memory.ts", "idle-memory", args, pinning, IDLE_MEMORY_TIMEOUT);
  await waitUntil(async () => (await server.connections()) === 0, IDLE_MEMORY_TIMEOUT, "server connections to drain", 20);
  return result;
}

async function runScale(server: BenchServer, pinning: Pinning, quick: boolean): Promise<ScaleResult> {
  const size = quick ? SCALE.quick : SCALE.full;
  const args = [server.apiUrl, ...[size.count, SCALE.heartbeatInterval, size.idleMs, size.settleMs].map(String)];
  return runChild<ScaleResult>("scale.ts", "scale", args, pinning, SCALE_TIMEOUT);
}

async function main(): Promise<number> {
  const options = parseOptions();
  const sizes = options.quick ? QUICK : FULL;
  const plan: Plan = options.idleSettle === undefined ? sizes : { ...sizes, idleSettle: options.idleSettle };
  const pinning = pinSelf();
  const started = performance.now();
  const args = process.argv.slice(2);
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`;
  const pinningLine = pinning.enabled ? pinning.note : `not pinned: ${pinning.note}`;
  const server = await startServer(pinning);
  try {
    if (options.breakdown) {
      const size = options.quick ? BREAKDOWN.quick : BREAKDOWN.full;
      const markdown = await breakdown(server.apiUrl, size, pinning, log);
      const section = [
        `## Breakdown, ${options.baseline ? "before (the baseline the memory and size work starts from)" : "latest"}`,
        "",
        ...machineLines(command, [pinningLine]),
        "",
        markdown,
      ].join("\n");
      process.stdout.write(`${section}\n`);
      writeSection(options.baseline ? "breakdown-before" : "breakdown-latest", section);
      log(`written to ${RESULTS_PATH}`);
      return 0;
    }

    log(`sockstate bench: ${options.quick ? "quick" : "full"}, 1 warm-up + ${options.rounds} measured rounds; ${pinning.note}`);
    const measurements = new Measurements();
    const typedMessages = options.only.has("inbound") ? TYPED_MESSAGES : [];
    const roundScenarios = [...options.only].some((name) => name !== "bundle" && name !== "scale");
    for (let index = 0; roundScenarios && index <= options.rounds; index++) {
      const warmUp = index === 0;
      const round = warmUp ? new Map() : measurements.startRound();
      const roundStart = performance.now();
      await runRound(server, plan, options.only, round, index, { typedMessages, pinning });
      log(`${warmUp ? "warm-up" : `round ${index}/${options.rounds}`} (${Math.round(performance.now() - roundStart)} ms): ${describeRound(round)}`);
    }

    let bundles: BundleSize[] = [];
    let floor: BundleFloor | undefined;
    if (options.only.has("bundle")) [bundles, floor] = await Promise.all([bundleSizes(), bundleFloor()]);

    const scaleCount = options.quick ? SCALE.quick.count : SCALE.full.count;
    let scale: ScaleResult | undefined;
    if (options.only.has("scale")) {
      log(`scale: ${scaleCount} sockstate sockets…`);
      // A failed scale run is a missed budget, not a lost report.
      scale = await runScale(server, pinning, options.quick).catch((error: unknown) => {
        log(`scale: failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
    }

    const budgets = checkBudgets(measurements, bundles, plan, { planned: scaleCount, result: scale }).filter((budget) =>
      options.only.has(budget.scenario),
    );
    const information = [...informationLines(measurements), ...(floor ? floorLines(floor) : [])];
    const report = [
      `## Latest run (${options.quick ? "--quick" : "full"}, ${options.rounds} measured rounds after a warm-up)`,
      "",
      ...machineLines(command, [pinningLine]),
    ];
    if (measurements.rounds.length > 0 || bundles.length > 0) report.push("", resultsTable(measurements, bundles, plan, budgets));
    if (scale) report.push("", scaleTable(scale));
    report.push("", "Budgets:", "", budgetList(budgets));
    if (information.length > 0) report.push("", "Information:", "", ...information);
    report.push("", `Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    process.stdout.write(`${report.join("\n")}\n`);
    if (options.results || (!options.quick && !options.partial)) {
      writeSection("run", report.join("\n"));
      log(`written to ${RESULTS_PATH}`);
    }

    const missed = budgets.filter((budget) => !budget.ok);
    if (options.check && missed.length > 0) {
      log(`--check: ${missed.length} budget(s) missed`);
      return 1;
    }
    return 0;
  } finally {
    server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
