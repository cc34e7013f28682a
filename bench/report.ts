/**
 * Collects per-round measurements and turns them into the markdown table: medians,
 * min–max over the measured rounds, the ratio to raw `ws` computed per round, and the
 * budgets `--check` holds sockstate to.
 */
import type { BundleSize } from "./bundle";
import { CLIENT_NAMES, type ClientName, RAW_WS_WEBSOCKET_API } from "./clients";
import type { ScaleResult } from "./scale";
import type { Plan } from "./scenarios";
import { kib, max, median, min } from "./stats";

export type MetricId =
  | "inbound"
  | "inbound-cpu"
  | "outbound"
  | "outbound-cpu"
  | "memory"
  | "memory-code"
  | "reconnect-median"
  | "reconnect-p95"
  | "half-open-detected"
  | "half-open-reopened";

/** A value per metric and client in one round; `null` = did not happen within the cap. */
export type Round = Map<MetricId, Map<ClientName, number | null>>;

/** How a metric compares with raw `ws`: `faster` = raw time / client time (≥ 1 is better), `costlier` = client / raw. */
type RatioKind = "faster" | "costlier";

interface Metric {
  id: MetricId;
  scenario: (plan: Plan) => string;
  format: (value: number) => string;
  ratio?: RatioKind;
}

const ms = (value: number) => (value >= 100 ? `${Math.round(value).toLocaleString("en-US")} ms` : `${value.toFixed(2)} ms`);
const count = (value: number) => value.toLocaleString("en-US");

function throughput(frames: number): (value: number) => string {
  return (value) => `${ms(value)} (${Math.round(frames / (value / 1000) / 1000)}k frames/s)`;
}

const bestOf = (plan: Plan, metric: keyof Plan["bursts"]) =>
  plan.bursts[metric] > 1 ? `, fastest of ${plan.bursts[metric]} per round` : "";

const METRICS: readonly Metric[] = [
  { id: "inbound", scenario: (p) => `1. inbound: ${count(p.frames)} × 100 B frames, server → client${bestOf(p, "inbound")}`, format: ms, ratio: "faster" },
  { id: "inbound-cpu", scenario: () => "1. inbound: client CPU time of the same bursts", format: ms, ratio: "faster" },
  { id: "outbound", scenario: (p) => `2. outbound: ${count(p.frames)} × 100 B frames, client → server${bestOf(p, "outbound")}`, format: ms, ratio: "faster" },
  { id: "outbound-cpu", scenario: () => "2. outbound: client CPU time of the same bursts", format: ms, ratio: "faster" },
  {
    id: "memory",
    scenario: (p) =>
      `3. memory per idle connection (${count(p.idleConnections)} open, read ${p.idleSettle / 1000} s later, heap + external after GC)`,
    format: kib,
    ratio: "costlier",
  },
  { id: "memory-code", scenario: () => "3. memory: of it, growth of V8's compiled code (not per connection)", format: kib },
  { id: "reconnect-median", scenario: (p) => `4. reconnect latency, median of ${p.drops} drops`, format: ms, ratio: "costlier" },
  { id: "reconnect-p95", scenario: (p) => `4. reconnect latency, p95 of ${p.drops} drops`, format: ms, ratio: "costlier" },
  { id: "half-open-detected", scenario: () => "5. half-open: noticed after the last frame", format: ms },
  { id: "half-open-reopened", scenario: () => "5. half-open: open again after the last frame", format: ms },
];

/** A budget and whether this run met it. */
export interface BudgetCheck {
  /** The scenario (as `--only` names it) that measures it. */
  scenario: "inbound" | "outbound" | "memory" | "half-open" | "bundle";
  name: string;
  limit: string;
  actual: string;
  ok: boolean;
}

export class Measurements {
  readonly rounds: Round[] = [];

  startRound(): Round {
    const round: Round = new Map();
    this.rounds.push(round);
    return round;
  }

  static record(round: Round, metric: MetricId, client: ClientName, value: number | null): void {
    let byClient = round.get(metric);
    if (!byClient) {
      byClient = new Map();
      round.set(metric, byClient);
    }
    byClient.set(client, value);
  }

  /** Values of `metric` for `client`, one per round that measured it. */
  values(metric: MetricId, client: ClientName): Array<number | null> {
    return this.rounds.flatMap((round) => {
      const value = round.get(metric)?.get(client);
      return value === undefined ? [] : [value];
    });
  }

  /** Per-round ratios of `client` to raw `ws` for `metric`. */
  ratios(metric: MetricId, client: ClientName, kind: RatioKind): number[] {
    return this.rounds.flatMap((round) => {
      const value = round.get(metric)?.get(client);
      const raw = round.get(metric)?.get("raw ws");
      if (value == null || raw == null) return [];
      return [kind === "faster" ? raw / value : value / raw];
    });
  }
}

/** Median and min–max of the non-null values; `never` when none happened. */
function summarize(values: Array<number | null>, format: (value: number) => string, never: string): [string, string] {
  const happened = values.filter((value): value is number => value !== null);
  if (values.length === 0) return ["—", "—"];
  if (happened.length === 0) return [never, "—"];
  const missed = values.length - happened.length;
  const suffix = missed > 0 ? ` (${never} in ${missed} of ${values.length} rounds)` : "";
  return [format(median(happened)) + suffix, `${format(min(happened))} – ${format(max(happened))}`];
}

function ratioCell(ratios: number[]): string {
  if (ratios.length === 0) return "—";
  return `${median(ratios).toFixed(2)}× (${min(ratios).toFixed(2)} – ${max(ratios).toFixed(2)})`;
}

/** The budgets of the issue, evaluated on this run's sockstate figures. */
export function checkBudgets(measurements: Measurements, bundles: readonly BundleSize[], plan: Plan): BudgetCheck[] {
  const checks: BudgetCheck[] = [];
  const ratioBudget = (metric: "inbound" | "outbound" | "memory", kind: RatioKind, name: string, limit: number) => {
    const ratios = measurements.ratios(metric, "sockstate", kind);
    const actual = median(ratios);
    const ok = ratios.length > 0 && (kind === "faster" ? actual >= limit : actual <= limit);
    checks.push({ scenario: metric, name, limit: `${kind === "faster" ? "≥" : "≤"} ${limit.toFixed(2)}× raw ws`, actual: `${actual.toFixed(2)}×`, ok });
  };
  ratioBudget("inbound", "faster", "inbound throughput", 0.9);
  ratioBudget("outbound", "faster", "outbound throughput", 0.9);
  ratioBudget("memory", "costlier", "memory per idle connection", 2.5);

  const { interval, timeout } = plan.heartbeat;
  const detectLimit = interval + timeout + 100;
  const detected = measurements.values("half-open-detected", "sockstate");
  const worst = detected.some((value) => value === null) ? Number.POSITIVE_INFINITY : max(detected as number[]);
  checks.push({
    scenario: "half-open",
    name: `half-open detected, every round (heartbeat ${interval}/${timeout} ms)`,
    limit: `≤ ${detectLimit} ms`,
    actual: Number.isFinite(worst) ? `${Math.round(worst)} ms (worst round)` : "not detected in a round",
    ok: detected.length > 0 && worst <= detectLimit,
  });

  const bundleBudget = (label: string, limitKib: number) => {
    const bundle = bundles.find((candidate) => candidate.label === label);
    checks.push({
      scenario: "bundle",
      name: `bundle: ${label}`,
      limit: `≤ ${limitKib} KB gzip`,
      actual: bundle ? `${kib(bundle.gzip)} gzip` : "not measured",
      ok: bundle !== undefined && bundle.gzip <= limitKib * 1024,
    });
  };
  bundleBudget("sockstate (xstate included)", 16);
  bundleBudget("sockstate's own code (xstate external)", 4);
  return checks;
}

/** Clients in table order; the diagnostic raw `ws` via `onmessage` last. */
const ROW_CLIENTS: readonly ClientName[] = [...CLIENT_NAMES, RAW_WS_WEBSOCKET_API];

const mark = (ok: boolean) => (ok ? "✅" : "❌");

/** The main table: one row per scenario and client. */
export function resultsTable(measurements: Measurements, bundles: readonly BundleSize[], plan: Plan, budgets: readonly BudgetCheck[]): string {
  const budgetFor = (prefix: string) => budgets.find((budget) => budget.name.startsWith(prefix));
  const budgetCell = (metric: MetricId): string => {
    const budget =
      metric === "inbound"
        ? budgetFor("inbound")
        : metric === "outbound"
          ? budgetFor("outbound")
          : metric === "memory"
            ? budgetFor("memory")
            : metric === "half-open-detected"
              ? budgetFor("half-open")
              : undefined;
    return budget ? `${budget.limit} ${mark(budget.ok)}` : "";
  };
  const never = `never within ${plan.halfOpenCap / 1000} s`;
  const lines = [
    "| Scenario | Client | Median | Min – max | vs raw ws, per round: median (min – max) | Budget |",
    "|---|---|---|---|---|---|",
  ];
  for (const metric of METRICS) {
    if (measurements.rounds.every((round) => !round.has(metric.id))) continue;
    for (const client of ROW_CLIENTS) {
      const values = measurements.values(metric.id, client);
      if (values.length === 0) continue;
      const format = metric.id === "inbound" || metric.id === "outbound" ? throughput(plan.frames) : metric.format;
      const [middle, range] = summarize(values, format, never);
      const ratio = metric.ratio && client !== "raw ws" ? ratioCell(measurements.ratios(metric.id, client, metric.ratio)) : "";
      const budget = client === "sockstate" ? budgetCell(metric.id) : "";
      lines.push(`| ${metric.scenario(plan)} | ${client} | ${middle} | ${range} | ${ratio} | ${budget} |`);
    }
  }
  for (const client of CLIENT_NAMES) {
    const sizes = bundles.filter((bundle) => bundle.client === client);
    if (bundles.length > 0 && sizes.length === 0) {
      lines.push(`| 6. bundle size (esbuild, minified, gzip -9) | ${client} | N/A: browsers have WebSocket | | | |`);
    }
    for (const bundle of sizes) {
      const budget = budgets.find((check) => check.name === `bundle: ${bundle.label}`);
      lines.push(
        `| 6. bundle size (esbuild, minified, gzip -9) | ${bundle.label} | ${kib(bundle.gzip)} gzip | ${kib(bundle.minified)} minified | | ${budget ? `${budget.limit} ${mark(budget.ok)}` : ""} |`,
      );
    }
  }
  return lines.join("\n");
}

/** The budgets as a short list, printed after every run (`--check` also exits 1 on a miss). */
export function budgetList(budgets: readonly BudgetCheck[]): string {
  return budgets.map((budget) => `- ${mark(budget.ok)} ${budget.name}: ${budget.actual} (budget ${budget.limit})`).join("\n");
}

/** The scale figure as a sentence-sized table. */
export function scaleTable(scale: ScaleResult): string {
  // All idle CPU (timers, the 1 s wall-clock checks, GC) over the pings: an upper bound per heartbeat.
  const perHeartbeat = scale.heartbeats > 0 ? (scale.idleCpuShare * scale.idleMs * 1000) / scale.heartbeats : Number.NaN;
  return [
    `| ${count(scale.count)} managed sockets, one sockstate client, one process | |`,
    "|---|---|",
    `| time to open all (ticket + handshake each, all at once) | ${ms(scale.openAllMs)} (${count(scale.reconnectsWhileOpening)} reconnect attempts meanwhile) |`,
    `| memory per socket (heap + external after GC) | ${kib(scale.bytesPerSocket)} |`,
    `| RSS per socket | ${kib(scale.rssPerSocket)} |`,
    `| CPU while idle, heartbeat every ${scale.heartbeatInterval / 1000} s | ${(scale.idleCpuShare * 100).toFixed(1)} % of one core over ${(scale.idleMs / 1000).toFixed(1)} s, ${scale.heartbeats > 0 ? `${count(scale.heartbeats)} ping/pong round trips in it (≤ ${Math.round(perHeartbeat)} µs CPU each)` : "no heartbeat fell due in it"} |`,
  ].join("\n");
}
