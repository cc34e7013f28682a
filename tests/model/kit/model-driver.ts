/**
 * Executes model paths against a real socket: every stimulus becomes an action on the
 * {@link ModelNetwork}, the page, the socket, or the (fake) clock, and after each step
 * the driver checks that the socket's machine took exactly the transitions the model
 * predicted and reached the predicted state.
 */
import type { InspectionEvent } from "xstate";
import { OPEN_CONFIRMATION_DELAY } from "../../../machines/connection.machine";
import { CLOCK_CHECK_INTERVAL, LATE_TIMER_TOLERANCE } from "../../../machines/connection.socket";
import { stableUptime } from "../../../machines/connection.utils";
import { PONG_FRAME } from "../../../machines/protocol";
import type { ManagedWebSocket } from "../../../src/managed-socket";
import type { SocketOptions } from "../../../src/options";
import type { CoverageRecorder } from "./model-coverage";
import type { ModelNetwork } from "./model-network";
import { type ConnectionModel, type ConnectionPath, type ConnectionStep, stateName } from "./model-paths";
import { describeStimulus, MODEL_SOCKET_OPTIONS, type ModelSocketOptions, type Stimulus } from "./model-stimuli";

/**
 * Fake-timer controls; pass `vi` (vitest) or `jest` with fake timers enabled.
 */
export interface ModelTimers {
  advanceTimersByTimeAsync(ms: number): Promise<unknown>;
  advanceTimersToNextTimerAsync(): Promise<unknown>;
  /** Moves the wall clock without firing timers. */
  setSystemTime(now: number): unknown;
}

/** Options of {@link createModelDriver}. */
export interface ModelDriverOptions {
  network: ModelNetwork;
  timers: ModelTimers;
  /** The model whose paths will run; its `socketOptions` are used. @default the default model's */
  model?: Pick<ConnectionModel, "socketOptions">;
  /** Also feed this recorder the socket's inspection events. */
  coverage?: CoverageRecorder;
}

/** What the driver leaves behind; all zero once a socket is closed and cleaned up. */
export interface ModelLeftovers {
  /** Sockets the client still holds (connecting, open, or closing with a listener). */
  liveSockets: number;
  /** Ticket requests nobody answered or aborted. */
  pendingTickets: number;
  /** `visibilitychange` / `online` listeners still registered (`undefined` on a real page). */
  environmentListeners: number | undefined;
}

/**
 * What the driver needs of a socket. Structural, so that a socket of the built package
 * (`sockstate`) fits as well as one of `src/`.
 */
export type DrivenSocket = Pick<ManagedWebSocket, "state" | "reconnectAttempt" | "close" | "destroy">;

/** What the driver needs of a client's `websocket` manager. */
export interface DrivenManager<Socket extends DrivenSocket> {
  open(path: string, options: SocketOptions, key?: string): Socket;
  closeAll(): void;
}

/** Runs model steps against one socket. */
export interface ModelDriver {
  /** The options the socket must be opened with: the model's timing plus the driver's inspector. */
  readonly socketOptions: SocketOptions;
  /** Opens the socket under test with `manager.open(path, socketOptions, key)`. Once per driver. */
  open<Socket extends DrivenSocket>(manager: DrivenManager<Socket>, path?: string, key?: string): Socket;
  /** The socket from {@link ModelDriver.open}. */
  readonly socket: DrivenSocket;
  /** Executes one step; rejects when the socket did not do what the step predicts. */
  perform(step: ConnectionStep): Promise<void>;
  /** Executes every step of `path`, in order. */
  run(path: ConnectionPath): Promise<void>;
  /** What is still alive: sockets, ticket requests, page listeners. */
  leftovers(): ModelLeftovers;
  /** Removes the page globals the driver installed. Call it in `afterEach`. */
  dispose(): void;
}

/** The data frame the server sends for `time.pass` with `linkActive`. */
export const MODEL_DATA_FRAME = '{"type":"model.data"}';

/** The page a socket watches (docs/protocol.md §8), as {@link installModelPage} provides it. */
export interface ModelPage {
  /** Fires `visibilitychange` (with `visibilityState` "visible") or `online`. */
  wake(via: "visibilitychange" | "online"): void;
  /** Listeners registered on the stand-in page; `undefined` when a real page (browser, jsdom) is used. */
  listeners(): number | undefined;
  /** Removes what was installed. */
  uninstall(): void;
}

/**
 * Makes `visibilitychange` and `online` available where the runtime has no page (Node.js):
 * installs a stand-in `document` and `addEventListener` on `globalThis` unless they exist.
 * Install it before creating the socket; {@link createModelDriver} does.
 */
export function installModelPage(): ModelPage {
  const scope = globalThis as Record<string, unknown>;
  const ownsWindow = typeof scope.addEventListener !== "function";
  const ownsDocument = scope.document === undefined;
  const listening = new Set<unknown>();
  const fake = (target: EventTarget) => ({
    addEventListener: (type: string, listener: EventListener) => {
      listening.add(listener);
      target.addEventListener(type, listener);
    },
    removeEventListener: (type: string, listener: EventListener) => {
      listening.delete(listener);
      target.removeEventListener(type, listener);
    },
    dispatchEvent: (event: Event) => target.dispatchEvent(event),
  });
  if (ownsWindow) Object.assign(scope, fake(new EventTarget()));
  if (ownsDocument) scope.document = { visibilityState: "visible", ...fake(new EventTarget()) };
  const page = scope as unknown as { document: EventTarget & { visibilityState?: string } } & EventTarget;
  return {
    wake(via: "visibilitychange" | "online") {
      if (via === "online") {
        page.dispatchEvent(new Event("online"));
        return;
      }
      if (page.document.visibilityState !== "visible") {
        Object.defineProperty(page.document, "visibilityState", { value: "visible", configurable: true });
      }
      page.document.dispatchEvent(new Event("visibilitychange"));
    },
    listeners: (): number | undefined => (ownsWindow && ownsDocument ? listening.size : undefined),
    uninstall() {
      if (ownsWindow) for (const name of ["addEventListener", "removeEventListener", "dispatchEvent"]) delete scope[name];
      if (ownsDocument) delete scope.document;
    },
  };
}

interface Microstep {
  event: { type: string };
  taken: boolean;
  value: unknown;
}

const isPrefix = (prefix: readonly string[], of: readonly string[]) => prefix.every((type, i) => of[i] === type);

/** Creates a driver. Create it before the socket: the socket watches the page from its creation. */
export function createModelDriver(options: ModelDriverOptions): ModelDriver {
  const { network, timers, coverage } = options;
  const modelOptions: ModelSocketOptions = options.model?.socketOptions ?? MODEL_SOCKET_OPTIONS;
  const environment = installModelPage();
  const microsteps: Microstep[] = [];
  let socket: DrivenSocket | undefined;
  let manager: DrivenManager<DrivenSocket> | undefined;
  let performed = 0;

  /** Wall-clock ms the driver moved with `setSystemTime`; timers did not move with them. */
  let clockJumps = 0;
  const timerNow = () => Date.now() - clockJumps;
  /** When the heartbeat interval of the current `live` state is due, on the timers' clock. */
  let heartbeatDueAt: number | undefined;
  /** When the confirmation window of the connection being confirmed ends, on the timers' clock. */
  let confirmationDueAt: number | undefined;

  const inspect = (event: InspectionEvent) => {
    coverage?.inspect(event);
    if (event.type !== "@xstate.microstep") return;
    const { event: cause, _transitions, snapshot } = event as unknown as {
      event: { type: string; idleFor?: number };
      _transitions: unknown[];
      snapshot: { value: unknown };
    };
    const wasLive = microsteps.at(-1)?.value;
    microsteps.push({ event: cause, taken: _transitions.length > 0, value: snapshot.value });
    const confirming = (value: unknown) => value !== undefined && stateName(value) === "socket.confirming";
    if (confirming(snapshot.value) !== confirming(wasLive)) {
      confirmationDueAt = confirming(snapshot.value) ? timerNow() + OPEN_CONFIRMATION_DELAY : undefined;
    }
    if (stateName(snapshot.value) === "socket.open.live" && stateName(wasLive) !== "socket.open.live") {
      // The machine's heartbeatInterval delay: shortened by the idle time a probe reported.
      heartbeatDueAt = timerNow() + modelOptions.heartbeatInterval - (cause.type === "socket.active" ? (cause.idleFor ?? 0) : 0);
    }
  };

  const jumpClock = (by: number) => {
    clockJumps += by;
    timers.setSystemTime(Date.now() + by);
  };

  /** Events that took a transition since microstep `from`; one per macrostep. */
  const takenSince = (from: number): string[] => {
    const types: string[] = [];
    let previous: object | undefined;
    for (const step of microsteps.slice(from)) {
      if (!step.taken || step.event === previous) continue;
      previous = step.event;
      types.push(step.event.type);
    }
    return types;
  };

  const requireSocket = (): DrivenSocket => {
    if (!socket) throw new Error("model driver: open() the socket first");
    return socket;
  };

  async function stimulate(stimulus: Stimulus): Promise<void> {
    switch (stimulus.type) {
      case "ticket.answer":
        return network.answerTicket(stimulus.answer);
      case "server.accept":
        return network.accept();
      case "server.refuse":
        return network.refuse(stimulus.code);
      case "server.close":
        return network.close(stimulus.code);
      case "server.closeLate": {
        if (confirmationDueAt === undefined || confirmationDueAt <= timerNow()) {
          throw new Error("model driver: a late refusal needs an open connection whose confirmation window has not ended");
        }
        // The close frame 1 ms before the window ends, the close event 1 ms after it.
        await timers.advanceTimersByTimeAsync(confirmationDueAt - timerNow() - 1);
        network.receiveCloseFrame();
        await timers.advanceTimersByTimeAsync(2);
        return network.close(stimulus.code);
      }
      case "server.greet":
        return network.send(MODEL_DATA_FRAME);
      case "server.pong":
        return network.send(PONG_FRAME);
      case "server.error":
        return network.error();
      case "server.closeAck":
        return network.acknowledgeClose();
      case "user.close":
        if (stimulus.via === "close") requireSocket().close();
        else if (stimulus.via === "destroy") requireSocket().destroy();
        else if (manager) manager.closeAll();
        else throw new Error("model driver: closeAll needs the socket opened through open(manager)");
        return;
      case "env.wake":
        return environment.wake(stimulus.via);
      case "time.pass":
        if (stimulus.linkActive) {
          // A frame 1 ms before the probe: the link is active, and the next interval is a long one.
          if (heartbeatDueAt === undefined) throw new Error("model driver: no heartbeat interval is running");
          await timers.advanceTimersByTimeAsync(Math.max(0, heartbeatDueAt - timerNow() - 1));
          network.send(MODEL_DATA_FRAME);
        }
        if (stimulus.late) jumpClock(modelOptions.heartbeatTimeout + LATE_TIMER_TOLERANCE + 1);
        return;
      case "time.jump":
        jumpClock(5 * LATE_TIMER_TOLERANCE);
        return;
    }
  }

  /** How long a timed stimulus lasts when the machine has no timer for it (nothing should happen). */
  function nominalDuration(stimulus: Stimulus): number {
    if (stimulus.type !== "time.pass") return CLOCK_CHECK_INTERVAL + 1;
    switch (stimulus.timer) {
      case "connectTimeout":
      case "closeTimeout":
        return modelOptions.connectTimeout + 1;
      case "retryDelay":
        return modelOptions.maxReconnectDelay + 1;
      case "openConfirmation":
        return OPEN_CONFIRMATION_DELAY + 1;
      case "stableUptime":
        return stableUptime(modelOptions.reconnectDelay) + 1;
      case "heartbeatInterval":
        return modelOptions.heartbeatInterval + 1;
      case "heartbeatTimeout":
        return modelOptions.heartbeatTimeout + 1;
    }
  }

  async function perform(step: ConnectionStep): Promise<void> {
    const current = requireSocket();
    performed += 1;
    const label = `step ${performed} (${describeStimulus(step.stimulus)})`;
    const timed = step.stimulus.type === "time.pass" || step.stimulus.type === "time.jump";
    // Whatever is already under way (a ticket request being sent) happens first.
    await timers.advanceTimersByTimeAsync(0);
    const from = microsteps.length;
    await stimulate(step.stimulus);
    if (timed && step.events.length === 0) await timers.advanceTimersByTimeAsync(nominalDuration(step.stimulus));
    for (let round = 0; ; round++) {
      const taken = takenSince(from);
      if (!isPrefix(taken, step.events)) {
        throw new Error(`${label}: the machine took [${taken.join(", ")}], the model predicts [${step.events.join(", ")}]`);
      }
      if (taken.length === step.events.length) break;
      if (round >= (timed ? 200 : 20)) {
        throw new Error(`${label}: the machine took [${taken.join(", ")}] and never ${step.events[taken.length]}`);
      }
      await (timed ? timers.advanceTimersToNextTimerAsync() : timers.advanceTimersByTimeAsync(0));
    }
    // Let what the step set off settle: commands to the socket, emitted events, promises.
    await timers.advanceTimersByTimeAsync(0);
    const taken = takenSince(from);
    if (taken.length !== step.events.length || !isPrefix(taken, step.events)) {
      throw new Error(`${label}: the machine took [${taken.join(", ")}], the model predicts [${step.events.join(", ")}]`);
    }
    const last = microsteps.at(-1);
    const state = last ? stateName(last.value) : "ticket";
    if (state !== step.state) throw new Error(`${label}: the machine is in ${state}, the model predicts ${step.state}`);
    if (current.state !== step.publicState || current.reconnectAttempt !== step.reconnectAttempt) {
      throw new Error(
        `${label}: the socket is ${current.state} (attempt ${current.reconnectAttempt}), ` +
          `the model predicts ${step.publicState} (attempt ${step.reconnectAttempt})`,
      );
    }
  }

  return {
    socketOptions: { ...modelOptions, inspect },
    open(target, path = "/model", key) {
      if (socket) throw new Error("model driver: one socket per driver");
      manager = target;
      const opened = target.open(path, { ...modelOptions, inspect }, key);
      socket = opened;
      return opened;
    },
    get socket() {
      return requireSocket();
    },
    perform,
    async run(path) {
      for (const step of path.steps) await perform(step);
    },
    leftovers: () => ({
      liveSockets: network.liveSockets().length,
      pendingTickets: network.pendingTickets,
      environmentListeners: environment.listeners(),
    }),
    dispose: () => environment.uninstall(),
  };
}
