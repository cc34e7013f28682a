/**
 * `onData`: a socket's text frames parsed as JSON, validated by its `schema` and delivered
 * in frame order (docs/protocol.md §4). The pipeline listens to the socket's data frames
 * only once somebody subscribes to `onData` or the socket has a `schema` or an `eventId`:
 * until then a frame costs what it cost before, and nothing is parsed.
 */
import { MessageValidationError } from "../machines/connection.errors";
import { messageOf } from "../machines/connection.utils";
import type { StandardSchemaV1 } from "../machines/standard-schema";
import { type Emitter, EventEmitter, type Listener } from "./emitter";
import type { SocketOptions } from "./options";

/**
 * Picks the id of an `onData` value, e.g. `(message) => message.id`. The last defined
 * result, `String()`ed, becomes the socket's `lastEventId`, which a `params` function can
 * send on the next attempt so the server resumes after it (docs/protocol.md §6).
 * `undefined` (or `null`) leaves `lastEventId` as it was.
 */
export type EventIdSelector<T = unknown> = (data: T, event: MessageEvent) => string | number | undefined;

/** The socket options the pipeline reads. */
export interface DataOptions {
  /** Validates every parsed text frame; none delivers the parsed JSON as it is. */
  schema?: StandardSchemaV1 | undefined;
  /** Called for every delivered value; see {@link EventIdSelector}. */
  eventId?: EventIdSelector<any> | undefined;
  /**
   * Ms an asynchronous validation may take before its frame is reported as invalid and
   * the frames behind it move on (the socket's `connectTimeout`).
   */
  connectTimeout: number;
}

/**
 * Socket options with a `schema`: the socket's `onData` values have the schema's output
 * type, and so does the first argument of `eventId`.
 */
export type SocketOptionsWithSchema<S extends StandardSchemaV1> = Omit<SocketOptions, "schema" | "eventId"> & {
  /** A Standard Schema v1 object (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2, …) that every parsed text frame must pass. */
  schema: S;
  /** Picks the id of every `onData` value for `lastEventId`; see {@link EventIdSelector}. */
  eventId?: EventIdSelector<StandardSchemaV1.InferOutput<S>> | undefined;
};

/** `onData`'s value type for options `O`: the schema's output, or `unknown` without a schema. */
export type DataOf<O> = O extends {
  /** The schema that validates every parsed text frame. */
  schema: infer S extends StandardSchemaV1;
}
  ? StandardSchemaV1.InferOutput<S>
  : unknown;

/**
 * Checks the `schema` and `eventId` options, throwing a `TypeError` that names the option.
 * A schema may be a function with a `~standard` property (arktype's types are).
 */
export function validateDataOptions(options: Readonly<Record<string, unknown>>): void {
  const { schema, eventId } = options;
  if (schema !== undefined) {
    const standard = isObjectLike(schema) ? (schema as { "~standard"?: unknown })["~standard"] : undefined;
    if (!isObjectLike(standard) || typeof (standard as { validate?: unknown }).validate !== "function") {
      throw new TypeError(
        `sockstate: schema must be a Standard Schema (an object whose "~standard" property has a validate function), got ${kindOf(schema)}`,
      );
    }
  }
  if (eventId !== undefined && typeof eventId !== "function") {
    throw new TypeError(`sockstate: eventId must be a function, got ${kindOf(eventId)}`);
  }
}

/**
 * The text `sendJson(value)` sends. Throws a `TypeError` for a value `JSON.stringify`
 * cannot serialize: `undefined`, a function or a symbol (it returns nothing for them), a
 * BigInt, a cycle.
 */
export function toJsonFrame(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`sockstate: sendJson() cannot serialize the value: ${messageOf(error)}`, { cause: error });
  }
  if (text === undefined) {
    throw new TypeError(`sockstate: sendJson() cannot serialize ${kindOf(value)}: JSON has no representation for it`);
  }
  return text;
}

/** A frame whose outcome is known (`done`) or still being validated, kept in frame order. */
interface Slot {
  done: boolean;
  value: unknown;
  event: MessageEvent;
  error: MessageValidationError | undefined;
  /** The deadline of an asynchronous validation. */
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * The `onData` emitter of one socket. Created on first use; listens to the socket's
 * frames while anybody listens to it, and for good when a `schema` or `eventId` is set
 * (invalid frames must be reported, and `lastEventId` kept, with or without listeners).
 */
export class DataChannel implements Emitter<unknown> {
  readonly #values = new EventEmitter<unknown>();
  readonly #messages: Emitter<MessageEvent>;
  readonly #reportError: (error: Error) => void;
  readonly #schema: StandardSchemaV1 | undefined;
  readonly #eventId: EventIdSelector<any> | undefined;
  /** Frames from the first one still being validated on, oldest first; empty while all is synchronous. */
  #pending: Slot[] = [];
  /** Resolved once `#pending` is empty: every frame received so far has been delivered or refused. */
  #drained: Array<() => void> = [];
  readonly #validationTimeout: number;
  #stopListening: (() => void) | undefined = undefined;
  #lastEventId: string | undefined = undefined;

  /** `reportError` is the socket's way to `onError` (and to `debug`). */
  constructor(messages: Emitter<MessageEvent>, reportError: (error: Error) => void, options: DataOptions) {
    this.#messages = messages;
    this.#reportError = reportError;
    this.#schema = options.schema;
    this.#eventId = options.eventId;
    this.#validationTimeout = options.connectTimeout;
    if (this.#isPinned) this.#listen();
  }

  /**
   * Resolves once every frame received so far has been delivered or reported, frames still
   * being validated included: a reconnect reads `lastEventId` only then, or it would ask
   * the server again for a frame that is about to be delivered.
   */
  settled(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** `String()` of the last defined result of `eventId`. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Calls `listener` for every value from now on (the first listener starts the parsing); returns the function that stops it. */
  subscribe(listener: Listener<unknown>): () => void {
    const unsubscribe = this.#values.subscribe(listener);
    this.#listen();
    return () => {
      unsubscribe();
      if (this.#values.size === 0 && !this.#isPinned) this.#stop();
    };
  }

  /**
   * Removes every listener and stops listening to frames (the socket is being destroyed).
   * Frames still being validated are dropped: their late results change nothing.
   */
  clear(): void {
    this.#values.clear();
    this.#stop();
    for (const slot of this.#pending) clearTimeout(slot.timer);
    this.#pending = [];
    this.#drain();
  }

  get #isPinned(): boolean {
    return this.#schema !== undefined || this.#eventId !== undefined;
  }

  #listen(): void {
    this.#stopListening ??= this.#messages.subscribe(this.#onFrame);
  }

  #stop(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
  }

  readonly #onFrame = (event: MessageEvent): void => {
    const text: unknown = event.data;
    if (typeof text !== "string") return; // binary frames are not data for onData
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const message = messageOf(error);
      this.#known(undefined, new MessageValidationError(`frame is not JSON: ${message}`, [{ message: `not JSON: ${message}` }], text, { cause: error }), event);
      return;
    }
    const schema = this.#schema;
    if (schema === undefined) {
      this.#known(parsed, undefined, event);
      return;
    }
    let result: StandardSchemaV1.Result<unknown> | PromiseLike<StandardSchemaV1.Result<unknown>>;
    try {
      result = schema["~standard"].validate(parsed);
    } catch (error) {
      this.#known(undefined, validatorFailed("threw", error, text), event);
      return;
    }
    if (!isPromiseLike(result)) {
      const failure = failureOf(result, text);
      this.#known(failure ? undefined : (result as StandardSchemaV1.SuccessResult<unknown>).value, failure, event);
      return;
    }
    // Asynchronous: this frame holds its place in line, and the frames behind it wait, but not forever.
    const slot: Slot = { done: false, value: undefined, event, error: undefined };
    this.#pending.push(slot);
    const timeout = this.#validationTimeout;
    slot.timer = setTimeout(() => this.#fail(slot, "did not settle", new Error(`no result within ${timeout} ms (connectTimeout)`), text), timeout);
    Promise.resolve(result).then(
      (settled) => this.#settle(slot, settled, text),
      (error: unknown) => this.#fail(slot, "rejected", error, text),
    );
  };

  /**
   * An outcome known at once: delivered (or refused) now, unless earlier frames are still
   * being validated; then it waits its turn behind them. No allocation on the usual path.
   */
  #known(value: unknown, error: MessageValidationError | undefined, event: MessageEvent): void {
    if (this.#pending.length > 0) this.#pending.push({ done: true, value, event, error });
    else if (error) this.#reportError(error);
    else this.#deliver(value, event);
  }

  /** Records a validation result, unless the frame timed out or the socket was destroyed. */
  #settle(slot: Slot, result: unknown, text: string): void {
    if (slot.done) return;
    const failure = failureOf(result, text);
    if (failure) slot.error = failure;
    else slot.value = (result as StandardSchemaV1.SuccessResult<unknown>).value;
    this.#complete(slot);
  }

  #fail(slot: Slot, how: ValidatorFailure, error: unknown, text: string): void {
    if (slot.done) return;
    slot.error = validatorFailed(how, error, text);
    this.#complete(slot);
  }

  /** Marks an outcome known and delivers every leading frame that is done. */
  #complete(slot: Slot): void {
    slot.done = true;
    clearTimeout(slot.timer);
    const pending = this.#pending;
    while (pending.length > 0 && pending[0]!.done) {
      const next = pending.shift()!;
      if (next.error) this.#reportError(next.error);
      else this.#deliver(next.value, next.event);
    }
    if (pending.length === 0) this.#drain();
  }

  #drain(): void {
    if (this.#drained.length === 0) return;
    const waiting = this.#drained;
    this.#drained = [];
    for (const resolve of waiting) resolve();
  }

  #deliver(value: unknown, event: MessageEvent): void {
    const eventId = this.#eventId;
    if (eventId !== undefined) {
      // Before the listeners, so that they read the id of the value they are given.
      try {
        const id = eventId(value, event);
        if (id !== undefined && id !== null) this.#lastEventId = String(id);
      } catch (error) {
        this.#reportError(new Error(`sockstate: the eventId option threw: ${messageOf(error)}`, { cause: error }));
      }
    }
    this.#values.emit(value);
  }
}

/** The error for a failed validation result, or `undefined` for a success. */
function failureOf(result: unknown, text: string): MessageValidationError | undefined {
  if (!isObjectLike(result)) {
    return validatorFailed("returned", new TypeError(`no result object (got ${kindOf(result)})`), text);
  }
  const issues = (result as StandardSchemaV1.Result<unknown>).issues;
  if (!issues) return undefined;
  return new MessageValidationError(`frame failed validation: ${summarize(issues)}`, issues, text);
}

type ValidatorFailure = "threw" | "rejected" | "returned" | "did not settle";

function validatorFailed(how: ValidatorFailure, error: unknown, text: string): MessageValidationError {
  const message = `the schema's validator ${how}: ${messageOf(error)}`;
  return new MessageValidationError(message, [{ message }], text, { cause: error });
}

/** The first issue's message and where it is, and how many more there are. */
function summarize(issues: ReadonlyArray<StandardSchemaV1.Issue>): string {
  const first = issues[0];
  if (first === undefined) return "the schema reported no issue";
  const path = formatPath(first.path);
  const more = issues.length - 1;
  return `${first.message}${path ? ` at ${path}` : ""}${more > 0 ? ` (and ${more} more issue${more === 1 ? "" : "s"})` : ""}`;
}

/** An issue path as code would spell it: `messages[0].text`, `["odd key"]`. */
export function formatPath(path: StandardSchemaV1.Issue["path"]): string {
  if (!path || path.length === 0) return "";
  let out = "";
  for (const segment of path) {
    const key = isObjectLike(segment) ? (segment as StandardSchemaV1.PathSegment).key : (segment as PropertyKey);
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "symbol") out += `[${String(key)}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function isObjectLike(value: unknown): boolean {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return isObjectLike(value) && typeof (value as { then?: unknown }).then === "function";
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value === "undefined" ? "undefined" : `a ${typeof value}`;
}
