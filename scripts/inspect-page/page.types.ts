/** What the page server tells the page (`GET /config.json`). */
import type { SocketOptions } from "../../src/options";
import type { DiagramEdge } from "../visualize";

/** A fault button: `POST /control/{name}` runs it on the reference server. */
export interface FaultInfo {
  name: string;
  label: string;
  /** What the fault does, shown as the button's tooltip. */
  title: string;
}

/** A state of the machine as the page draws it. */
export interface PageState {
  /** Dotted path, as in `snapshot.value`: `socket.open.live`. */
  path: string;
  /** The node's id in the Mermaid source. */
  diagramId: string;
  publicState: string;
  /** Left in the same step it is entered (`always`): the page follows it to the next arrow. */
  transient: boolean;
}

export interface PageConfig {
  /** The reference server the demo socket talks to. */
  apiUrl: string;
  wsUrl: string;
  /** The demo socket is `connectToChat(chatId)`, key `chat:{chatId}`. */
  chatId: string;
  socketOptions: Omit<SocketOptions, "inspect" | "debug">;
  /** The machine's Mermaid source, from the same generator as `visualizations/`. */
  mermaid: string;
  mermaidConfig: object;
  states: PageState[];
  /** The diagram's arrows in Mermaid's order (`edge0`, `edge1`, …). */
  edges: DiagramEdge[];
  faults: FaultInfo[];
}

/** One line of what the page saw, kept in order for people (the log) and tests (`window.sockstateInspector`). */
export interface ObservedState {
  /** Milliseconds since the page started. */
  at: number;
  /** Which socket of the page (1 for the first, +1 per reconnect command). */
  generation: number;
  /** The active atomic state's dotted path, e.g. `socket.open.awaitingPong`. */
  state: string;
  publicState: string;
  /** The event that led here, shortened: `after heartbeatTimeout`, `socket.closed`. */
  event: string;
  /** Diagram ids that the page highlighted for this state (found in the SVG). */
  highlighted: string[];
  /** Mermaid ids of the arrows lit for the transition that led here (`edge12`); empty when none is drawn. */
  edges: string[];
}

/** What the page exposes on `window.sockstateInspector`. */
export interface InspectorPageHandle {
  readonly history: readonly ObservedState[];
  readonly ready: boolean;
}
