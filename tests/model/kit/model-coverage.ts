/**
 * Coverage of the connection machine, measured on the running socket: every state and
 * every transition the machine declares, and which of them real runs entered and took
 * (read from XState's `@xstate.microstep` inspection events, not from the model).
 */
import type { AnyStateMachine, InspectionEvent } from "xstate";
import { connectionMachine } from "../../../machines/connection.machine";
import {
  allStates,
  describeMachine,
  type TakenTransition,
  type TransitionInfo as DescribedTransition,
  transitionKey,
} from "../../../scripts/describe-machine";
import { stateNodePaths } from "./model-paths";

/** One transition the machine declares. */
export interface TransitionInfo {
  /** Unique within the machine: `sourceId|eventType|index`. */
  key: string;
  /** e.g. `socket.handshake —socket.closed [isTerminalClose]→ closed`. */
  label: string;
}

/** Every state and transition of a machine. */
export interface MachineInventory {
  /** State paths, e.g. `socket.open.live`. */
  states: string[];
  transitions: TransitionInfo[];
}

/** What ran, against what exists. */
export interface CoverageReport {
  states: { covered: number; total: number; missing: string[] };
  transitions: { covered: number; total: number; missing: string[] };
}

/** Lists every state and transition of `machine` (the connection machine by default), from `describeMachine`. */
export function machineInventory(machine: AnyStateMachine = connectionMachine): MachineInventory {
  const info = describeMachine(machine);
  const label = (from: string, transition: DescribedTransition) => {
    const guard = transition.guard ? ` [${transition.guard}]` : "";
    const to = transition.target ? (transition.reenter ? `${transition.target} (re-entered)` : transition.target) : "(no target)";
    return `${from} —${transition.trigger}${guard}→ ${to}`;
  };
  const described = [
    ...info.transitions.map((transition) => ({ from: "(root)", transition })),
    ...allStates(info).flatMap((state) => state.transitions.map((transition) => ({ from: state.path, transition }))),
  ];
  return {
    states: allStates(info).map((state) => state.path),
    transitions: described.map(({ from, transition }) => ({ key: transition.key, label: label(from, transition) })),
  };
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
      const { snapshot, _transitions } = event as unknown as { snapshot: { value: unknown }; _transitions: TakenTransition[] };
      for (const path of stateNodePaths(snapshot.value)) states.add(path);
      for (const transition of _transitions) transitions.add(transitionKey(transition));
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
