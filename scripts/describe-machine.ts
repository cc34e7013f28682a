/**
 * The one walk of a machine's state tree: `describeMachine` turns the machine's own
 * definition (states, `on`, `after`, `always`, `invoke`, entry actions, tags) into plain
 * data, in definition order. The diagrams of `npm run visualize`, the live inspector page
 * and the model kit's coverage (tests/model/kit) are all drawn from it.
 */
import type { AnyStateMachine, AnyStateNode, StateValue } from "xstate";
import { connectionMachine } from "../machines/connection.machine";
import { toPublicState } from "../machines/connection.public";
import type { ConnectionContext } from "../machines/connection.types";


/** How a transition is triggered. */
export type TriggerKind = "event" | "after" | "always" | "done" | "error";

export interface TransitionInfo {
  /**
   * Unique within the machine: `sourceId|eventType|index` (`always` for eventless ones),
   * as {@link transitionKey} computes it for a transition XState reports as taken.
   */
  key: string;
  kind: TriggerKind;
  /** The event type as the machine sees it, e.g. `xstate.after.heartbeatTimeout.connection.socket.open.awaitingPong`. */
  eventType: string;
  /** Short label with the machine's names: `socket.closed`, `after heartbeatTimeout`, `always`, `<actor> done` for an invoke. */
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
  exit: string[];
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

const keyOf = (sourceId: string, eventType: string, index: number) => `${sourceId}|${eventType === "" ? "always" : eventType}|${index}`;

/** A transition as XState reports it taken, in the `_transitions` of an `@xstate.microstep` inspection event. */
export interface TakenTransition {
  source: { id: string; transitions: Map<string, readonly unknown[]>; always?: readonly unknown[] };
  eventType: string;
}

/** The {@link TransitionInfo.key} of a transition XState reports as taken. */
export function transitionKey(transition: TakenTransition): string {
  const { source, eventType } = transition;
  const siblings = eventType === "" ? (source.always ?? []) : (source.transitions.get(eventType) ?? []);
  return keyOf(source.id, eventType, siblings.indexOf(transition));
}

function toTransitionInfo(
  node: AnyStateNode,
  transition: { eventType: string; guard?: unknown; target?: readonly AnyStateNode[] | undefined; reenter: boolean; actions: readonly unknown[] },
  kind: TriggerKind,
  trigger: string,
  index: number,
): TransitionInfo {
  const targets = transition.target ?? [];
  if (targets.length > 1) throw new Error(`describeMachine: ${pathOf(node)} has a transition with several targets; draw it first`);
  return {
    key: keyOf(node.id, transition.eventType, index),
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
  // Index among the node's transitions on the same event, in definition order: XState's order too.
  const counts = new Map<string, number>();
  const add = (transition: Parameters<typeof toTransitionInfo>[1], kind: TriggerKind, trigger: string) => {
    const index = counts.get(transition.eventType) ?? 0;
    counts.set(transition.eventType, index + 1);
    result.push(toTransitionInfo(node, transition, kind, trigger, index));
  };
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
    for (const transition of transitions) add(transition, kind, trigger);
  }
  for (const transition of node.after) add(transition, "after", `after ${delayName(transition.delay)}`);
  for (const transition of node.always ?? []) add(transition, "always", "always");
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
    exit: namedActions(node.exit),
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
