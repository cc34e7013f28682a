/**
 * `onData`, `schema`, `eventId`, `lastEventId` and `sendJson` over real sockets
 * (docs/protocol.md §3, §4, §7), with zod, valibot and arktype schemas. The type
 * assertions (`expectTypeOf`) are checked by `tsc --noEmit -p .`.
 */
import { type } from "arktype";
import * as v from "valibot";
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { z } from "zod";
import type { StandardSchemaV1 as PublishedStandardSchemaV1 } from "@standard-schema/spec";
import {
  type ChatWebSocket,
  type Emitter,
  type ManagedWebSocket,
  MessageValidationError,
  QueueFullError,
  type StandardSchemaV1,
} from "../../src/index";
import type { ReferenceServer } from "../../src/testing/index";
import { errorsOf, framesOn, record, startRig, stopRigs } from "../support/rig";
import { sleep, until } from "../support/wait";

afterEach(stopRigs);

const CHAT = "/ws/chat/room";

/** The frame shape every schema below describes. */
interface ChatMessage {
  type: "chat";
  id: number;
  text: string;
}

const zodMessage = z.object({ type: z.literal("chat"), id: z.number(), text: z.string() });
const valibotMessage = v.object({ type: v.literal("chat"), id: v.number(), text: v.string() });
const arktypeMessage = type({ type: "'chat'", id: "number", text: "string" });

/** Sends `frames` to the one live connection on `path`, in order. */
function sendFrames(server: ReferenceServer, frames: Array<string | Uint8Array>, path = CHAT): void {
  const connection = server.liveConnections.find((live) => live.path === path);
  if (!connection) throw new Error(`no live connection on ${path}`);
  for (const frame of frames) connection.send(frame);
}

const message = (id: number, text = `message ${id}`): ChatMessage => ({ type: "chat", id, text });
const frame = (id: number): string => JSON.stringify(message(id));

/** A delay that makes later frames validate first: frame 1 waits longest. */
const outOfOrderDelay = (id: number): number => Math.max(0, 60 - id * 12);

/** Each library's schema, an asynchronous one that resolves out of order, and one whose validator throws. */
const libraries: Array<{ name: string; schema: StandardSchemaV1; slow: StandardSchemaV1; throwing: StandardSchemaV1 }> = [
  {
    name: "zod",
    schema: zodMessage,
    slow: zodMessage.refine(async (value) => {
      await sleep(outOfOrderDelay(value.id));
      return true;
    }),
    throwing: zodMessage.refine(() => {
      throw new Error("validator exploded");
    }),
  },
  {
    name: "valibot",
    schema: valibotMessage,
    slow: v.pipeAsync(
      valibotMessage,
      v.checkAsync(async (value) => {
        await sleep(outOfOrderDelay(value.id));
        return true;
      }),
    ),
    throwing: v.pipe(
      valibotMessage,
      v.check(() => {
        throw new Error("validator exploded");
      }),
    ),
  },
  {
    name: "arktype",
    schema: arktypeMessage,
    // arktype validates synchronously: the delay wraps its validator.
    slow: {
      "~standard": {
        version: 1,
        vendor: "arktype-delayed",
        validate: async (value: unknown) => {
          await sleep(outOfOrderDelay((value as { id: number }).id));
          return arktypeMessage["~standard"].validate(value);
        },
      },
    },
    throwing: arktypeMessage.narrow(() => {
      throw new Error("validator exploded");
    }),
  },
];

describe.each(libraries)("onData with a $name schema", ({ schema, slow, throwing }) => {
  it("delivers valid frames, reports invalid and non-JSON ones, and ignores binary frames", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room", { schema });
    const recording = record(socket);
    const values: unknown[] = [];
    socket.onData.subscribe((value) => values.push(value));

    const wrongType = JSON.stringify({ type: "chat", id: 2, text: 42 });
    sendFrames(server, [frame(1), wrongType, "not json {", Buffer.from(frame(3)), frame(4)]);
    await until(() => values.length === 2 && recording.messages.length === 5);

    expect(values).toEqual([message(1), message(4)]);
    const errors = errorsOf(recording);
    expect(errors).toHaveLength(2);
    const [invalid, notJson] = errors as MessageValidationError[];
    expect(invalid).toBeInstanceOf(MessageValidationError);
    expect(invalid!.name).toBe("MessageValidationError");
    expect(invalid!.data).toBe(wrongType);
    expect(invalid!.issues.length).toBeGreaterThan(0);
    const path = Array.from(invalid!.issues[0]!.path ?? [], (segment) => (typeof segment === "object" ? segment.key : segment));
    expect(path).toEqual(["text"]);
    expect(invalid!.message).toMatch(/^frame failed validation: .+ at text/);
    expect(notJson).toBeInstanceOf(MessageValidationError);
    expect(notJson!.data).toBe("not json {");
    expect(notJson!.message).toMatch(/^frame is not JSON: /);
    expect(notJson!.issues).toHaveLength(1);
    // The binary frame reached onMessage only, and the socket never left `open`.
    expect(recording.messages.filter((data) => typeof data !== "string")).toHaveLength(1);
    expect(socket.state).toBe("open");
  });

  it("keeps frame order when asynchronous validation resolves out of order", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room", { schema: slow });
    const values: unknown[] = [];
    const errors: Array<Event | Error> = [];
    const order: string[] = [];
    socket.onData.subscribe((value) => {
      values.push(value);
      order.push(`value ${(value as ChatMessage).id}`);
    });
    socket.onError.subscribe((error) => {
      errors.push(error);
      order.push("error");
    });

    sendFrames(server, [frame(1), frame(2), "{oops", frame(3), frame(4), frame(5)]);
    await until(() => values.length === 5, 3000, "five values");

    expect(values).toEqual([1, 2, 3, 4, 5].map((id) => message(id)));
    // The non-JSON frame is reported in its place, after frame 2 and before frame 3.
    expect(order).toEqual(["value 1", "value 2", "error", "value 3", "value 4", "value 5"]);
    expect(errors[0]).toBeInstanceOf(MessageValidationError);
  });

  it("reports a validator that throws and keeps the socket open", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room", { schema: throwing });
    const values: unknown[] = [];
    const errors: Error[] = [];
    socket.onData.subscribe((value) => values.push(value));
    socket.onError.subscribe((error) => {
      if (error instanceof Error) errors.push(error);
    });

    sendFrames(server, [frame(1)]);
    const [error] = await until(() => errors.length === 1 && errors);
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error!.message).toMatch(/^the schema's validator (threw|rejected): validator exploded$/);
    expect((error as MessageValidationError).data).toBe(frame(1));
    expect((error!.cause as Error).message).toBe("validator exploded");
    expect(values).toEqual([]);

    // Still open and working: an echo comes back.
    expect(socket.state).toBe("open");
    const echoed = new Promise<unknown>((resolve) => socket.onMessage.subscribe((event) => resolve(event.data)));
    socket.send("still here");
    expect(await echoed).toBe("still here");
  });
});

describe("onData without a schema", () => {
  it("delivers every text frame parsed as JSON", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room");
    const values: unknown[] = [];
    socket.onData.subscribe((value) => {
      expectTypeOf(value).toEqualTypeOf<unknown>();
      values.push(value);
    });
    sendFrames(server, ['{"a":[1,2]}', "3", '"text"', "null", Buffer.from("{}")]);
    await until(() => values.length === 4);
    await sleep(20);
    expect(values).toEqual([{ a: [1, 2] }, 3, "text", null]);
  });

  it("parses nothing while nobody listens to onData and no schema or eventId is set", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room");
    const recording = record(socket);
    const parse = vi.spyOn(JSON, "parse");
    try {
      void socket.onData; // reading the emitter is not listening to it
      socket.onData.subscribe(() => undefined)(); // nor is a listener that left
      sendFrames(server, ['{"probe":1}', "not json at all"]);
      await until(() => recording.messages.length === 2);
      await sleep(20);
      expect(parse).not.toHaveBeenCalledWith('{"probe":1}');
      expect(recording.errors).toEqual([]);
    } finally {
      parse.mockRestore();
    }
  });

  it("stops delivering to a listener that unsubscribed, and to every listener after destroy()", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room");
    const first: unknown[] = [];
    const second: unknown[] = [];
    const stopFirst = socket.onData.subscribe((value) => first.push(value));
    socket.onData.subscribe((value) => second.push(value));
    sendFrames(server, ["1"]);
    await until(() => second.length === 1);
    stopFirst();
    sendFrames(server, ["2"]);
    await until(() => second.length === 2);
    expect(first).toEqual([1]);
    expect(second).toEqual([1, 2]);
    socket.destroy();
    await sleep(20);
    expect(second).toEqual([1, 2]);
  });
});

describe("eventId and lastEventId", () => {
  it("keeps the String() of the last defined id, read before listeners run", async () => {
    const { server, client } = await startRig();
    const seen: Array<string | undefined> = [];
    const socket = await client.websocket.connectToChat("room", {
      schema: zodMessage.or(z.object({ type: z.literal("notice") })),
      eventId: (data) => ("id" in data ? data.id : undefined),
    });
    expect(socket.lastEventId).toBeUndefined();
    socket.onData.subscribe(() => seen.push(socket.lastEventId));
    sendFrames(server, [frame(7), frame(8), JSON.stringify({ type: "notice" })]);
    await until(() => seen.length === 3);
    expect(seen).toEqual(["7", "8", "8"]);
    expect(socket.lastEventId).toBe("8");
  });

  it("tracks ids with no onData listener, and only for values that passed the schema", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room", {
      schema: zodMessage,
      eventId: (data) => data.id,
    });
    const recording = record(socket);
    sendFrames(server, [frame(1), JSON.stringify({ type: "chat", id: 99 }), frame(2)]);
    await until(() => recording.messages.length === 3);
    expect(socket.lastEventId).toBe("2");
    expect(errorsOf(recording).map((error) => error.name)).toEqual(["MessageValidationError"]);
  });

  it("works without a schema, and reports an eventId that throws without losing the value", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room", {
      eventId: (data) => {
        if (data === "bad") throw new Error("no id here");
        return (data as { seq: number }).seq;
      },
    });
    const recording = record(socket);
    const values: unknown[] = [];
    socket.onData.subscribe((value) => values.push(value));
    sendFrames(server, ['{"seq":1}', '"bad"', '{"seq":2}']);
    await until(() => values.length === 3);
    expect(socket.lastEventId).toBe("2");
    expect(errorsOf(recording).map((error) => error.message)).toEqual(["sockstate: the eventId option threw: no id here"]);
  });

  it("shows lastEventId to the connection machine through its socket port", async () => {
    const { server, client } = await startRig();
    const ports: Array<{ lastEventId?: string }> = [];
    const socket = await client.websocket.connectToChat("room", {
      eventId: (data) => (data as { id: number }).id,
      inspect: (event) => {
        const context = (event.actorRef.getSnapshot() as { context?: { port?: { lastEventId?: string } } }).context;
        if (context?.port && !ports.includes(context.port)) ports.push(context.port);
      },
    });
    sendFrames(server, [frame(41), frame(42)]);
    await until(() => socket.lastEventId === "42");
    expect(ports).toHaveLength(1);
    expect(ports[0]!.lastEventId).toBe("42");
  });
});

describe("with the reference server's history", () => {
  it("lastEventId follows the server's ids, and a socket opened with since=lastEventId gets what it missed once", async () => {
    const { server, client } = await startRig({ server: { history: 100 } });
    const note = z.object({ id: z.number(), text: z.string() });
    const first = await client.websocket.connectToChat("room", { schema: note, eventId: (data) => data.id });
    const seen: number[] = [];
    first.onData.subscribe((value) => seen.push(value.id));
    for (const text of ["a", "b", "c"]) server.broadcast(CHAT, { text });
    await until(() => first.lastEventId === "3");
    first.close();
    await until(() => server.liveConnections.length === 0);
    for (const text of ["d", "e"]) expect(server.broadcast(CHAT, { text })).toBe(0);

    // open(), not connect(): the replay arrives at once, before a promise could resolve.
    const second = client.websocket.open(CHAT, { schema: note, eventId: (data) => data.id, params: { since: first.lastEventId! } });
    const texts: string[] = [];
    second.onData.subscribe((value) => texts.push(value.text));
    await second.ready;
    server.broadcast(CHAT, { text: "f" });
    await until(() => second.lastEventId === "6");
    expect(seen).toEqual([1, 2, 3]);
    expect(texts).toEqual(["d", "e", "f"]);
  });
});

describe("resuming while frames are still being validated", () => {
  it("waits for them before the params function reads lastEventId: a replayed frame is not delivered twice", async () => {
    const { server, client } = await startRig({ server: { history: 100 } });
    // An asynchronous schema that takes a while: frame 2 is still being validated when the link drops.
    const slow: StandardSchemaV1<unknown, { id: number }> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) => new Promise((resolve) => setTimeout(() => resolve({ value: value as { id: number } }), 150)),
      },
    };
    const asked: Array<string | undefined> = [];
    const socket = await client.websocket.connectToChat("room", {
      schema: slow,
      eventId: (data) => data.id,
      params: ({ lastEventId }) => {
        asked.push(lastEventId);
        return { since: lastEventId };
      },
    });
    const ids: number[] = [];
    socket.onData.subscribe((value) => ids.push(value.id));
    server.broadcast(CHAT, { text: "one" });
    await until(() => ids.length === 1);
    server.broadcast(CHAT, { text: "two" });
    await sleep(10);
    server.dropAll();
    await until(() => socket.isOpen && server.connections.length === 2);
    server.broadcast(CHAT, { text: "three" });
    await until(() => ids.length >= 3);
    await sleep(200); // a duplicate would be validated and delivered by now
    expect(ids).toEqual([1, 2, 3]);
    expect(asked).toEqual([undefined, "2"]);
  });
});

describe("sendJson", () => {
  it("sends JSON.stringify(value) now when open and queued in order before open", async () => {
    const { server, client } = await startRig();
    const socket = client.websocket.open(CHAT);
    socket.sendJson({ queued: 1 });
    socket.send("plain");
    await socket.ready;
    socket.sendJson([1, "two", null]);
    await until(() => framesOn(server, CHAT).length === 3);
    expect(framesOn(server, CHAT)).toEqual(['{"queued":1}', "plain", '[1,"two",null]']);
  });

  it("follows the queue rules of send()", async () => {
    const { client } = await startRig();
    const socket = client.websocket.open(CHAT, { maxQueuedMessages: 1 });
    socket.sendJson({ n: 1 });
    expect(() => socket.sendJson({ n: 2 })).toThrow(QueueFullError);
    socket.close();
    expect(() => socket.sendJson({ n: 3 })).toThrow(/closing|closed/);
  });

  it("throws a TypeError for values JSON cannot represent", async () => {
    const { client } = await startRig();
    const socket = await client.websocket.connectToChat("room");
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => socket.sendJson(undefined)).toThrow(new TypeError("sockstate: sendJson() cannot serialize undefined: JSON has no representation for it"));
    expect(() => socket.sendJson(() => 1)).toThrow(/sendJson\(\) cannot serialize a function/);
    expect(() => socket.sendJson(Symbol("s"))).toThrow(/sendJson\(\) cannot serialize a symbol/);
    expect(() => socket.sendJson(10n)).toThrow(/sendJson\(\) cannot serialize the value: .*BigInt/);
    expect(() => socket.sendJson(cycle)).toThrow(/sendJson\(\) cannot serialize the value: .*circular/i);
    for (const bad of [undefined, 10n, cycle]) expect(() => socket.sendJson(bad)).toThrow(TypeError);
    expect(socket.queuedMessages).toBe(0);
  });
});

describe("options", () => {
  it("rejects a schema that is not a Standard Schema and an eventId that is not a function, naming the option", async () => {
    const { client } = await startRig();
    const manager = client.websocket;
    expect(() => manager.open(CHAT, { schema: {} as never })).toThrow(/^sockstate: schema must be a Standard Schema/);
    expect(() => manager.open(CHAT, { schema: { "~standard": { validate: "no" } } as never })).toThrow(TypeError);
    expect(() => manager.open(CHAT, { schema: (() => true) as never })).toThrow(/schema .* got a function/);
    expect(() => manager.open(CHAT, { eventId: "id" as never })).toThrow(/^sockstate: eventId must be a function, got a string$/);
    expect(() => manager.open(CHAT, { eventId: null as never })).toThrow(TypeError);
    // A schema may be a function with a `~standard` property, as arktype's are.
    expect(() => manager.open(CHAT, { schema: arktypeMessage })).not.toThrow();
  });
});

describe("types", () => {
  it("our Standard Schema interface accepts the published one", () => {
    expectTypeOf<PublishedStandardSchemaV1<unknown, ChatMessage>>().toExtend<StandardSchemaV1<unknown, ChatMessage>>();
    expectTypeOf<PublishedStandardSchemaV1.Issue>().toExtend<StandardSchemaV1.Issue>();
  });

  it("types onData from a zod schema", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("room", { schema: zodMessage, eventId: (data) => data.id });
    expectTypeOf(socket).toEqualTypeOf<ManagedWebSocket<ChatMessage>>();
    expectTypeOf(socket.onData).toEqualTypeOf<Emitter<ChatMessage>>();
    const texts: string[] = [];
    socket.onData.subscribe((value) => {
      expectTypeOf(value).toEqualTypeOf<ChatMessage>();
      texts.push(value.text);
    });
    sendFrames(server, [frame(1)]);
    await until(() => texts.length === 1);
    expect(texts).toEqual(["message 1"]);
  });

  it("types onData from a valibot schema", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connect(CHAT, { schema: valibotMessage });
    expectTypeOf(socket.onData).toEqualTypeOf<Emitter<ChatMessage>>();
    const ids: number[] = [];
    socket.onData.subscribe((value) => {
      expectTypeOf(value).toEqualTypeOf<ChatMessage>();
      ids.push(value.id);
    });
    sendFrames(server, [frame(5)]);
    await until(() => ids.length === 1);
    expect(ids).toEqual([5]);
  });

  it("types onData from an arktype schema", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToTranscript("w", "t", { schema: arktypeMessage });
    expectTypeOf(socket.onData).toEqualTypeOf<Emitter<ChatMessage>>();
    const kinds: Array<"chat"> = [];
    socket.onData.subscribe((value) => {
      expectTypeOf(value).toEqualTypeOf<ChatMessage>();
      kinds.push(value.type);
    });
    sendFrames(server, [frame(9)], "/ws/workspaces/w/transcripts/t");
    await until(() => kinds.length === 1);
    expect(kinds).toEqual(["chat"]);
  });

  it("types open() the same way, and leaves onData unknown without a schema", async () => {
    const { client } = await startRig();
    const typed = client.websocket.open(CHAT, { schema: zodMessage }, "typed");
    const untyped = client.websocket.open("/ws/other");
    expectTypeOf(typed).toEqualTypeOf<ChatWebSocket<ChatMessage>>();
    expectTypeOf(await typed.ready).toEqualTypeOf<ManagedWebSocket<ChatMessage>>();
    expectTypeOf(untyped).toEqualTypeOf<ManagedWebSocket<unknown>>();
    expectTypeOf(untyped.onData).toEqualTypeOf<Emitter<unknown>>();
    expectTypeOf(untyped.lastEventId).toEqualTypeOf<string | undefined>();
    expectTypeOf(await client.websocket.connectToChat("x", {})).toEqualTypeOf<ManagedWebSocket<unknown>>();
    await untyped.ready;
    expect([typed.state, untyped.state]).toEqual(["open", "open"]);
  });
});
