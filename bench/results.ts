/**
 * bench/RESULTS.md: the latest run (replaced by each full `npm run bench`), the breakdown
 * before the memory and size work (the baseline, written once with
 * `--breakdown --baseline`) and the latest breakdown (`--breakdown`). Each section sits
 * between HTML comment markers, so a run replaces its own section and keeps the others.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const RESULTS_PATH = fileURLToPath(new URL("RESULTS.md", import.meta.url));

export type Section = "run" | "breakdown-before" | "breakdown-latest";
const SECTIONS: readonly Section[] = ["run", "breakdown-before", "breakdown-latest"];

const TITLE = [
  "# sockstate benchmark results",
  "",
  "Written by `npm run bench` (the latest full run) and `npm run bench -- --breakdown`;",
  "do not edit by hand. The budgets are those of issue 18, except the two bundle budgets,",
  "re-based on what the finished feature set weighs (see the bundle floor lines), and the",
  "inbound line against raw ws, which follows ws's own WebSocket API when that API is below",
  "it (see its budget text). `npm run bench -- --check` exits 1 when one is missed.",
].join("\n");

const PLACEHOLDER: Record<Section, string> = {
  run: "## Latest run\n\nNo full run yet.",
  "breakdown-before": "## Breakdown, before\n\nNot written yet.",
  "breakdown-latest": "## Breakdown, latest\n\nNot written yet.",
};

const open = (section: Section) => `<!-- ${section} -->`;
const close = (section: Section) => `<!-- /${section} -->`;

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

/** The commit measured, and whether the code measured differs from it. */
export function commitLine(): string {
  const commit = git("rev-parse", "--short", "HEAD") || "unknown";
  // RESULTS.md itself is left out: a previous run rewrote it, which changes no code measured.
  const dirty = git("status", "--porcelain", "--", "src", "machines", "bench", "package.json", ":!bench/RESULTS.md") !== "";
  return `commit ${commit}${dirty ? " with uncommitted changes to src/, machines/, bench/ or package.json" : ""}`;
}

/** The machine and how the run was started, as Markdown list items. */
export function machineLines(command: string, extra: readonly string[] = []): string[] {
  const cpu = cpus();
  return [
    `- command: \`${command}\``,
    `- ${commitLine()}`,
    `- CPU: ${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores`,
    `- Node.js ${process.version}, ${process.platform}/${process.arch}`,
    ...extra.map((line) => `- ${line}`),
  ];
}

/** Replaces `section` of RESULTS.md with `markdown` (the file is created when missing). */
export function writeSection(section: Section, markdown: string): void {
  const current = existsSync(RESULTS_PATH) ? readFileSync(RESULTS_PATH, "utf8") : "";
  const body = (name: Section): string => {
    if (name === section) return markdown.trim();
    const start = current.indexOf(open(name));
    const end = current.indexOf(close(name));
    return start !== -1 && end > start ? current.slice(start + open(name).length, end).trim() : PLACEHOLDER[name];
  };
  const text = [TITLE, ...SECTIONS.map((name) => `${open(name)}\n${body(name)}\n${close(name)}`)].join("\n\n");
  writeFileSync(RESULTS_PATH, `${text}\n`);
}
