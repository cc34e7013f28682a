/**
 * `npm run bench` — sockstate side by side with raw `ws`, partysocket and
 * reconnecting-websocket, round after round, every client interleaved.
 *
 *   npm run bench                      1 warm-up + 5 measured rounds, full sizes, then the scale figure
 *   npm run bench -- --quick           1 warm-up + 2 rounds at small sizes (under a minute; CI)
 *   npm run bench -- --check           exits 1 when a budget is missed
 *   npm run bench -- --rounds 8        more measured rounds
 *   npm run bench -- --only inbound,memory   some scenarios only (inbound, outbound,
 *                                      memory, reconnect, half-open, bundle, scale)
 *   npm run bench -- --idle-settle 6000   read idle memory 6 s after opening (default 1 s)
 *
 * sockstate is measured as built (`dist/`): `prebench` (scripts/ensure-dist.ts) rebuilds it
 * when it is missing or older than a source file.
 *
 * The server runs in its own process (bench/server.ts) on 127.0.0.1; this process and
 * the server are pinned to different cores with `taskset` where it exists.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { bundleSizes, type BundleSize } from "./bundle";
import { CLIENT_NAMES, type ClientName, createBenchClient, RAW_WS_WEBSOCKET_API } from "./clients";
import { type BenchServer, nextMessage, pinSelf, type Pinning, spawnBenchProcess, startServer } from "./processes";
import { budgetList, checkBudgets, Measurements, resultsTable, type Round, scaleTable } from "./report";
import type { ScaleResult } from "./scale";
import { type Burst, halfOpen, idleMemory, inbound, outbound, type Plan, reconnectLatencies } from "./scenarios";
import { median, percentile } from "./stats";

const SCENARIOS = ["inbound", "outbound", "memory", "reconnect", "half-open", "bundle", "scale"] as const;
type Scenario = (typeof SCENARIOS)[number];

const FULL: Plan = {
  frames: 200_000,
  bursts: { inbound: 5, outbound: 3 },
  idleConnections: 1000,
  openBatch: 100,
  idleSettle: 1000,
  drops: 50,
  halfOpenCap: 30_000,
  heartbeat: { interval: 500, timeout: 500 },
};
const QUICK: Plan = { ...FULL, frames: 20_000, bursts: { inbound: 1, outbound: 1 }, idleConnections: 200, drops: 10, halfOpenCap: 2000 };
/** The scale figure: the default heartbeat (25 s), so "idle" is what an application would see. */
const SCALE = {
  full: { count: 5000, idleMs: 30_000, settleMs: 6000 },
  quick: { count: 500, idleMs: 2000, settleMs: 500 },
  heartbeatInterval: 25_000,
};
const SCALE_TIMEOUT = 300_000;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
      rounds: { type: "string" },
      only: { type: "string" },
      "idle-settle": { type: "string" },
    },
  });
  const settleArg = values["idle-settle"];
  const idleSettle = settleArg === undefined ? undefined : Number(settleArg);
  if (idleSettle !== undefined && (!/^\d+$/.test(settleArg!) || idleSettle > 60_000)) {
    throw new TypeError("--idle-settle must be an integer number of ms from 0 to 60000");
  }
  const rounds = values.rounds === undefined ? (values.quick ? 2 : 5) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new TypeError("--rounds must be an integer from 1 to 50");
  const only = values.only?.split(",").map((name) => name.trim()) ?? [...SCENARIOS];
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new TypeError(`--only: unknown scenario ${name} (${SCENARIOS.join(", ")})`);
  }
  return { quick: values.quick, check: values.check, rounds, only: new Set(only as Scenario[]), idleSettle };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The clients in a different order every round, so no client always goes first. */
function rotated(round: number): ClientName[] {
  const shift = round % CLIENT_NAMES.length;
  return [...CLIENT_NAMES.slice(shift), ...CLIENT_NAMES.slice(0, shift)];
}

async function runRound(server: BenchServer, plan: Plan, only: Set<Scenario>, round: Round, order: ClientName[]): Promise<void> {
  const put = (metric: Parameters<typeof Measurements.record>[1], client: ClientName, value: number | null) =>
    Measurements.record(round, metric, client, value);
  // Throughput: every client's bursts interleaved; per client the fastest burst and the least CPU.
  const throughput = async (metric: "inbound" | "outbound", burst: typeof inbound, names: readonly ClientName[]) => {
    const best = new Map<ClientName, Burst>();
    for (let repeat = 0; repeat < plan.bursts[metric]; repeat++) {
      for (const name of names) {
        const result = await burst(createBenchClient(name, server), server, plan.frames);
        const previous = best.get(name) ?? result;
        best.set(name, { ms: Math.min(previous.ms, result.ms), cpuMs: Math.min(previous.cpuMs, result.cpuMs) });
      }
    }
    for (const [name, result] of best) {
      put(metric, name, result.ms);
      put(`${metric}-cpu`, name, result.cpuMs);
    }
  };
  if (only.has("inbound")) await throughput("inbound", inbound, [...order, RAW_WS_WEBSOCKET_API]);
  if (only.has("outbound")) await throughput("outbound", outbound, order);
  if (only.has("memory")) {
    for (const name of order) {
      const { bytes, codeBytes } = await idleMemory(createBenchClient(name, server), server, plan);
      put("memory", name, bytes);
      put("memory-code", name, codeBytes);
    }
  }
  if (only.has("reconnect")) {
    for (const name of order) {
      const latencies = await reconnectLatencies(name, server, plan.drops);
      put("reconnect-median", name, median(latencies));
      put("reconnect-p95", name, percentile(latencies, 95));
    }
  }
  if (only.has("half-open")) {
    const results = await halfOpen(order, server, plan);
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

async function runScale(server: BenchServer, pinning: Pinning, quick: boolean): Promise<ScaleResult> {
  const size = quick ? SCALE.quick : SCALE.full;
  const child = spawnBenchProcess("scale.ts", {
    ...(pinning.enabled ? { core: pinning.clientCore } : {}),
    execArgv: ["--expose-gc"],
    args: [server.apiUrl, ...[size.count, SCALE.heartbeatInterval, size.idleMs, size.settleMs].map(String)],
  });
  try {
    return await nextMessage(
      child,
      (message) => ((message as ScaleResult).type === "scale" ? (message as ScaleResult) : undefined),
      SCALE_TIMEOUT,
      "scale run",
    );
  } finally {
    child.kill("SIGKILL");
  }
}

function machine(pinning: Pinning): string {
  return [
    `- CPU: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores`,
    `- Node.js ${process.version}, ${process.platform}/${process.arch}`,
    `- ${pinning.enabled ? pinning.note : `not pinned: ${pinning.note}`}`,
  ].join("\n");
}

async function main(): Promise<number> {
  const options = parseOptions();
  const sizes = options.quick ? QUICK : FULL;
  const plan: Plan = options.idleSettle === undefined ? sizes : { ...sizes, idleSettle: options.idleSettle };
  const pinning = pinSelf();
  const started = performance.now();
  log(`sockstate bench: ${options.quick ? "quick" : "full"}, 1 warm-up + ${options.rounds} measured rounds; ${pinning.note}`);

  const server = await startServer(pinning);
  try {
    const measurements = new Measurements();
    const roundScenarios = [...options.only].some((name) => name !== "bundle" && name !== "scale");
    for (let index = 0; roundScenarios && index <= options.rounds; index++) {
      const warmUp = index === 0;
      const round = warmUp ? new Map() : measurements.startRound();
      const order = rotated(index);
      const roundStart = performance.now();
      await runRound(server, plan, options.only, round, order);
      log(`${warmUp ? "warm-up" : `round ${index}/${options.rounds}`} (${Math.round(performance.now() - roundStart)} ms): ${describeRound(round)}`);
    }

    let bundles: BundleSize[] = [];
    if (options.only.has("bundle")) bundles = await bundleSizes();

    let scale: ScaleResult | undefined;
    if (options.only.has("scale")) {
      log(`scale: ${options.quick ? SCALE.quick.count : SCALE.full.count} sockstate sockets…`);
      scale = await runScale(server, pinning, options.quick);
    }

    const budgets = checkBudgets(measurements, bundles, plan).filter((budget) => options.only.has(budget.scenario));
    const report = [
      `### sockstate bench (${options.quick ? "--quick" : "full"}, ${options.rounds} measured rounds after a warm-up)`,
      "",
      machine(pinning),
    ];
    if (measurements.rounds.length > 0 || bundles.length > 0) report.push("", resultsTable(measurements, bundles, plan, budgets));
    if (scale) report.push("", scaleTable(scale));
    report.push("", "Budgets:", "", budgetList(budgets), "", `Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    process.stdout.write(`${report.join("\n")}\n`);

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
