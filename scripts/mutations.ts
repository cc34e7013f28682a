/**
 * Mutation check of the model-based suite (`npm run test:mutations`).
 *
 * Applies deliberate faults to a copy of the connection machine (or of the protocol, the
 * socket link or the manager around it), one at a time, runs `tests/model/` against
 * each copy, and expects the suite to fail. The paths and the
 * coverage are generated from the (mutated) machine itself, so a mutant dies only when
 * the protocol oracle, the property invariants, or the driver's checks catch what it does.
 *
 *   npm run test:mutations             every mutant, stopping each run at its first failure
 *   npm run test:mutations -- --full   every mutant, whole suite (which test files catch it)
 *   npm run test:mutations -- 4001     only mutants whose name contains "4001"
 *
 * Exits 1 if a mutant survives, does not apply (the machine changed), or breaks the build.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const MACHINE = "machines/connection.machine.ts";

interface Mutant {
  name: string;
  /** What the fault does, in words. */
  fault: string;
  /** The file to mutate. @default the machine */
  file?: string;
  /** Matched exactly once in the file's source. */
  find: RegExp | string;
  replace: string;
}

const MUTANTS: Mutant[] = [
  {
    name: "drop-pong-transition",
    fault: "awaitingPong ignores socket.alive (a pong no longer proves liveness)",
    find: /(awaitingPong: \{[^}]*?entry: \["notePingSent", "pingSocket"\],\s*)on: \{ "socket\.alive": \{ target: "live" \} \},/,
    replace: "$1on: {},",
  },
  {
    name: "swap-close-guards",
    fault: "the server-close guards swapped: 4001 is terminal, 4003/4004/1008 refresh the ticket",
    find: /\{ guard: "isTerminalClose", (target: "closed", actions: \[[^\]]*\]) \},\s*\{ guard: "isTicketRejected", (target: "refreshing", actions: "recordFailure") \}/,
    replace: `{ guard: "isTicketRejected", $1 }, { guard: "isTerminalClose", $2 }`,
  },
  {
    name: "4001-to-lost",
    fault: "4001 goes to lost (backoff) instead of refreshing the ticket at once",
    find: `{ guard: "isTicketRejected", target: "refreshing", actions: "recordFailure" }`,
    replace: `{ guard: "isTicketRejected", target: "lost", actions: "recordFailure" }`,
  },
  {
    name: "no-heartbeat-timeout",
    fault: "awaitingPong has no heartbeat timeout: a dead link is never dropped",
    find: /after: \{\s*heartbeatTimeout: \[[\s\S]*?\],\s*\},/,
    replace: "",
  },
  {
    name: "drop-without-4000",
    fault: "a heartbeat drop closes with 1000 instead of 4000",
    find: "drop(HEARTBEAT_TIMEOUT_CODE,",
    replace: "drop(1000,",
  },
  {
    name: "retry-off-by-one",
    fault: "canRetry allows one attempt more than maxReconnectAttempts",
    find: "context.attempt < context.settings.maxReconnectAttempts",
    replace: "context.attempt <= context.settings.maxReconnectAttempts",
  },
  {
    name: "no-attempt-reset",
    fault: "a stable connection no longer resets the attempt counter",
    find: "(Date.now() - context.openedAt >= stableUptime(context.settings.reconnectDelay) ? 0 : context.attempt)",
    replace: "context.attempt",
  },
  {
    name: "attempt-reset-without-uptime",
    fault: "a connection's uptime is not noted: every drop resets the attempt counter, however short the connection",
    find: `entry: "noteOpened",`,
    replace: "",
  },
  {
    name: "ticket-refusal-retried",
    fault: "a 401/403 ticket answer is retried instead of closing",
    find: /guard: "isTicketRefused",\s*target: "closed",/,
    replace: `guard: "isTicketRefused", target: "lost",`,
  },
  {
    name: "no-announce-on-refresh",
    fault: "a 4001 refresh does not announce its attempt on onReconnecting",
    find: `{ guard: "canRetry", target: "starting", actions: ["countAttempt", "announceAttempt"] },`,
    replace: `{ guard: "canRetry", target: "starting", actions: ["countAttempt"] },`,
  },
  {
    name: "backoff-ignores-wake",
    fault: "a socket waiting out its backoff ignores visibilitychange/online",
    find: `on: { "connection.wake": { target: "starting", actions: "announceAttempt" } },`,
    replace: "",
  },
  {
    name: "no-open-confirmation",
    fault: "the open connection is never announced as established (connect() never resolves)",
    find: `actions: ["announceEstablished", "countConnection", "cancelOpenTimeout"],`,
    replace: `actions: ["countConnection", "cancelOpenTimeout"],`,
  },
  {
    name: "confirm-without-asking",
    fault: "the confirmation window announces established without asking the socket: a refusal whose close frame is in resolves connect()",
    find: `openConfirmation: { actions: "confirmSocket" },`,
    replace: `openConfirmation: { target: "open", actions: ["announceEstablished", "countConnection", "cancelOpenTimeout"] },`,
  },
  {
    name: "no-close-timeout",
    fault: "a requested close waits forever for the server's close frame",
    find: `after: { closeTimeout: { target: "#connection.closed" } },`,
    replace: "",
  },
  {
    name: "closing-not-idempotent",
    fault: "close() while closing ends the socket at once instead of being ignored",
    find: `"connection.close": {},`,
    replace: "",
  },
  {
    name: "close-skips-closing",
    fault: "close() on an open socket drops the transition to closing: closed at once, no close handshake",
    find: `"connection.close": { target: "closing", actions: "recordCloseRequest" },`,
    replace: "",
  },
  {
    name: "handshake-never-opens",
    fault: "the handshake state drops socket.open: an accepted socket is never open",
    find: `on: { "socket.open": { target: "confirming" } },`,
    replace: "",
  },
  {
    name: "late-timer-drops",
    fault: "a heartbeat timeout that fires late (the process slept) drops the link anyway",
    find: /wasTimerLate: \(\{ context \}\) =>\s*Date\.now\(\)/,
    replace: "wasTimerLate: ({ context }) => false && Date.now()",
  },
  {
    name: "late-repings-forever",
    fault: "the re-ping after a late timeout honours late timeouts too: a dead link in a busy process is never dropped",
    find: `after: { heartbeatTimeout: { target: "#connection.socket.dropping" } },`,
    replace: `after: { heartbeatTimeout: [{ guard: "wasTimerLate", target: "repinging", reenter: true }, { target: "#connection.socket.dropping" }] },`,
  },
  {
    name: "4xx-retried",
    fault: "a ticket endpoint answering 404 (a wrong apiUrl) is retried like a 5xx instead of closing",
    file: "machines/protocol.ts",
    find: "return status >= 400 && status < 500 && status !== 408 && status !== 429;",
    replace: "return status === 401 || status === 403;",
  },
  {
    name: "open-before-confirmation",
    fault: "an accepted upgrade shows as open before it is confirmed: a refusal flashes open",
    find: /(\/\/ Not `open` to the public: a refusal never shows as open; sends queue meanwhile\.\s*)tags: \["attempt"\],/,
    replace: `$1tags: ["open"],`,
  },
  {
    name: "first-frame-does-not-confirm",
    fault: "the server's first frame does not confirm the connection: a greeting server waits out the window",
    file: "machines/connection.socket.ts",
    find: "if (this.#unconfirmed) this.#confirm();",
    replace: "",
  },
  {
    name: "openTimeout-ignored",
    fault: "openTimeout never closes the socket: connect() on a misconfigured endpoint waits forever",
    find: /"timer\.openTimeout": \{[^}]*\},/,
    replace: "",
  },
  {
    name: "token-timeout-as-ticket-timeout",
    fault: "a token provider that never settles is reported as a ticket request that timed out",
    find: `actions: ["recordTokenTimeout", "reportFailure"]`,
    replace: `actions: ["recordTicketTimeout", "reportFailure"]`,
  },
  {
    name: "replacement-without-close",
    fault: "a socket replaced by one of the same key is destroyed silently: its listeners never see closed",
    file: "src/manager.ts",
    find: "older[retireSocket]();",
    replace: "older.destroy();",
  },
  {
    name: "params-not-re-evaluated",
    fault: "a params function is called for the first attempt only; reconnects reuse its result",
    find: `hasParamsFunction: ({ context }) => typeof context.settings.params === "function",`,
    replace: `hasParamsFunction: ({ context }) => typeof context.settings.params === "function" && context.attemptParams === undefined,`,
  },
  {
    name: "abandoned-ticket-request-kept",
    fault: "leaving the ticket state (its connectTimeout ran out) does not abort the ticket request: it stays pending",
    find: `abortStep: ({ context }) => context.link.abortStep(),`,
    replace: `abortStep: () => undefined,`,
  },
  {
    name: "onOpen-downtime-wrong",
    fault: "onOpen's downtime does not count from the drop (the drop is never noted)",
    find: `exit: ["noteDropped", "resetAttemptsIfStable"],`,
    replace: `exit: "resetAttemptsIfStable",`,
  },
  {
    name: "clock-jump-ignored",
    fault: "a wall-clock jump no longer makes an open socket ping at once",
    find: /"clock\.jumped": \{ guard: "isHeartbeatEnabled", target: "awaitingPong" \},?/,
    replace: "",
  },
  {
    name: "lastEventId-not-updated",
    fault: "the eventId option's result never becomes lastEventId (a reconnect resumes from nowhere)",
    file: "src/data-channel.ts",
    find: "if (id !== undefined && id !== null) this.#lastEventId = String(id);",
    replace: "if (id !== undefined && id !== null) void String(id);",
  },
];

function applyMutant(source: string, mutant: Mutant): string | undefined {
  const matches =
    typeof mutant.find === "string" ? source.split(mutant.find).length - 1 : [...source.matchAll(new RegExp(mutant.find, "g"))].length;
  if (matches !== 1) return undefined;
  return source.replace(mutant.find, mutant.replace);
}

/** A copy of what the model suite needs, with the repository's node_modules linked in. */
function prepareCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "sockstate-mutations-"));
  for (const path of ["machines", "src", "scripts/describe-machine.ts", "tests/model", "tests/support", "package.json", "tsconfig.json"]) {
    cpSync(join(root, path), join(dir, path), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(
    join(dir, "vitest.config.mts"),
    `export default { test: { include: ["tests/model/**/*.test.ts"], pool: "forks", testTimeout: 60000 } };\n`,
  );
  return dir;
}

interface RunResult {
  passed: boolean;
  /** Failed tests, as "file › test", with the first line of their first error. */
  failures: string[];
  /** Set when vitest did not run the tests at all (a mutant that does not compile). */
  crashed?: string;
}

function runSuite(dir: string, bail: boolean): RunResult {
  const report = join(dir, "report.json");
  rmSync(report, { force: true });
  const args = [join(root, "node_modules/vitest/vitest.mjs"), "run", "--root", dir, "--config", join(dir, "vitest.config.mts")];
  args.push("--reporter=json", `--outputFile=${report}`);
  if (bail) args.push("--bail=1");
  const run = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "1" } });
  let json: { numFailedTests: number; numTotalTests: number; testResults: Array<{ name: string; message?: string; assertionResults: Array<{ status: string; fullName: string; failureMessages: string[] }> }> };
  try {
    json = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    return { passed: false, failures: [], crashed: (run.stderr || run.stdout).split("\n").slice(-15).join("\n") };
  }
  const failures = json.testResults.flatMap((file) => {
    const tests = file.assertionResults
      .filter((test) => test.status === "failed")
      .map((test) => `${relative(dir, file.name)} › ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
    // A file that failed before its tests ran (e.g. a mutant that throws while building paths).
    return tests.length === 0 && file.message ? [`${relative(dir, file.name)}: ${firstLine(file.message)}`] : tests;
  });
  if (run.status !== 0 && failures.length === 0 && json.numTotalTests === 0) {
    return { passed: false, failures, crashed: (run.stderr || run.stdout).split("\n").slice(-15).join("\n") };
  }
  return { passed: run.status === 0, failures };
}

function firstLine(text: string | undefined): string {
  const line = (text ?? "").split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function main(): number {
  const args = process.argv.slice(2);
  const bail = !args.includes("--full");
  const filter = args.find((arg) => !arg.startsWith("--"));
  const selected = MUTANTS.filter((mutant) => !filter || mutant.name.includes(filter));
  const dir = prepareCopy();
  const started = Date.now();
  try {
    console.log(`mutation check: ${selected.length} mutants (of ${MACHINE} unless named), suite tests/model/ (${bail ? "first failure" : "full runs"})`);
    const baseline = runSuite(dir, true);
    if (!baseline.passed) {
      console.error("the unmutated suite does not pass; fix that first:");
      console.error(baseline.crashed ?? baseline.failures.join("\n"));
      return 1;
    }
    let killed = 0;
    const problems: string[] = [];
    for (const mutant of selected) {
      const file = mutant.file ?? MACHINE;
      const original = readFileSync(join(root, file), "utf8");
      const mutated = applyMutant(original, mutant);
      if (mutated === undefined) {
        problems.push(mutant.name);
        console.log(`  NOT APPLIED  ${mutant.name}: its pattern no longer matches exactly once (update scripts/mutations.ts)`);
        continue;
      }
      writeFileSync(join(dir, file), mutated);
      const t0 = Date.now();
      const result = runSuite(dir, bail);
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      if (result.crashed) {
        problems.push(mutant.name);
        console.log(`  BROKEN       ${mutant.name} (${seconds}s): the suite did not run\n${result.crashed}`);
      } else if (result.passed) {
        problems.push(mutant.name);
        console.log(`  SURVIVED     ${mutant.name} (${seconds}s): ${mutant.fault}`);
      } else {
        killed += 1;
        console.log(`  killed       ${mutant.name} (${seconds}s): ${mutant.fault}`);
        for (const failure of result.failures.slice(0, bail ? 1 : 4)) console.log(`                 by ${failure}`);
        if (!bail) {
          const files = [...new Set(result.failures.map((failure) => failure.split(" › ")[0]))];
          console.log(`                 (${result.failures.length} failing tests in ${files.join(", ")})`);
        }
      }
      writeFileSync(join(dir, file), original);
    }
    const total = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`mutants killed: ${killed}/${selected.length} in ${total}s${problems.length ? `; not killed: ${problems.join(", ")}` : ""}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
