/**
 * The inspector page's script (bundled for the browser with sockstate and xstate).
 *
 * It runs a real sockstate client in the page against the reference server, subscribes
 * to the socket's actor through the `inspect` option, and highlights the active state
 * in the statechart drawn by mermaid from the machine's own definition.
 */
import type { AnyActorRef, InspectionEvent } from "xstate";
import type { ConnectionSnapshot } from "../../machines/connection.public";
import { toPublicState } from "../../machines/connection.public";
import { createClient, type ManagedWebSocket } from "../../src/index";
import type { MermaidApi } from "../visualize";
import type { InspectorPageHandle, ObservedState, PageConfig } from "./page.types";

declare global {
  interface Window {
    mermaid: MermaidApi;
    sockstateInspector: InspectorPageHandle;
  }
}

const MAX_LOG_LINES = 400;
const RENDER_ID = "machine";
const startedAt = performance.now();
const history: ObservedState[] = [];
let ready = false;
window.sockstateInspector = {
  history,
  get ready() {
    return ready;
  },
};

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`inspector page: #${id} is missing`);
  return found as T;
}

function elapsed(): number {
  return Math.round(performance.now() - startedAt);
}

// ── the log ───────────────────────────────────────────────────────────────────

type LogKind = "state" | "event" | "actor" | "message" | "emitted" | "error" | "fault" | "command";

function log(kind: LogKind, text: string): void {
  const list = element<HTMLOListElement>("log");
  const line = document.createElement("li");
  line.dataset.kind = kind;
  const time = document.createElement("time");
  time.textContent = `${(elapsed() / 1000).toFixed(3)}s`;
  const tag = document.createElement("span");
  tag.className = "kind";
  tag.textContent = kind;
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  line.append(time, tag, body);
  list.prepend(line);
  while (list.children.length > MAX_LOG_LINES) list.lastElementChild?.remove();
}

/** `xstate.after.heartbeatTimeout.connection.socket.open.awaitingPong` → `after heartbeatTimeout`. */
function shortEvent(type: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after ${after[1]}`;
  const done = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (done) return `${done[2]} ${done[1]}`;
  return type;
}

// ── the diagram ───────────────────────────────────────────────────────────────

/** Dotted paths of every active state node, outermost first: `socket`, `socket.open`, `socket.open.live`. */
function activePaths(value: unknown, prefix = ""): string[] {
  if (typeof value === "string") return [`${prefix}${value}`];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => [
    `${prefix}${key}`,
    ...activePaths(child, `${prefix}${key}.`),
  ]);
}

/** `path` is `ancestor` or inside it. */
function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`);
}

class Diagram {
  readonly #nodes = new Map<string, Element[]>();
  readonly #diagramIds = new Map<string, string>();
  readonly #transient = new Set<string>();
  readonly #edges: PageConfig["edges"];
  readonly #svg: SVGSVGElement;

  constructor(svg: SVGSVGElement, config: PageConfig) {
    this.#svg = svg;
    this.#edges = config.edges;
    for (const state of config.states) {
      this.#diagramIds.set(state.path, state.diagramId);
      if (state.transient) this.#transient.add(state.path);
      const prefix = `${RENDER_ID}-state-${state.diagramId}-`;
      const nodes = [...svg.querySelectorAll(`[id^="${CSS.escape(prefix)}"]`)].filter((node) =>
        /^\d+$/.test(node.id.slice(prefix.length)),
      );
      const clusters = [...svg.querySelectorAll(`g.statediagram-cluster[data-id="${CSS.escape(state.diagramId)}"]`)];
      this.#nodes.set(state.diagramId, [...nodes, ...clusters]);
    }
  }

  /** Highlights the active states; returns the diagram ids it found and marked. */
  highlight(paths: readonly string[]): string[] {
    for (const node of this.#svg.querySelectorAll(".is-active, .is-active-parent")) {
      node.classList.remove("is-active", "is-active-parent");
    }
    const marked: string[] = [];
    paths.forEach((path, index) => {
      const diagramId = this.#diagramIds.get(path);
      const nodes = diagramId ? this.#nodes.get(diagramId) : undefined;
      if (!diagramId || !nodes || nodes.length === 0) return;
      const leaf = index === paths.length - 1;
      for (const node of nodes) node.classList.add(leaf ? "is-active" : "is-active-parent");
      marked.push(diagramId);
    });
    return marked;
  }

  /**
   * The arrows of the transition that took the machine from `previous` to `next` on
   * `eventType`: an arrow from `previous` (or an ancestor) on that event into `next` (or
   * an ancestor), possibly through the `always` arrows of transient states on the way.
   */
  taken(previous: string | undefined, next: string, eventType: string): string[] {
    if (previous === undefined) return eventType === "xstate.init" && this.#edges[0] ? [this.#edges[0].id] : [];
    const into = (edge: PageConfig["edges"][number]) => edge.to !== undefined && isWithin(next, edge.to);
    // Like the machine, the deepest source state's transitions come first.
    const depth = (edge: PageConfig["edges"][number]) => edge.from?.split(".").length ?? 0;
    for (const edge of [...this.#edges].sort((a, b) => depth(b) - depth(a))) {
      if (edge.eventType !== eventType || edge.from === undefined || !isWithin(previous, edge.from) || edge.to === undefined) continue;
      if (into(edge)) return [edge.id];
      const taken = [edge.id];
      for (let at: string | undefined = edge.to; at !== undefined && this.#transient.has(at); ) {
        const from: string = at;
        const onward = (hop: PageConfig["edges"][number]) => hop.to !== undefined && (into(hop) || this.#transient.has(hop.to));
        const hop: PageConfig["edges"][number] | undefined = this.#edges.find(
          (candidate) => candidate.from === from && candidate.eventType === "" && onward(candidate),
        );
        if (!hop) break;
        taken.push(hop.id);
        if (into(hop)) return taken;
        at = hop.to;
      }
    }
    return [];
  }

  /** Lights the arrows (and their labels) of the last transition. */
  light(edgeIds: readonly string[]): void {
    for (const node of this.#svg.querySelectorAll(".is-taken")) node.classList.remove("is-taken");
    for (const id of edgeIds) {
      for (const node of this.#svg.querySelectorAll(`[data-id="${CSS.escape(id)}"]`)) node.classList.add("is-taken");
    }
  }
}

async function drawDiagram(config: PageConfig): Promise<Diagram> {
  const { mermaid } = window;
  mermaid.initialize(config.mermaidConfig);
  const { svg } = await mermaid.render(RENDER_ID, config.mermaid);
  const container = element<HTMLDivElement>("diagram");
  container.innerHTML = svg;
  const root = container.querySelector("svg");
  if (!root) throw new Error("inspector page: mermaid rendered no <svg>");
  // Fit the width by default; "actual size" shows the chart at its natural size, scrollable.
  const naturalWidth = root.viewBox.baseVal.width;
  element<HTMLInputElement>("actual-size").addEventListener("change", (event) => {
    root.style.width = (event.target as HTMLInputElement).checked ? `${naturalWidth}px` : "";
    root.style.maxWidth = (event.target as HTMLInputElement).checked ? "none" : "";
  });
  return new Diagram(root, config);
}

// ── the demo connection ───────────────────────────────────────────────────────

async function main(): Promise<void> {
  const response = await fetch("/config.json");
  const config = (await response.json()) as PageConfig;
  const diagram = await drawDiagram(config);
  const key = `chat:${config.chatId}`;
  element("socket-key").textContent = key;
  element("socket-options").textContent = Object.entries(config.socketOptions)
    .map(([name, value]) => `${name} ${JSON.stringify(value)}`)
    .join(" · ");

  const client = createClient({ apiUrl: config.apiUrl, wsUrl: config.wsUrl, ...config.socketOptions });
  let generation = 0;
  let socket: ManagedWebSocket | undefined;

  const showPublicState = (state: string) => {
    element("public-state").textContent = state;
    document.body.dataset.publicState = state;
  };

  /** An inspection observer for one socket; events of replaced sockets are ignored. */
  const inspectorFor = (mine: number) => (inspection: InspectionEvent) => {
    if (mine !== generation) return;
    const isRoot = inspection.actorRef.sessionId === inspection.rootId;
    const actorId = (inspection.actorRef as AnyActorRef).id;
    if (inspection.type === "@xstate.actor" && !isRoot) {
      log("actor", `${actorId} started (child of ${key})`);
    } else if (inspection.type === "@xstate.actor") {
      log("actor", `${actorId} started: the socket's connection machine`);
    } else if (inspection.type === "@xstate.snapshot" && isRoot) {
      const snapshot = inspection.snapshot as ConnectionSnapshot;
      const paths = activePaths(snapshot.value);
      const state = paths.at(-1) ?? String(snapshot.value);
      const publicState = toPublicState(snapshot);
      const event = shortEvent(inspection.event.type);
      const highlighted = diagram.highlight(paths);
      const previous = history.at(-1);
      const fromState = previous?.generation === mine ? previous.state : undefined;
      const edges = diagram.taken(fromState, state, inspection.event.type);
      // An event that changed nothing drawn (e.g. `after openConfirmation`) leaves the last arrow lit.
      if (edges.length > 0 || fromState !== state) diagram.light(edges);
      history.push({ at: elapsed(), generation: mine, state, publicState, event, highlighted, edges });
      document.body.dataset.machineState = state;
      element("machine-state").textContent = state;
      element("attempt").textContent = String(snapshot.context.attempt);
      if (previous?.state !== state || previous.generation !== mine) {
        log("state", `${event} → ${state}  (${publicState})`);
      } else {
        log("event", `${event} (stays in ${state})`);
      }
    }
  };

  const connect = () => {
    generation += 1;
    const mine = generation;
    const next = client.websocket.open(`/ws/chat/${encodeURIComponent(config.chatId)}`, { inspect: inspectorFor(mine) }, key);
    socket = next;
    showPublicState(next.state);
    /** Listeners of a replaced socket stay quiet. */
    const current = <T>(listener: (value: T) => void) => (value: T) => {
      if (mine === generation) listener(value);
    };
    next.onStateChange.subscribe(current(showPublicState));
    next.onMessage.subscribe(current((event) => log("message", `← ${String(event.data)}`)));
    next.onReconnecting.subscribe(current((attempt) => log("emitted", `onReconnecting: attempt ${attempt}`)));
    next.onError.subscribe(
      current((error) => log("error", error instanceof Error ? `${error.name}: ${error.message}` : `socket ${error.type} event`)),
    );
    next.ready.then(
      current(() => log("emitted", "ready: the first connection is open")),
      current((error: unknown) => log("error", `ready rejected: ${error instanceof Error ? error.name : String(error)}`)),
    );
  };

  const faults = element<HTMLDivElement>("faults");
  for (const fault of config.faults) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = fault.label;
    button.title = fault.title;
    button.dataset.fault = fault.name;
    button.addEventListener("click", async () => {
      log("fault", `${fault.label} …`);
      const answer = (await (await fetch(`/control/${fault.name}`, { method: "POST" })).json()) as {
        detail?: string;
        error?: string;
      };
      log(answer.error ? "error" : "fault", answer.error ?? answer.detail ?? fault.label);
    });
    faults.append(button);
  }

  const message = element<HTMLInputElement>("message");
  element("send").addEventListener("click", () => {
    try {
      socket?.send(message.value);
      log("command", `send(${JSON.stringify(message.value)})${socket?.isOpen ? "" : ` — queued (${socket?.queuedMessages})`}`);
    } catch (error) {
      log("error", `send: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  });
  element("close").addEventListener("click", () => {
    log("command", "close()");
    socket?.close();
  });
  element("reconnect").addEventListener("click", () => {
    log("command", "reconnect: a new socket under the same key replaces the old one");
    connect();
  });
  element("clear-log").addEventListener("click", () => element("log").replaceChildren());

  connect();
  ready = true;
  document.body.dataset.ready = "true";
}

main().catch((error: unknown) => {
  document.body.dataset.failed = "true";
  log("error", `the page failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
});
