/**
 * `visualizations/` is generated from the machine by `npm run visualize`: these tests
 * fail when the committed files fall behind the machine, and pin how the machine's
 * definition is drawn.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { setup } from "xstate";
import { connectionMachine } from "../../machines/connection.machine";
import { allStates, connectionPublicState, describeMachine } from "../../scripts/describe-machine";
import {
  generateFiles,
  MARKDOWN_FILE,
  MERMAID_FILE,
  renderSvg,
  sourceHash,
  stampedHash,
  staleFiles,
  SVG_FILE,
  toDiagram,
  toMarkdown,
  toMermaid,
  visualize,
} from "../../scripts/visualize";

const committed = join(import.meta.dirname, "../../visualizations");
const read = (name: string) => readFileSync(join(committed, name), "utf8");
const STALE = "visualizations/ is stale: run `npm run visualize` and commit the result";

/** The label of each arrow of a rendered diagram, by Mermaid's arrow id (`edge3`). */
function svgEdgeLabels(svg: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const [, id, text] of svg.matchAll(/<g class="label" data-id="(edge\d+)"[^>]*>.*?<text\b[^>]*>(.*?)<\/text>/g)) {
    const rows = [...text!.matchAll(/<tspan class="text-outer-tspan[^"]*"[^>]*>(.*?)<\/tspan><\/tspan>/g)].map((row) =>
      [...row[1]!.matchAll(/>([^<]*)<\/tspan>|>([^<]*)$/g)].map((part) => part[1] ?? part[2] ?? "").join(""),
    );
    labels.set(id!, rows.join(" ").replace(/\s+/g, " ").trim());
  }
  return labels;
}

/** The text labels of an SVG, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<tspan\b[^>]*>([^<]*)<\/tspan>/g)].map((match) => match[1]!.trim()).filter(Boolean);
}

const temporaryDirs: string[] = [];
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the committed visualizations", () => {
  const files = generateFiles();

  it("hold the Mermaid source the machine generates", () => {
    expect(read(MERMAID_FILE), STALE).toBe(files.text[MERMAID_FILE]);
  });

  it("hold the markdown page the machine generates", () => {
    expect(read(MARKDOWN_FILE), STALE).toBe(files.text[MARKDOWN_FILE]);
  });

  it("hold an SVG rendered from the current Mermaid source", () => {
    const svg = read(SVG_FILE);
    expect(stampedHash(svg), STALE).toBe(sourceHash(read(MERMAID_FILE)));
    expect(stampedHash(svg), STALE).toBe(files.hash);
  });

  it("draw every state in the SVG under its own name", () => {
    const texts = svgTexts(read(SVG_FILE));
    for (const state of allStates(describeMachine(connectionMachine))) expect(texts).toContain(state.key);
  });

  it("number the SVG's arrows in the order the live page expects", () => {
    const labels = svgEdgeLabels(read(SVG_FILE));
    const { edges } = toDiagram(describeMachine(connectionMachine, connectionPublicState));
    expect(labels.size).toBe(edges.length);
    for (const edge of edges) expect(labels.get(edge.id), `${edge.id}: ${edge.from} → ${edge.to}`).toBe(edge.label);
  });

  it("embed the SVG and the Mermaid source in the markdown page", () => {
    const page = read(MARKDOWN_FILE);
    expect(page).toContain(`](${SVG_FILE})`);
    expect(page).toContain(`\`\`\`mermaid\n${files.mermaid}\`\`\``);
  });

  it("are left unchanged by `npm run visualize` when they are current", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sockstate-visualize-"));
    temporaryDirs.push(dir);
    cpSync(committed, dir, { recursive: true });
    expect(staleFiles(dir)).toEqual([]);
    // No file is written and the SVG is not re-rendered (no browser is launched).
    expect(await visualize({ outDir: dir })).toEqual([]);
    for (const name of readdirSync(committed)) {
      expect(readFileSync(join(dir, name), "utf8"), name).toBe(read(name));
    }
  });
});

describe("drawing the connection machine", () => {
  const info = describeMachine(connectionMachine, connectionPublicState);
  const states = allStates(info);
  const mermaid = toMermaid(info);
  const { guards, delays, actions, actors } = connectionMachine.implementations;

  it("lists every state of the machine, nested as in the machine", () => {
    const paths = states.map((state) => state.path);
    expect(paths).toEqual(expect.arrayContaining(["ticket", "socket.handshake", "socket.open.awaitingPong", "backoff", "closed"]));
    for (const path of paths) expect(connectionMachine.getStateNodeById(`connection.${path}`).key).toBe(path.split(".").at(-1));
  });

  it("names every guard and delay the states use, and nothing anonymous", () => {
    const page = toMarkdown(info, mermaid, { sourceFile: "m.ts", svgFile: "m.svg", mermaidFile: "m.mmd" });
    for (const guard of Object.keys(guards)) expect(mermaid, guard).toContain(`[${guard}]`);
    for (const delay of Object.keys(delays)) expect(page, delay).toContain(`\`after ${delay}\``);
    for (const actor of Object.keys(actors).filter((name) => mermaid.includes(name))) expect(page).toContain(`invoke \`${actor}\``);
    const namedActions = new Set(Object.keys(actions));
    for (const state of states) {
      for (const action of [...state.entry, ...state.exit, ...state.transitions.flatMap((transition) => transition.actions)]) {
        expect(namedActions, `${state.path}: ${action}`).toContain(action);
      }
    }
    expect(mermaid).not.toMatch(/inline:|xstate\.after|xstate\.done|xstate\.error/);
    expect(page).not.toContain("inline:");
  });

  it("derives the public state from toPublicState", () => {
    const publicState = new Map(states.map((state) => [state.path, state.publicState]));
    expect(publicState.get("ticket")).toBe("connecting (first connection), else reconnecting");
    expect(publicState.get("socket.open")).toBe("open");
    expect(publicState.get("socket.open.awaitingPong")).toBe("open");
    expect(publicState.get("socket.dropping")).toBe("open"); // left in the same tick: the next public state is decided once
    expect(publicState.get("backoff")).toBe("reconnecting");
    expect(publicState.get("socket.closing")).toBe("closing");
    expect(publicState.get("closed")).toBe("closed");
    expect(publicState.get("lost")).toBe("— (transient)");
  });

  it("draws the heartbeat timeout with its delay and guard names", () => {
    expect(mermaid).toContain("socket_open_awaitingPong --> socket_dropping : after heartbeatTimeout\n");
    expect(mermaid).toContain("socket_open_awaitingPong --> socket_open_repinging : after heartbeatTimeout [wasTimerLate]\n");
    expect(mermaid).toContain("socket_open_repinging --> socket_dropping : after heartbeatTimeout\n");
    expect(mermaid).toContain("lost --> backoff : always [canRetry]\n");
  });
});

describe("the generator", () => {
  /** A small machine with every kind of transition; `extra` adds a top-level state. */
  const tinyMachine = (extra: { extra?: object } = {}) =>
    setup({
      guards: { isReady: () => true },
      delays: { patience: 100 },
      actions: { sayHello: () => {} },
    }).createMachine({
      id: "tiny",
      initial: "idle",
      on: { stop: { target: ".done" } },
      states: {
        idle: { description: "Waits.", on: { go: { guard: "isReady", target: "busy", actions: "sayHello" } } },
        busy: {
          initial: "working",
          states: { working: { after: { patience: { target: "#tiny.done" } } } },
        },
        done: { type: "final" },
        ...extra,
      },
    });
  const tiny = tinyMachine();

  it("writes a stateDiagram-v2 with nested states, guards and delays by name", () => {
    expect(toMermaid(describeMachine(tiny), "%% tiny")).toBe(
      [
        "%% tiny",
        "stateDiagram-v2",
        "  direction TB",
        "  [*] --> idle",
        '  state "idle" as idle',
        "  idle : public —",
        '  state "busy" as busy {',
        "    [*] --> busy_working",
        '    state "working" as busy_working',
        "    busy_working : public —",
        "  }",
        '  state "done" as done',
        "  done : public —",
        "  idle --> busy : go [isReady]",
        "  busy_working --> done : after patience",
        "  done --> [*]",
        "  note left of done",
        "    from any state stop",
        "  end note",
        "",
      ].join("\n"),
    );
  });

  it("generates a different page when the machine gains a state", () => {
    const bigger = tinyMachine({ extra: {} });
    const options = { sourceFile: "m.ts", svgFile: "m.svg", mermaidFile: "m.mmd" };
    const before = toMarkdown(describeMachine(tiny), toMermaid(describeMachine(tiny)), options);
    const after = toMarkdown(describeMachine(bigger), toMermaid(describeMachine(bigger)), options);
    expect(after).not.toBe(before);
    expect(after).toContain("| `extra` |");
  });
});

describe("rendering", () => {
  it("renders the Mermaid source to a stamped SVG in headless chromium, offline", async () => {
    const source = generateFiles().mermaid;
    const svg = await renderSvg(source);
    expect(svg).toMatch(/^<!-- Generated by `npm run visualize`/);
    expect(stampedHash(svg)).toBe(sourceHash(source));
    const texts = svgTexts(svg);
    for (const name of ["ticket", "handshake", "awaitingPong", "dropping", "backoff", "closed"]) expect(texts).toContain(name);
    // Edge labels are split into one <tspan> per word.
    expect(texts.join(" ")).toContain("after heartbeatTimeout");
    expect(texts.join(" ")).toContain("[wasTimerLate]");
  }, 60_000);
});
