/** The types of every hook's result. */
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import type { ManagedWebSocket, WebSocketState } from "../../src/index";
import {
  type SockstateProviderProps,
  type SocketStateResult,
  type UseSocketResult,
  useChatSocket,
  useMessages,
  useSocket,
  useSocketState,
  useTranscriptSocket,
} from "../../src/react/index";

describe("hook results", () => {
  it("useSocket, useChatSocket and useTranscriptSocket give socket, state, attempt and error", () => {
    // Called only by the type checker: hooks run inside components.
    expectTypeOf(() => useSocket("/a")).returns.toEqualTypeOf<UseSocketResult>();
    expectTypeOf(() => useChatSocket("a", { enabled: true })).returns.toEqualTypeOf<UseSocketResult>();
    expectTypeOf(() => useTranscriptSocket("w", "t")).returns.toEqualTypeOf<UseSocketResult>();
    expectTypeOf<UseSocketResult>().toEqualTypeOf<{
      socket: ManagedWebSocket | undefined;
      state: WebSocketState;
      reconnectAttempt: number;
      error: Event | Error | undefined;
    }>();
    expectTypeOf(useSocket).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(useSocket).parameter(2).toEqualTypeOf<string | undefined>();
    expectTypeOf(useTranscriptSocket).parameter(1).toEqualTypeOf<string>();
  });

  it("a schema types the socket's onData values and useMessages' result", () => {
    const schema = z.object({ id: z.number(), text: z.string() });
    const chat = () => useChatSocket("a", { schema });
    expectTypeOf(chat).returns.toEqualTypeOf<UseSocketResult<{ id: number; text: string }>>();
    const messages = () => useMessages(chat().socket);
    expectTypeOf(messages).returns.toEqualTypeOf<ReadonlyArray<{ id: number; text: string }>>();
  });

  it("options are SocketOptions plus enabled and handlers", () => {
    expectTypeOf(useChatSocket).toBeCallableWith("a", { enabled: false, reconnectDelay: 10, onMessage: (event: MessageEvent) => void event });
    // @ts-expect-error an unknown option does not compile
    expectTypeOf(useChatSocket).toBeCallableWith("a", { reconectDelay: 10 });
  });

  it("useSocketState gives the state and the attempt", () => {
    expectTypeOf(useSocketState).returns.toEqualTypeOf<SocketStateResult>();
    expectTypeOf<SocketStateResult>().toEqualTypeOf<{ state: WebSocketState; reconnectAttempt: number }>();
    expectTypeOf(useSocketState).parameter(0).toEqualTypeOf<ManagedWebSocket | undefined>();
  });

  it("useMessages gives a read-only array of the socket's onData values", () => {
    const socket = {} as ManagedWebSocket | undefined;
    // Called only by the type checker: hooks run inside components.
    expectTypeOf(() => useMessages(socket)).returns.toEqualTypeOf<readonly unknown[]>();
    expectTypeOf(() => useMessages(socket, { limit: 5 })).returns.toEqualTypeOf<readonly unknown[]>();
    // A socket whose onData is typed (a schema) gives values of that type.
    expectTypeOf(() => useMessages({} as ManagedWebSocket<{ n: number }>)).returns.toEqualTypeOf<ReadonlyArray<{ n: number }>>();
  });

  it("the provider takes a client and children", () => {
    expectTypeOf<SockstateProviderProps>().toHaveProperty("client");
    expectTypeOf<SockstateProviderProps["children"]>().toEqualTypeOf<import("react").ReactNode>();
  });
});
