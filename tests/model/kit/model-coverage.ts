/**
 * Coverage of the connection machine, measured on the running socket: every state and
 * every transition the machine declares, and which of them real runs entered and took
 * (read from XState's `@xstate.microstep` inspection events, not from the model).
 */
import type { AnyStateMachine, InspectionEvent } from "xstate";
import { connectionMachine } from "../../../machines/connection.machine";
import { stateNodePaths } from "./model-paths";

/** One transition the machine declares. */
export interface TransitionInfo {
  /** Unique within the machine: `source|event|index`. */
  key: string;
  /** e.g. `socket.handshake —socket.closed [isTerminalClose]→ closed`. */
  label: string;
}

/** Every state and transition of a machine. */
export interface MachineInventory {
  /** State ids without the machine id, e.g. `socket.open.live`. */
  states: string[];
  transitions: TransitionInfo[];
}

/** What ran, against what exists. */
export interface CoverageReport {
  states: { covered: number; total: number; missing: string[] };
  transitions: { covered: number; total: number; missing: string[] };
}

interface TransitionLike {
  source: { id: string; transitions: Map<string, unknown[]>; always?: unknown[] };
  eventType: string;
  guard?: unknown;
  target?: ReadonlyArray<{ id: string }>;
  reenter?: boolean;
}

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}

const ALWAYS = "always";

function shortId(machine: AnyStateMachine, id: string): string {
  return id === machine.id ? "(root)" : id.slice(machine.id.length + 1);
}

function guardName(guard: unknown): string | undefined {
  if (typeof guard === "string") return guard;
  if (guard && typeof guard === "object" && "type" in guard) return String((guard as { type: unknown }).type);
  return guard === undefined ? undefined : "(inline guard)";
}

function keyOf(transition: TransitionLike): string {
  const { source, eventType } = transition;
  const index = eventType === "" ? (source.always ?? []).indexOf(transition) : (source.transitions.get(eventType) ?? []).indexOf(transition);
  return `${source.id}|${eventType === "" ? ALWAYS : eventType}|${index}`;
}

function labelOf(machine: AnyStateMachine, transition: TransitionLike): string {
  const guard = guardName(transition.guard);
  const event = transition.eventType === "" ? ALWAYS : transition.eventType.replace(`.${transition.source.id}`, "");
  const targets = transition.target?.map((target) => shortId(machine, target.id)).join(", ");
  const to = targets ? (transition.reenter ? `${targets} (re-entered)` : targets) : "(no target)";
  return `${shortId(machine, transition.source.id)} —${event}${guard ? ` [${guard}]` : ""}→ ${to}`;
}

/** Lists every state and transition of `machine` (the connection machine by default). */
export function machineInventory(machine: AnyStateMachine = connectionMachine): MachineInventory {
  const states: string[] = [];
  const transitions: TransitionInfo[] = [];
  const visit = (node: StateNodeLike) => {
    if (node.id !== machine.id) states.push(shortId(machine, node.id));
    for (const candidates of node.transitions.values()) {
      for (const transition of candidates) transitions.push({ key: keyOf(transition), label: labelOf(machine, transition) });
    }
    for (const transition of node.always ?? []) transitions.push({ key: keyOf(transition), label: labelOf(machine, transition) });
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root as unknown as StateNodeLike);
  return { states, transitions };
}

/** Collects what running sockets did; feed it their inspection events. */
export interface CoverageRecorder {
  /** An XState inspection observer: pass it as (part of) a socket's `inspect`. */
  inspect(event: InspectionEvent): void;
  /** What was covered so far, against the inventory. */
  report(): CoverageReport;
}

/** Records which states and transitions of `machine` real runs entered and took. */
export function createCoverageRecorder(machine: AnyStateMachine = connectionMachine): CoverageRecorder {
  const inventory = machineInventory(machine);
  const states = new Set<string>();
  const transitions = new Set<string>();
  return {
    inspect(event) {
      if (event.type === "@xstate.snapshot") {
        // Only machine snapshots have a `value`; the initial state shows up here first.
        const { value } = event.snapshot as { value?: unknown };
        for (const path of stateNodePaths(value)) states.add(path);
        return;
      }
      if (event.type !== "@xstate.microstep") return;
      const { snapshot, _transitions } = event as unknown as { snapshot: { value: unknown }; _transitions: TransitionLike[] };
      for (const path of stateNodePaths(snapshot.value)) states.add(path);
      for (const transition of _transitions) transitions.add(keyOf(transition));
    },
    report() {
      const missingStates = inventory.states.filter((state) => !states.has(state));
      const missingTransitions = inventory.transitions.filter((t) => !transitions.has(t.key)).map((t) => t.label);
      return {
        states: { covered: inventory.states.length - missingStates.length, total: inventory.states.length, missing: missingStates },
        transitions: {
          covered: inventory.transitions.length - missingTransitions.length,
          total: inventory.transitions.length,
          missing: missingTransitions,
        },
      };
    },
  };
}

/** `states 13/13, transitions 37/37` */
export function formatCoverage(report: CoverageReport): string {
  return `states ${report.states.covered}/${report.states.total}, transitions ${report.transitions.covered}/${report.transitions.total}`;
}
