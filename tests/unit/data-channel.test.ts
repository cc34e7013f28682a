/**
 * The `onData` pipeline on its own (src/data-channel.ts): frame order under validators
 * that settle in any order, and its pure helpers. Frames are fed through an emitter, as
 * the socket's port feeds them.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { MessageValidationError, type StandardSchemaV1 } from "../../src/index";
import { DataChannel, formatPath, validateDataOptions } from "../../src/data-channel";
import { EventEmitter } from "../../src/emitter";
import { encodeBroadcast, parseSince } from "../../src/testing/reference-server.history";

interface Deferred {
  resolve(result: StandardSchemaV1.Result<unknown>): void;
  reject(error: unknown): void;
}

/** A schema whose every validation waits until the test settles it. */
function manualSchema(): { schema: StandardSchemaV1; pending: Deferred[] } {
  const pending: Deferred[] = [];
  const schema: StandardSchemaV1 = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: () => new Promise((resolve, reject) => pending.push({ resolve, reject })),
    },
  };
  return { schema, pending };
}

/** Ms an asynchronous validation may take in these tests. */
const TIMEOUT = 1000;

function channel(options: Omit<ConstructorParameters<typeof DataChannel>[2], "connectTimeout">) {
  const messages = new EventEmitter<MessageEvent>();
  const errors = new EventEmitter<Event | Error>();
  const data = new DataChannel(messages, (error) => errors.emit(error), { connectTimeout: TIMEOUT, ...options });
  const log: string[] = [];
  data.subscribe((value) => log.push(`value ${JSON.stringify(value)}`));
  errors.subscribe((error) => log.push(`error ${(error as Error).message}`));
  const frame = (text: unknown) => messages.emit({ data: text } as MessageEvent);
  return { data, log, frame, messages };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("DataChannel", () => {
  it("delivers outcomes in frame order whatever order the validations settle in", async () => {
    const { schema, pending } = manualSchema();
    const { log, frame } = channel({ schema });
    frame("1");
    frame("2");
    frame("3");
    frame("{bad");
    frame("4");
    expect(pending).toHaveLength(4);
    pending[3]!.resolve({ value: 4 });
    pending[1]!.resolve({ issues: [{ message: "two is wrong", path: [{ key: "n" }] }] });
    pending[2]!.reject(new Error("three failed"));
    await flush();
    expect(log).toEqual([]);
    pending[0]!.resolve({ value: 1 });
    await flush();
    expect(log).toEqual([
      "value 1",
      "error frame failed validation: two is wrong at n",
      "error the schema's validator rejected: three failed",
      expect.stringMatching(/^error frame is not JSON: /),
      "value 4",
    ]);
  });

  it("reports a validator that returns no result object", () => {
    const schema: StandardSchemaV1 = { "~standard": { version: 1, vendor: "broken", validate: () => undefined as never } };
    const { log, frame } = channel({ schema });
    frame("1");
    expect(log).toEqual(["error the schema's validator returned: no result object (got undefined)"]);
  });

  it("summarizes several issues by the first one", () => {
    const schema: StandardSchemaV1 = {
      "~standard": { version: 1, vendor: "test", validate: () => ({ issues: [{ message: "a" }, { message: "b" }, { message: "c" }] }) },
    };
    const errors: Error[] = [];
    const messages = new EventEmitter<MessageEvent>();
    new DataChannel(messages, (error) => errors.push(error), { schema, connectTimeout: TIMEOUT });
    messages.emit({ data: "{}" } as MessageEvent);
    expect(errors[0]).toBeInstanceOf(MessageValidationError);
    expect(errors[0]!.message).toBe("frame failed validation: a (and 2 more issues)");
    expect((errors[0] as MessageValidationError).issues).toHaveLength(3);
  });

  it("listens to frames only while it has a listener, unless a schema or eventId is set", () => {
    const messages = new EventEmitter<MessageEvent>();
    const errors = new EventEmitter<Event | Error>();
    const plain = new DataChannel(messages, (error) => errors.emit(error), { connectTimeout: TIMEOUT });
    expect(messages.size).toBe(0);
    const stop = plain.subscribe(() => undefined);
    expect(messages.size).toBe(1);
    stop();
    expect(messages.size).toBe(0);
    const pinned = new DataChannel(messages, (error) => errors.emit(error), { eventId: () => undefined, connectTimeout: TIMEOUT });
    expect(messages.size).toBe(1);
    pinned.subscribe(() => undefined)();
    expect(messages.size).toBe(1);
    pinned.clear();
    expect(messages.size).toBe(0);
  });
});

describe("DataChannel with a validator that is slow or never settles", () => {
  afterEach(() => vi.useRealTimers());

  it("reports a validation that does not settle within connectTimeout and lets later frames through", async () => {
    vi.useFakeTimers();
    const { schema, pending } = manualSchema();
    const { log, frame } = channel({ schema, eventId: (value) => value as number });
    frame("1");
    frame("2");
    pending[1]!.resolve({ value: 2 });
    await vi.advanceTimersByTimeAsync(TIMEOUT - 1);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual([`error the schema's validator did not settle: no result within ${TIMEOUT} ms (connectTimeout)`, "value 2"]);
    pending[0]!.resolve({ value: 1 }); // too late: changes nothing
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("settled() waits for frames still being validated, so lastEventId is read after them", async () => {
    const { schema, pending } = manualSchema();
    const { data, frame } = channel({ schema, eventId: (value) => value as number });
    frame("1");
    frame("2");
    pending[0]!.resolve({ value: 1 });
    await flush();
    expect(data.lastEventId).toBe("1");
    let settled = false;
    const waiting = data.settled().then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    pending[1]!.resolve({ value: 2 });
    await waiting;
    expect(data.lastEventId).toBe("2");
    await expect(data.settled()).resolves.toBeUndefined(); // nothing pending: at once
  });

  it("clear() drops frames still being validated: a late result neither delivers nor moves lastEventId", async () => {
    const { schema, pending } = manualSchema();
    const { data, log, frame } = channel({ schema, eventId: (value) => value as number });
    frame("1");
    const waiting = data.settled();
    data.clear();
    await waiting; // released by clear()
    pending[0]!.resolve({ value: 1 });
    await flush();
    expect(log).toEqual([]);
    expect(data.lastEventId).toBeUndefined();
  });
});

describe("formatPath", () => {
  it("spells an issue path as code would", () => {
    expect(formatPath(undefined)).toBe("");
    expect(formatPath(["messages", 0, "text"])).toBe("messages[0].text");
    expect(formatPath([{ key: "a" }, { key: "odd key" }, { key: 2 }])).toBe('a["odd key"][2]');
    expect(formatPath([Symbol("s")])).toBe("[Symbol(s)]");
  });
});

describe("validateDataOptions", () => {
  it("accepts Standard Schema objects and functions with ~standard, and function eventIds", () => {
    const validate = () => ({ value: 1 });
    expect(() => validateDataOptions({ schema: { "~standard": { validate } }, eventId: () => 1 })).not.toThrow();
    expect(() => validateDataOptions({ schema: Object.assign(() => true, { "~standard": { validate } }) })).not.toThrow();
    expect(() => validateDataOptions({ schema: null })).toThrow(/schema must be a Standard Schema .* got null/);
    expect(() => validateDataOptions({ eventId: 1 })).toThrow(/eventId must be a function, got a number/);
  });
});

describe("reference server frames", () => {
  it("encodes broadcast values and reads since", () => {
    expect(encodeBroadcast({ a: 1 }, 7)).toBe('{"a":1,"id":7}');
    expect(encodeBroadcast({ a: 1 })).toBe('{"a":1}');
    expect(encodeBroadcast(new Map(), 7)).toBe("{}");
    expect(encodeBroadcast([1], 7)).toBe("[1]");
    expect(encodeBroadcast("text", 7)).toBe("text");
    expect(parseSince("12")).toBe(12);
    expect(parseSince("0")).toBe(0);
    for (const bad of [undefined, "", "-1", "1.5", "1e3", "x"]) expect(parseSince(bad)).toBeUndefined();
  });
});
