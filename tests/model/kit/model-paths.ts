/**
 * Paths of the connection machine, generated from the machine itself with `xstate/graph`.
 *
 * The machine's actions do IO and it uses delays, so it is not stepped by `createTestModel`;
 * instead a small model wraps it (`fromTransition`): a model state is the machine
 * snapshot plus a fact about time (the open connection stayed open long enough to be
 * stable), and a model event is a {@link Stimulus}. Each stimulus becomes the machine
 * events it causes in the real world, stepped with the pure `transition()`; the socket
 * actions the machine takes are answered the way its socket link answers them
 * (`probeSocket` gets `socket.silent` or `socket.active`, `confirmSocket`
 * `socket.confirmed` unless the server's close frame is already in, `dropSocket`
 * `socket.closed`), and
 * `fetchTicket` reports `ticket.authorized` as soon as it starts (the model's client
 * has no token provider). The model's socket has no `openTimeout` (`manager.open()`).
 */
import { type AnyStateMachine, assign, type EventObject, fromTransition, initialTransition, transition } from "xstate";
import { getAdjacencyMap, getShortestPaths } from "xstate/graph";
import { connectionMachine } from "../../../machines/connection.machine";
import { type ConnectionSnapshot, toPublicAttempt, toPublicState } from "../../../machines/connection.public";
import type { ConnectionContext, ConnectionInput, WebSocketState } from "../../../machines/connection.types";
import { Ticket } from "../../../machines/connection.utils";
import { TicketError } from "../../../machines/connection.errors";
import { HEARTBEAT_TIMEOUT_CODE } from "../../../machines/protocol";
import { DEFAULT_SOCKET_OPTIONS } from "../../../src/options";
import { describeStimulus, MODEL_SOCKET_OPTIONS, type ModelSocketOptions, type ModelTimer, type Stimulus, type TicketAnswer } from "./model-stimuli";

/** One step of a path: a stimulus and what the machine (and so the socket) does with it. */
export interface ConnectionStep {
  stimulus: Stimulus;
  /** Machine events that took a transition, in order, e.g. `["socket.open"]`. */
  events: readonly string[];
  /** The machine state afterwards, dot-separated: `"socket.open.live"`. */
  state: string;
  /** The public state afterwards (`socket.state`). */
  publicState: WebSocketState;
  /** `socket.reconnectAttempt` afterwards. */
  reconnectAttempt: number;
}

/** A sequence of stimuli from a new socket, with the expected outcome of each. */
export interface ConnectionPath {
  /** Stable identifier: the stimuli, in order. */
  id: string;
  /** The stimuli in words, e.g. `ticket 200 → server accepts → server closes 4001`. */
  description: string;
  steps: readonly ConnectionStep[];
}

/** Options of {@link createConnectionModel}. */
export interface ConnectionModelOptions {
  /**
   * `maxReconnectAttempts` of the modelled socket (1–4); bounds the attempt counter so
   * that traversal terminates.
   * @default 2
   */
  maxReconnectAttempts?: number;
  /**
   * Which stimuli the paths may use, e.g. `(s) => s.type !== "user.close" || s.via === "close"`.
   * @default every stimulus
   */
  stimuli?: (stimulus: Stimulus) => boolean;
  /** The machine to traverse. @default connectionMachine */
  machine?: AnyStateMachine;
}

interface ModelState {
  machine: ConnectionSnapshot;
  /** The open connection outlived the stable-uptime delay. */
  stable: boolean;
}

type MachineEvent = EventObject & Record<string, unknown>;

const TICKET_STATUS: Record<TicketAnswer, number> = {
  200: 200,
  401: 401,
  404: 404,
  403: 403,
  500: 500,
  network: 0,
};

/** `{ socket: { open: "live" } }` → `["socket", "socket.open", "socket.open.live"]`. */
export function stateNodePaths(value: unknown, prefix = ""): string[] {
  if (typeof value === "string") return [prefix + value];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => [
    prefix + key,
    ...stateNodePaths(child, `${prefix}${key}.`),
  ]);
}

/** The deepest active state, dot-separated: `"socket.open.live"`. */
export function stateName(value: unknown): string {
  const depth = (path: string) => path.split(".").length;
  return stateNodePaths(value).reduce((deepest, path) => (depth(path) > depth(deepest) ? path : deepest));
}

function activeNodes(machine: AnyStateMachine, snapshot: ConnectionSnapshot) {
  const ids = stateNodePaths(snapshot.value).map((path) => `${machine.id}.${path}`);
  return [machine.root, ...ids.map((id) => machine.getStateNodeById(id))];
}

/** Which delays may fire next, given what the model knows about time (see MODEL_SOCKET_OPTIONS). */
function isTimely(delay: string, state: ModelState): boolean {
  const inLive = state.machine.matches({ socket: { open: "live" } });
  switch (delay as ModelTimer) {
    case "openConfirmation":
      return state.machine.matches({ socket: "confirming" });
    case "stableUptime":
      // In awaitingPong the heartbeat timeout comes first; in live nothing else is due before it.
      return !state.stable && inLive;
    case "heartbeatInterval":
      return state.stable;
    case "heartbeatTimeout":
      return state.machine.matches({ socket: "open" });
    case "connectTimeout":
    case "closeTimeout":
    case "retryDelay":
      return true;
  }
  throw new Error(`the connection model has no timing rule for the delay "${delay}"; add one to model-paths.ts`);
}

const TICKET_ANSWERS: readonly Stimulus[] = ([200, 401, 404, 500, "network"] as const).map((answer) => ({ type: "ticket.answer", answer }));
const HANDSHAKE_FAILURES: readonly Stimulus[] = [1006, 4001, 4003].map((code) => ({ type: "server.refuse", code }));
const SERVER_CLOSES: readonly Stimulus[] = [1006, 1011, 4001, 4003, 4004, 1008].map((code) => ({ type: "server.close", code }));
/** A refusal whose close event comes just after the confirmation window: terminal, and one that is retried. */
const LATE_REFUSALS: readonly Stimulus[] = [4003, 1011].map((code) => ({ type: "server.closeLate", code }));

/** Server closes that can happen to an open connection: late refusals only while it is unconfirmed. */
const serverCloses = (state: ModelState): Stimulus[] =>
  state.machine.matches({ socket: "confirming" }) ? [...SERVER_CLOSES, ...LATE_REFUSALS] : [...SERVER_CLOSES];
const WAKES: readonly Stimulus[] = (["visibilitychange", "online"] as const).map((via) => ({ type: "env.wake", via }));

/** The user's ways to end a socket. */
function userCloses(state: ModelState): Stimulus[] {
  // While closing, the socket may have left its manager already (an earlier closeAll()),
  // and a manager no longer closes what it no longer holds: closeAll() is not a stimulus there.
  const closing = state.machine.matches({ socket: "closing" });
  return (["close", "destroy", "closeAll"] as const)
    .filter((via) => via !== "closeAll" || !closing)
    .map((via) => ({ type: "user.close", via }));
}

/** Time passing until `timer` fires, with its variants, if it can be the next timer to fire. */
function timePasses(timer: ModelTimer, state: ModelState): Stimulus[] {
  if (!isTimely(timer, state)) return [];
  if (timer === "heartbeatInterval") return [{ type: "time.pass", timer }, { type: "time.pass", timer, linkActive: true }];
  // A late timer and a clock jump move the wall clock, not the timers, but noticing them takes
  // time; once stable no other timer of the open state is due, so nothing can come first.
  if (timer === "heartbeatTimeout" && state.stable) {
    return [{ type: "time.pass", timer }, { type: "time.pass", timer, late: true }];
  }
  return [{ type: "time.pass", timer }];
}

const clockJumps = (state: ModelState): Stimulus[] => (state.stable ? [{ type: "time.jump" }] : []);

/**
 * What can happen in the world in each situation (docs/protocol.md §2–§5, §8), whether or not the
 * machine handles it: a machine that ignores something the world does is caught by the
 * tests that check the outcome, instead of never being asked.
 */
function worldStimuli(state: ModelState): Stimulus[] {
  const snapshot = state.machine;
  const always = [...userCloses(state), ...WAKES];
  if (snapshot.matches("ticket")) return [...TICKET_ANSWERS, ...timePasses("connectTimeout", state), ...always];
  if (snapshot.matches({ socket: "handshake" })) {
    return [{ type: "server.accept" }, ...HANDSHAKE_FAILURES, { type: "server.error" }, ...timePasses("connectTimeout", state), ...always];
  }
  if (snapshot.matches({ socket: "confirming" })) {
    return [{ type: "server.greet" }, ...serverCloses(state), ...timePasses("openConfirmation", state), ...always];
  }
  if (snapshot.matches({ socket: { open: "live" } })) {
    return [
      ...serverCloses(state),
      { type: "server.error" },
      ...timePasses("stableUptime", state),
      ...timePasses("heartbeatInterval", state),
      ...clockJumps(state),
      ...always,
    ];
  }
  if (snapshot.matches({ socket: { open: "awaitingPong" } })) {
    return [
      { type: "server.pong" },
      ...serverCloses(state),
      ...timePasses("heartbeatTimeout", state),
      ...always,
    ];
  }
  if (snapshot.matches({ socket: "closing" })) return [{ type: "server.closeAck" }, ...timePasses("closeTimeout", state), ...always];
  if (snapshot.matches("backoff")) return [...timePasses("retryDelay", state), ...always];
  return always;
}

/** The stimuli that make the machine receive `eventType` in `state`. */
function stimuliFor(eventType: string, state: ModelState): Stimulus[] {
  const snapshot = state.machine;
  if (eventType.startsWith("xstate.after.")) return timePasses(eventType.split(".")[2] as ModelTimer, state);
  switch (eventType) {
    case "ticket.issued":
    case "ticket.failed":
      return [...TICKET_ANSWERS];
    case "socket.open":
      return [{ type: "server.accept" }];
    case "socket.closed":
      if (snapshot.matches({ socket: "handshake" })) return [...HANDSHAKE_FAILURES];
      if (snapshot.matches({ socket: "open" }) || snapshot.matches({ socket: "confirming" })) return serverCloses(state);
      if (snapshot.matches({ socket: "closing" })) return [{ type: "server.closeAck" }];
      return []; // dropping answers its own close at once
    case "socket.error":
      // Any socket can report an error; two places are enough to exercise the transition.
      return snapshot.matches({ socket: "handshake" }) || snapshot.matches({ socket: { open: "live" } })
        ? [{ type: "server.error" }]
        : [];
    case "socket.alive":
      return [{ type: "server.pong" }];
    case "socket.active":
    case "socket.silent":
      return []; // the socket's answers to `probeSocket`, caused by `time.pass heartbeatInterval`
    case "socket.confirmed":
      // The first inbound frame; or the answer to `confirmSocket`, caused by `time.pass openConfirmation`.
      return [{ type: "server.greet" }];
    case "ticket.authorized":
      return []; // `fetchTicket`'s report as it starts: the model's client has no token provider
    case "timer.openTimeout":
      return []; // the model's socket is opened without openTimeout; tests/model covers it on its own
    case "connection.close":
      return userCloses(state);
    case "connection.wake":
      return [...WAKES];
    case "clock.jumped":
      return clockJumps(state);
  }
  throw new Error(`the connection model has no stimulus for the machine event "${eventType}"; add one to model-paths.ts`);
}

/** The event of the machine's `after` delay `timer` in the active states; none when no such timer runs. */
function afterEvent(machine: AnyStateMachine, snapshot: ConnectionSnapshot, timer: ModelTimer): MachineEvent | undefined {
  const type = activeNodes(machine, snapshot)
    .reverse()
    .flatMap((node) => [...node.transitions.keys()])
    .find((key) => key.startsWith(`xstate.after.${timer}.`));
  return type ? { type } : undefined;
}

/** What a stimulus delivers after the machine has handled its first event and the socket's answers. */
function laterEventOf(stimulus: Stimulus): MachineEvent | undefined {
  return stimulus.type === "server.closeLate" ? { type: "socket.closed", code: stimulus.code, reason: "", wasClean: true } : undefined;
}

/** The machine event a stimulus delivers first. */
function machineEventOf(machine: AnyStateMachine, snapshot: ConnectionSnapshot, stimulus: Stimulus): MachineEvent | undefined {
  switch (stimulus.type) {
    case "ticket.answer":
      return stimulus.answer === 200
        ? { type: "ticket.issued", ticket: new Ticket("model-ticket") }
        : { type: "ticket.failed", error: new TicketError(TICKET_STATUS[stimulus.answer]) };
    case "server.accept":
      return { type: "socket.open" };
    case "server.refuse":
    case "server.close":
      return { type: "socket.closed", code: stimulus.code, reason: "", wasClean: stimulus.code !== 1006 };
    case "server.closeAck":
      return { type: "socket.closed", ...snapshot.context.closeRequest, wasClean: true };
    case "server.pong":
      return { type: "socket.alive" };
    case "server.greet":
      // The socket turns the first frame of an unconfirmed connection into this.
      return { type: "socket.confirmed" };
    case "server.error":
      return { type: "socket.error", error: "model socket error" };
    case "user.close":
      return { type: "connection.close", code: 1000, reason: "" };
    case "env.wake":
      return { type: "connection.wake" };
    case "time.jump":
      return { type: "clock.jumped", by: 5000 };
    case "server.closeLate":
      // The confirmation window ends first (the socket is CLOSING); the close event follows.
      return afterEvent(machine, snapshot, "openConfirmation");
    case "time.pass": {
      const event = afterEvent(machine, snapshot, stimulus.timer);
      return event && stimulus.late ? { ...event, late: true } : event;
    }
  }
}

/**
 * How the socket link answers the actions of one transition (see connection.socket.ts):
 * `fetchTicket` reports `ticket.authorized` at once, as the model's client has no token provider.
 */
function linkAnswers(actions: ReadonlyArray<{ type: string }>, stimulus: Stimulus): MachineEvent[] {
  const answers: MachineEvent[] = [];
  for (const action of actions) {
    if (action.type === "confirmSocket") {
      // Still OPEN, unless the server's close frame is already in (a late refusal).
      if (stimulus.type !== "server.closeLate") answers.push({ type: "socket.confirmed" });
    } else if (action.type === "probeSocket") {
      answers.push(stimulus.type === "time.pass" && stimulus.linkActive ? { type: "socket.active", idleFor: 1 } : { type: "socket.silent" });
    } else if (action.type === "dropSocket") {
      answers.push({ type: "socket.closed", code: HEARTBEAT_TIMEOUT_CODE, reason: "heartbeat timeout", wasClean: false });
    } else if (action.type === "fetchTicket") {
      answers.push({ type: "ticket.authorized" });
    }
  }
  return answers;
}

/** What the model knows about time while it steps the machine: whether the open connection is stable. */
interface ModelClock {
  stable: boolean;
}

/**
 * The model's machine: `wasTimerLate` reads the stimulus, and `resetAttemptsIfStable` the
 * model's `stable` fact, instead of the wall clock.
 */
function modelMachine(machine: AnyStateMachine, clock: ModelClock): AnyStateMachine {
  return machine.provide({
    guards: { wasTimerLate: ({ event }: { event: MachineEvent }) => event.late === true },
    actions: { resetAttemptsIfStable: assign({ attempt: ({ context }: { context: ConnectionContext }) => (clock.stable ? 0 : context.attempt) }) },
  });
}

function step(machine: AnyStateMachine, clock: ModelClock, state: ModelState, stimulus: Stimulus): { state: ModelState; events: string[] } {
  // The stable uptime ends with no machine event; the machine reads it when the connection ends.
  clock.stable = state.stable;
  const first = machineEventOf(machine, state.machine, stimulus);
  let later = laterEventOf(stimulus);
  const queue: MachineEvent[] = first ? [first] : [];
  const events: string[] = [];
  let snapshot = state.machine;
  while (snapshot.status === "active") {
    if (queue.length === 0 && later) {
      queue.push(later);
      later = undefined;
    }
    if (queue.length === 0) break;
    const event = queue.shift()!;
    if (machine.getTransitionData(snapshot as never, event).length > 0) events.push(event.type);
    const [next, actions] = transition(machine, snapshot as never, event);
    queue.push(...linkAnswers(actions as Array<{ type: string; params?: unknown }>, stimulus));
    snapshot = next as ConnectionSnapshot;
  }
  const open = snapshot.status === "active" && snapshot.matches({ socket: "open" });
  return {
    state: {
      machine: snapshot,
      stable: open && (state.stable || (stimulus.type === "time.pass" && stimulus.timer === "stableUptime")),
    },
    events,
  };
}

function serialize(state: ModelState): string {
  const { machine } = state;
  return `${JSON.stringify(machine.value)} attempt=${machine.context.attempt}${machine.context.connections > 0 ? " reconnected" : ""}${state.stable ? " stable" : ""} ${machine.status}`;
}

const stimulusKey = (stimulus: Stimulus): string => JSON.stringify(stimulus);

/** The connection machine as a test model: its inventory and its paths. */
export interface ConnectionModel {
  /** Socket options the paths assume: pass them to the socket under test. */
  readonly socketOptions: ModelSocketOptions;
  /**
   * Paths that together take every edge of the model (every stimulus in every model
   * state): the shortest path to each state, extended by each of its stimuli, without
   * paths that are a prefix of another.
   */
  paths(): ConnectionPath[];
  /** The shortest path to every model state but the initial one (whose path is empty). */
  shortestPaths(): ConnectionPath[];
  /** Replays stimuli from a new socket: what the machine does with each. */
  replay(stimuli: readonly Stimulus[]): ConnectionPath;
  /** What may happen after `stimuli`: one step per stimulus the model offers (none once closed). */
  next(stimuli: readonly Stimulus[]): ConnectionStep[];
}

/** Builds the model of one managed socket from the connection machine. */
export function createConnectionModel(options: ConnectionModelOptions = {}): ConnectionModel {
  const maxReconnectAttempts = options.maxReconnectAttempts ?? MODEL_SOCKET_OPTIONS.maxReconnectAttempts;
  if (!Number.isInteger(maxReconnectAttempts) || maxReconnectAttempts < 1 || maxReconnectAttempts > 4) {
    throw new TypeError(`sockstate: the model needs maxReconnectAttempts in 1–4, got ${String(maxReconnectAttempts)}`);
  }
  const accept = options.stimuli ?? (() => true);
  const clock: ModelClock = { stable: false };
  const machine = modelMachine(options.machine ?? connectionMachine, clock);
  const socketOptions = { ...MODEL_SOCKET_OPTIONS, maxReconnectAttempts };
  const input: ConnectionInput = {
    key: "model",
    path: "/model",
    apiUrl: "http://model.test",
    wsUrl: "ws://model.test",
    settings: { ...DEFAULT_SOCKET_OPTIONS, ...socketOptions, openTimeout: 0, params: {} },
  };
  const [initialSnapshot] = initialTransition(machine, input);
  // `fetchTicket`'s first report comes before anything else can happen.
  const [authorized] = transition(machine, initialSnapshot, { type: "ticket.authorized" });
  const initial: ModelState = { machine: authorized as ConnectionSnapshot, stable: false };

  const offered = (state: ModelState): Stimulus[] => {
    if (state.machine.status !== "active") return [];
    const types = new Set(activeNodes(machine, state.machine).flatMap((node) => node.ownEvents));
    const stimuli = [...worldStimuli(state), ...[...types].flatMap((type) => stimuliFor(type, state))];
    const unique = new Map(stimuli.map((stimulus) => [stimulusKey(stimulus), stimulus]));
    return [...unique.values()].filter(accept);
  };
  // The model is deterministic in its serialized state: remember every step taken.
  const steps = new Map<string, { state: ModelState; events: string[] }>();
  const cachedStep = (state: ModelState, stimulus: Stimulus) => {
    const key = `${serialize(state)} ${stimulusKey(stimulus)}`;
    let result = steps.get(key);
    if (!result) steps.set(key, (result = step(machine, clock, state, stimulus)));
    return result;
  };
  const logic = fromTransition((state: ModelState, stimulus: Stimulus) => cachedStep(state, stimulus).state, initial);
  const traversal = {
    events: (snapshot: { context: ModelState }) => offered(snapshot.context),
    serializeState: (snapshot: { context: ModelState }) => serialize(snapshot.context),
    serializeEvent: (stimulus: Stimulus) => stimulusKey(stimulus),
  };

  const toStep = (stimulus: Stimulus, result: { state: ModelState; events: string[] }): ConnectionStep => ({
    stimulus,
    events: result.events,
    state: stateName(result.state.machine.value),
    publicState: toPublicState(result.state.machine),
    reconnectAttempt: toPublicAttempt(result.state.machine),
  });
  const stateAfter = (stimuli: readonly Stimulus[]): ModelState =>
    stimuli.reduce((state, stimulus) => cachedStep(state, stimulus).state, initial);

  const replay = (stimuli: readonly Stimulus[]): ConnectionPath => {
    let state = initial;
    const steps = stimuli.map((stimulus): ConnectionStep => {
      const result = cachedStep(state, stimulus);
      state = result.state;
      return toStep(stimulus, result);
    });
    return {
      id: stimuli.map(stimulusKey).join(" "),
      description: stimuli.map(describeStimulus).join(" → ") || "(new socket)",
      steps,
    };
  };

  const shortestStimuli = (): Map<string, Stimulus[]> => {
    const paths = getShortestPaths(logic, traversal as never);
    return new Map(
      paths.map((path) => [
        serialize((path.state as { context: ModelState }).context),
        // The first step of every path is the actor's own `xstate.init`.
        path.steps.map((s) => s.event as Stimulus).filter((event) => (event.type as string) !== "xstate.init"),
      ]),
    );
  };

  return {
    socketOptions,
    replay,
    next: (stimuli) => {
      const state = stateAfter(stimuli);
      return offered(state).map((stimulus) => toStep(stimulus, cachedStep(state, stimulus)));
    },
    shortestPaths: () => [...shortestStimuli().values()].filter((s) => s.length > 0).map(replay),
    paths: () => {
      const toState = shortestStimuli();
      const adjacency = getAdjacencyMap(logic, traversal as never) as unknown as Record<
        string,
        { transitions: Record<string, { event: Stimulus }> }
      >;
      const all = Object.entries(adjacency).flatMap(([key, { transitions }]) =>
        Object.values(transitions).map(({ event }) => [...(toState.get(key) ?? []), event]),
      );
      // Longest first; drop any path that is a prefix of one already kept.
      all.sort((a, b) => b.length - a.length || stimuliId(a).localeCompare(stimuliId(b)));
      const kept: Stimulus[][] = [];
      for (const candidate of all) {
        const id = stimuliId(candidate);
        if (!kept.some((longer) => stimuliId(longer.slice(0, candidate.length)) === id)) kept.push(candidate);
      }
      return kept.reverse().map(replay);
    },
  };
}

const stimuliId = (stimuli: readonly Stimulus[]): string => stimuli.map(stimulusKey).join(" ");
