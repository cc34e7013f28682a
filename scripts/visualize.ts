/**
 * `npm run visualize`: draws the connection machine from its own definition.
 *
 * Walks `connectionMachine.root` (states, `on`, `after`, `always`, `invoke`, entry
 * actions, tags) and writes, into `visualizations/`:
 *
 * - `connection.mmd`: a Mermaid `stateDiagram-v2` source, with the machine's own names;
 * - `connection.svg`: that source rendered by the installed `mermaid` inside Debian's
 *   headless chromium (offline). Font metrics make the SVG differ between machines, so
 *   it carries the SHA-256 of its source and is only re-rendered when the source changed
 *   (or with `--force`);
 * - `README.md`: the page that embeds the diagram, with a table of every state, its
 *   public state, its timers and its transitions with their guards.
 *
 * `--check` writes nothing and exits 1 when a file is stale; `--out DIR` writes elsewhere. The same functions feed the
 * live inspector page (`npm run inspect`) and the test that keeps the committed files current.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AnyStateMachine, AnyStateNode, StateValue } from "xstate";
import { connectionMachine } from "../machines/connection.machine";
import { toPublicState } from "../machines/connection.public";
import type { ConnectionContext } from "../machines/connection.types";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Where the generated files live, relative to the repository root. */
export const VISUALIZATIONS_DIR = "visualizations";
export const MERMAID_FILE = "connection.mmd";
export const SVG_FILE = "connection.svg";
export const MARKDOWN_FILE = "README.md";

// ── the model: what the diagram and the table are drawn from ──────────────────

/** How a transition is triggered. */
export type TriggerKind = "event" | "after" | "always" | "done" | "error";

export interface TransitionInfo {
  kind: TriggerKind;
  /** The event type as the machine sees it, e.g. `xstate.after.heartbeatTimeout.connection.socket.open.awaitingPong`. */
  eventType: string;
  /** Short label with the machine's names: `socket.closed`, `after heartbeatTimeout`, `always`, `fetchTicket done`. */
  trigger: string;
  guard: string | undefined;
  /** Dotted path of the target state; `undefined` for a transition that stays (actions only, or ignored). */
  target: string | undefined;
  reenter: boolean;
  actions: string[];
}

export interface StateInfo {
  /** Dotted path below the root, e.g. `socket.open.live`: the key in `snapshot.value` terms. */
  path: string;
  key: string;
  /** Path segments joined by `_`: the node's id in the Mermaid source and the rendered SVG. */
  diagramId: string;
  depth: number;
  type: AnyStateNode["type"];
  description: string | undefined;
  tags: string[];
  /** What `socket.state` reports while this state is active, or a note for transient states. */
  publicState: string;
  /** `true` when an unguarded `always` leaves this state in the same macrostep: never observed at rest. */
  transient: boolean;
  entry: string[];
  /** Invoked actors, by their logic name (`src`). */
  invokes: string[];
  /** Delay names of the state's `after` timers, in definition order, without repeats. */
  timers: string[];
  transitions: TransitionInfo[];
  /** Dotted path of the initial child, for compound states. */
  initial: string | undefined;
  children: StateInfo[];
}

export interface MachineInfo {
  id: string;
  /** Transitions declared on the root: they apply in every state. */
  transitions: TransitionInfo[];
  initial: string | undefined;
  states: StateInfo[];
}

/** What a state maps to in public terms; `undefined` when there is no public mapping. */
export type PublicStateOf = (path: readonly string[]) => string | undefined;

function nameOf(thing: unknown): string {
  if (typeof thing === "string") return thing;
  if (thing && typeof thing === "object" && "type" in thing && typeof thing.type === "string") return thing.type;
  // An inline function: the whole point of named implementations is that this never shows.
  if (typeof thing === "function") return `inline:${thing.name || "anonymous"}`;
  return `inline:${typeof thing}`;
}

/** Entry actions as named in the machine; xstate's own built-ins (timers, invokes) are functions without a type and are left out. */
function namedActions(actions: readonly unknown[]): string[] {
  return actions.filter((action) => action !== null && action !== undefined && !isBuiltIn(action)).map(nameOf);
}

function isBuiltIn(action: unknown): boolean {
  return typeof action === "function" && "type" in action && String((action as { type: unknown }).type).startsWith("xstate.");
}

function pathOf(node: AnyStateNode): string {
  return node.path.join(".");
}

function toTransitionInfo(
  node: AnyStateNode,
  transition: { eventType: string; guard?: unknown; target?: readonly AnyStateNode[] | undefined; reenter: boolean; actions: readonly unknown[] },
  kind: TriggerKind,
  trigger: string,
): TransitionInfo {
  const targets = transition.target ?? [];
  if (targets.length > 1) throw new Error(`visualize: ${pathOf(node)} has a transition with several targets; draw it first`);
  return {
    kind,
    eventType: transition.eventType,
    trigger,
    guard: transition.guard === undefined ? undefined : nameOf(transition.guard),
    target: targets[0] ? pathOf(targets[0]) : undefined,
    reenter: transition.reenter,
    actions: namedActions(transition.actions),
  };
}

function transitionsOf(node: AnyStateNode): TransitionInfo[] {
  const invokes = new Map(node.invoke.map((invoke) => [invoke.id, nameOf(invoke.src)]));
  const result: TransitionInfo[] = [];
  for (const [eventType, transitions] of node.transitions) {
    if (eventType.startsWith("xstate.after.")) continue; // listed from `node.after`, with the delay's name
    const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
    const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
    // `timer.<delay>`: an event the machine schedules for itself with a named delay.
    const timer = /^timer\.(.+)$/.exec(eventType);
    const delays = (node.machine.implementations.delays ?? {}) as Record<string, unknown>;
    const [kind, trigger]: [TriggerKind, string] = done
      ? ["done", `${invokes.get(done[1]!) ?? done[1]} done`]
      : error
        ? ["error", `${invokes.get(error[1]!) ?? error[1]} error`]
        : timer && timer[1]! in delays
          ? ["after", `after ${timer[1]}`]
          : ["event", eventType];
    for (const transition of transitions) result.push(toTransitionInfo(node, transition, kind, trigger));
  }
  for (const transition of node.after) {
    result.push(toTransitionInfo(node, transition, "after", `after ${delayName(transition.delay)}`));
  }
  for (const transition of node.always ?? []) result.push(toTransitionInfo(node, transition, "always", "always"));
  return result;
}

function delayName(delay: unknown): string {
  if (typeof delay === "string") return delay;
  if (typeof delay === "number") return `${delay}ms`;
  return nameOf(delay);
}

function describeState(node: AnyStateNode, publicStateOf: PublicStateOf | undefined): StateInfo {
  const transitions = transitionsOf(node);
  const children = Object.values(node.states as Record<string, AnyStateNode>).map((child) => describeState(child, publicStateOf));
  const transient = (node.always ?? []).some((transition) => transition.guard === undefined);
  const timers = [...new Set(node.after.map((transition) => delayName(transition.delay)))];
  return {
    path: pathOf(node),
    key: node.key,
    diagramId: node.path.join("_"),
    depth: node.path.length,
    type: node.type,
    description: node.description,
    tags: [...node.tags],
    publicState: publicStateFor(node, children, transient, publicStateOf),
    transient,
    entry: namedActions(node.entry),
    invokes: node.invoke.map((invoke) => nameOf(invoke.src)),
    timers,
    transitions,
    initial: node.type === "compound" && node.initial.target[0] ? pathOf(node.initial.target[0]) : undefined,
    children,
  };
}

function publicStateFor(
  node: AnyStateNode,
  children: StateInfo[],
  transient: boolean,
  publicStateOf: PublicStateOf | undefined,
): string {
  if (transient) return "— (transient)";
  if (children.length > 0) {
    const values = [...new Set(children.filter((child) => !child.transient).map((child) => child.publicState))];
    return values.length === 1 ? values[0]! : "per child state";
  }
  return publicStateOf?.(node.path) ?? "—";
}

/** The machine's definition as plain data, in definition order. */
export function describeMachine(machine: AnyStateMachine, publicStateOf?: PublicStateOf): MachineInfo {
  const rootNode = machine.root as AnyStateNode;
  return {
    id: rootNode.id,
    transitions: transitionsOf(rootNode),
    initial: rootNode.initial.target[0] ? pathOf(rootNode.initial.target[0]) : undefined,
    states: Object.values(rootNode.states as Record<string, AnyStateNode>).map((child) => describeState(child, publicStateOf)),
  };
}

function toStateValue(path: readonly string[]): StateValue {
  const [head, ...rest] = path;
  if (head === undefined) return {};
  return rest.length === 0 ? head : { [head]: toStateValue(rest) };
}

/**
 * The public state of a connection-machine state, computed by `toPublicState` itself on a
 * snapshot resolved at that state — for the first connection (attempt 0) and for later ones.
 */
export const connectionPublicState: PublicStateOf = (path) => {
  const at = (attempt: number) =>
    toPublicState(
      connectionMachine.resolveState({ value: toStateValue(path), context: { attempt } as ConnectionContext }),
    );
  const first = at(0);
  const later = at(1);
  return first === later ? first : `${first} (first connection), else ${later}`;
};

/** Every state of the model, depth first, in definition order. */
export function allStates(info: MachineInfo): StateInfo[] {
  const result: StateInfo[] = [];
  const visit = (state: StateInfo) => {
    result.push(state);
    state.children.forEach(visit);
  };
  info.states.forEach(visit);
  return result;
}

// ── Mermaid ───────────────────────────────────────────────────────────────────

/** Mermaid treats `:`, `;`, `#` and a few others specially in labels; the machine's names never need them. */
function mermaidText(text: string): string {
  return text.replace(/[:;#{}]/g, " ").replace(/\s+/g, " ").trim();
}

function edgeLabel(transition: TransitionInfo): string {
  return mermaidText(transition.guard ? `${transition.trigger} [${transition.guard}]` : transition.trigger);
}

function stateLines(state: StateInfo, indent: string, edges: DiagramEdge[]): string[] {
  const lines: string[] = [];
  const label = `state "${state.key}" as ${state.diagramId}`;
  if (state.children.length > 0) {
    lines.push(`${indent}${label} {`);
    const inner = `${indent}  `;
    const initial = state.children.find((child) => child.path === state.initial);
    if (initial) {
      lines.push(`${inner}[*] --> ${initial.diagramId}`);
      edges.push({ id: `edge${edges.length}`, from: undefined, to: initial.path, eventType: undefined, label: "" });
    }
    for (const child of state.children) lines.push(...stateLines(child, inner, edges));
    lines.push(`${indent}}`);
  } else {
    lines.push(`${indent}${label}`);
  }
  for (const detail of stateDetails(state)) lines.push(`${indent}${state.diagramId} : ${mermaidText(detail)}`);
  return lines;
}

/** The lines drawn inside an atomic state's box. */
function stateDetails(state: StateInfo): string[] {
  if (state.children.length > 0) return [];
  const details = [`public ${state.publicState.replace(" (first connection), else ", " / ")}`];
  if (state.invokes.length > 0) details.push(`invoke ${state.invokes.join(", ")}`);
  if (state.entry.length > 0) details.push(`entry ${state.entry.join(", ")}`);
  return details;
}

/**
 * An arrow of the diagram. Mermaid numbers arrows `edge0`, `edge1`, … in the order of
 * the source, which is the order of this list: the live page uses it to light up the
 * transition just taken.
 */
export interface DiagramEdge {
  /** Mermaid's id of the arrow: `edge{index}`. */
  id: string;
  /** Dotted path of the source state; `undefined` for an initial arrow (`[*] -->`). */
  from: string | undefined;
  /** Dotted path of the target state; `undefined` for a final arrow (`--> [*]`). */
  to: string | undefined;
  /** The event type the machine sees for this transition, exactly. */
  eventType: string | undefined;
  /** The arrow's label. */
  label: string;
}

export interface Diagram {
  source: string;
  edges: DiagramEdge[];
}

/**
 * A Mermaid `stateDiagram-v2` of the machine. States are declared first (nested like the
 * machine), transitions after, so that Mermaid never creates a state in the wrong scope.
 * Transitions that do not change state (actions only) are in the table, not the diagram;
 * the root's transitions, which apply in every state, are a note on their target.
 */
export function toDiagram(info: MachineInfo, header = `%% Generated by \`npm run visualize\` from the ${info.id} machine. Do not edit.`): Diagram {
  const states = allStates(info);
  const byPath = new Map(states.map((state) => [state.path, state]));
  const edges: DiagramEdge[] = [];
  const lines = [header, "stateDiagram-v2", "  direction TB"];
  const initial = info.initial ? byPath.get(info.initial) : undefined;
  if (initial) {
    lines.push(`  [*] --> ${initial.diagramId}`);
    edges.push({ id: "edge0", from: undefined, to: initial.path, eventType: undefined, label: "" });
  }
  for (const state of info.states) lines.push(...stateLines(state, "  ", edges));
  for (const state of states) {
    for (const transition of state.transitions) {
      const target = transition.target ? byPath.get(transition.target) : undefined;
      if (!target) continue;
      const label = edgeLabel(transition);
      lines.push(`  ${state.diagramId} --> ${target.diagramId} : ${label}`);
      edges.push({ id: `edge${edges.length}`, from: state.path, to: target.path, eventType: transition.eventType, label });
    }
  }
  for (const state of states) {
    if (state.type === "final" && state.depth === 1) {
      lines.push(`  ${state.diagramId} --> [*]`);
      edges.push({ id: `edge${edges.length}`, from: state.path, to: undefined, eventType: undefined, label: "" });
    }
  }
  const global = info.transitions.filter((transition) => transition.target);
  for (const [target, transitions] of groupBy(global, (transition) => transition.target!)) {
    const state = byPath.get(target);
    if (!state) continue;
    lines.push(`  note left of ${state.diagramId}`);
    for (const transition of transitions) {
      const actions = transition.actions.length > 0 ? ` / ${transition.actions.join(", ")}` : "";
      lines.push(`    from any state ${mermaidText(`${edgeLabel(transition)}${actions}`)}`);
    }
    lines.push("  end note");
  }
  return { source: `${lines.join("\n")}\n`, edges };
}

/** The Mermaid source of {@link toDiagram}. */
export function toMermaid(info: MachineInfo, header?: string): string {
  return toDiagram(info, header).source;
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

export function sourceHash(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

// ── the markdown page ─────────────────────────────────────────────────────────

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(name: string): string {
  return `\`${name}\``;
}

function describeTransition(transition: TransitionInfo, self: StateInfo): string {
  const guard = transition.guard ? ` [${code(transition.guard)}]` : "";
  const target =
    transition.target === undefined
      ? transition.actions.length > 0
        ? "stays"
        : "ignored"
      : transition.target === self.path
        ? `${code(transition.target)}${transition.reenter ? " (re-entered)" : ""}`
        : code(transition.target);
  const actions = transition.actions.length > 0 ? ` / ${transition.actions.map(code).join(", ")}` : "";
  return `${code(transition.trigger)}${guard} → ${target}${actions}`;
}

export interface MarkdownOptions {
  /** Where the machine is defined, for the reader. */
  sourceFile: string;
  svgFile: string;
  mermaidFile: string;
}

/** The page that embeds the diagram and tabulates every state. */
export function toMarkdown(info: MachineInfo, mermaid: string, options: MarkdownOptions): string {
  const states = allStates(info);
  const lines = [
    `<!-- Generated by \`npm run visualize\` from ${options.sourceFile}. Do not edit: change the machine and run the script. -->`,
    "",
    `# The \`${info.id}\` machine`,
    "",
    `Drawn from [\`${options.sourceFile}\`](../${options.sourceFile}) by \`npm run visualize\`; a test fails`,
    "when these files fall behind the machine. Every name below is the machine's own: states,",
    "events, guards (in brackets), delays (`after …`), actions (after `/`) and invoked actors.",
    "",
    `![The ${info.id} state machine](${options.svgFile})`,
    "",
    `The Mermaid source is [\`${options.mermaidFile}\`](${options.mermaidFile}); paste it into any Mermaid viewer, or open`,
    "the live page of `npm run inspect` to watch a real connection move through it.",
    "",
    "## In every state",
    "",
    ...info.transitions.map((transition) => `- ${describeTransition(transition, { path: "" } as StateInfo)}`),
    "",
    "## States",
    "",
    "The public state is what `socket.state` reports, computed by `toPublicState` on a snapshot in",
    "that state. Transient states are left in the same step they are entered (`always`), so no",
    "snapshot ever rests in them. Timers are `after` delays: leaving the state cancels them.",
    "",
    "| state | public state | tags | entry / invoke | timers | transitions |",
    "|---|---|---|---|---|---|",
  ];
  for (const state of states) {
    const indent = "&nbsp;&nbsp;".repeat(state.depth - 1);
    const name = `${indent}${code(state.path)}${state.type === "final" ? " (final)" : ""}`;
    const entry = [
      ...state.entry.map((action) => `entry ${code(action)}`),
      ...state.invokes.map((actor) => `invoke ${code(actor)}`),
    ];
    const transitions = state.transitions.map((transition) => describeTransition(transition, state));
    lines.push(
      `| ${[
        name,
        state.publicState,
        state.tags.map(code).join(", ") || "—",
        entry.join("<br>") || "—",
        state.timers.map(code).join(", ") || "—",
        transitions.join("<br>") || "—",
      ]
        .map(cell)
        .join(" | ")} |`,
    );
  }
  lines.push("", "## What each state is for", "");
  for (const state of states) {
    if (state.description) lines.push(`- ${code(state.path)}: ${state.description}`);
  }
  lines.push("", "## Mermaid source", "", "```mermaid", mermaid.trimEnd(), "```", "");
  return lines.join("\n");
}

// ── rendering ─────────────────────────────────────────────────────────────────

const require = createRequire(import.meta.url);

/** The browser build of the installed `mermaid` package (sets `window.mermaid`). */
export function mermaidScriptPath(): string {
  return require.resolve("mermaid/dist/mermaid.min.js");
}

/** Mermaid settings shared by the committed SVG and the live page, so both look alike. */
export const MERMAID_CONFIG = {
  startOnLoad: false,
  theme: "default",
  securityLevel: "strict",
  deterministicIds: true,
  deterministicIDSeed: "sockstate",
  htmlLabels: false,
  flowchart: { htmlLabels: false },
  state: { useMaxWidth: false },
  fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif",
} as const;

/** Marks an SVG with the hash of the Mermaid source it was rendered from. */
export function stampSvg(svg: string, hash: string): string {
  const stamped = svg.replace(/^<svg\b/, `<svg data-source-hash="${hash}"`);
  if (stamped === svg) throw new Error("visualize: mermaid did not return an <svg> element");
  return `<!-- Generated by \`npm run visualize\` from ${MERMAID_FILE} (sha256 ${hash}). Do not edit. -->\n${stamped}\n`;
}

/** The hash an SVG says it was rendered from, if any. */
export function stampedHash(svg: string): string | undefined {
  return /<svg\b[^>]*\bdata-source-hash="([0-9a-f]{64})"/.exec(svg)?.[1];
}

/** Replaces `Math.random` with a fixed-seed generator (mulberry32), as a page init script. */
const SEEDED_RANDOM = `{
  let seed = 0x50c57a7e;
  Math.random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}`;

/**
 * Renders Mermaid source to SVG with the installed mermaid inside headless Debian
 * chromium. The page loads nothing from the network: every request is aborted.
 */
export async function renderSvg(source: string): Promise<string> {
  const { launchChromium } = await import("../tests/support/chromium");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.route("**/*", (route) => route.abort());
    await page.setContent("<!doctype html><html><head><meta charset=utf-8></head><body></body></html>");
    // Mermaid draws some shapes (notes) with random wobble: seed it so a render is repeatable.
    await page.evaluate(SEEDED_RANDOM);
    await page.addScriptTag({ path: mermaidScriptPath() });
    const svg = await page.evaluate(
      async ({ source, config }) => {
        const mermaid = (window as unknown as { mermaid: MermaidApi }).mermaid;
        mermaid.initialize(config);
        const { svg } = await mermaid.render("connection-machine", source);
        return svg;
      },
      { source, config: MERMAID_CONFIG },
    );
    return stampSvg(svg, sourceHash(source));
  } finally {
    await browser.close();
  }
}

/** The part of mermaid's browser API this project uses. */
export interface MermaidApi {
  initialize(config: object): void;
  render(id: string, source: string): Promise<{ svg: string }>;
}

// ── the files ─────────────────────────────────────────────────────────────────

export interface GeneratedFiles {
  /** File name in `visualizations/` → content, for the files generated without a browser. */
  text: Record<string, string>;
  mermaid: string;
  /** SHA-256 of `mermaid`: the SVG must carry it. */
  hash: string;
}

/** The Mermaid source and the markdown page for the connection machine, as they should be committed. */
export function generateFiles(): GeneratedFiles {
  const info = describeMachine(connectionMachine, connectionPublicState);
  const mermaid = toMermaid(info, "%% Generated by `npm run visualize` from machines/connection.machine.ts. Do not edit.");
  const markdown = toMarkdown(info, mermaid, {
    sourceFile: "machines/connection.machine.ts",
    svgFile: SVG_FILE,
    mermaidFile: MERMAID_FILE,
  });
  return { text: { [MERMAID_FILE]: mermaid, [MARKDOWN_FILE]: markdown }, mermaid, hash: sourceHash(mermaid) };
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** Names of the files in `dir` that differ from what the machine generates. */
export function staleFiles(dir = join(root, VISUALIZATIONS_DIR)): string[] {
  const files = generateFiles();
  const stale = Object.entries(files.text)
    .filter(([name, content]) => readIfExists(join(dir, name)) !== content)
    .map(([name]) => name);
  if (stampedHash(readIfExists(join(dir, SVG_FILE)) ?? "") !== files.hash) stale.push(SVG_FILE);
  return stale;
}

export interface VisualizeOptions {
  /** @default `visualizations/` of this repository */
  outDir?: string;
  /** Render the SVG even when it was rendered from the current source. */
  force?: boolean;
  log?: (line: string) => void;
}

/** Writes the files that changed; renders the SVG only when its source changed. Returns the names written. */
export async function visualize(options: VisualizeOptions = {}): Promise<string[]> {
  const dir = options.outDir ?? join(root, VISUALIZATIONS_DIR);
  const log = options.log ?? (() => {});
  const files = generateFiles();
  const written: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files.text)) {
    if (readIfExists(join(dir, name)) === content) {
      log(`unchanged ${name}`);
    } else {
      writeFileSync(join(dir, name), content);
      written.push(name);
      log(`wrote     ${name}`);
    }
  }
  const svgPath = join(dir, SVG_FILE);
  if (!options.force && stampedHash(readIfExists(svgPath) ?? "") === files.hash) {
    log(`unchanged ${SVG_FILE} (rendered from this source; --force renders it again)`);
  } else {
    writeFileSync(svgPath, await renderSvg(files.mermaid));
    written.push(SVG_FILE);
    log(`rendered  ${SVG_FILE}`);
  }
  return written;
}

function argument(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const out = argument(argv, "--out");
  const outDir = out === undefined ? join(root, VISUALIZATIONS_DIR) : out;
  if (argv.includes("--check")) {
    const stale = staleFiles(outDir);
    for (const name of stale) console.error(`stale: ${join(outDir, name)}`);
    if (stale.length > 0) console.error("run `npm run visualize` and commit the result");
    else console.log(`${outDir} is current`);
    return stale.length > 0 ? 1 : 0;
  }
  console.log(`visualizing machines/connection.machine.ts into ${outDir}`);
  await visualize({ outDir, force: argv.includes("--force"), log: (line) => console.log(`  ${line}`) });
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
