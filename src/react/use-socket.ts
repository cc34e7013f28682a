/** `useSocket`, `useChatSocket`, `useTranscriptSocket`: a shared socket per key (docs/protocol.md §9). */
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { WebSocketState } from "../../machines/connection.types";
import type { ManagedWebSocket } from "../managed-socket";
import type { WebSocketManager } from "../manager";
import type { DataOf } from "../data-channel";
import type { SocketOptions } from "../options";
import { useSockstateClient } from "./provider";
import { acquireSocket, type Lease } from "./registry";
import { noSubscription, useStateOf } from "./use-socket-state";

/**
 * Listeners of this component. They may be new functions on every render: the latest
 * ones are called, and changing them never reconnects.
 */
export interface SocketHandlers {
  /** A data frame arrived (`socket.onMessage`). */
  onMessage?: (event: MessageEvent) => void;
  /** A parsed value arrived (`socket.onData`). */
  onData?: (value: unknown) => void;
  /** The socket reported an error (`socket.onError`). */
  onError?: (error: Event | Error) => void;
}

/** `SocketOptions`, `enabled` and this component's handlers. */
export interface UseSocketOptions extends SocketOptions, SocketHandlers {
  /**
   * `false`: no socket (this component releases the one it used), state `"closed"`.
   * @default true
   */
  enabled?: boolean;
}

/** What {@link useSocket}, {@link useChatSocket} and {@link useTranscriptSocket} return. */
export interface UseSocketResult<T = unknown> {
  /**
   * The shared socket of the key; `undefined` on the server, in the first render and while
   * disabled. Its `onData` values are typed by the `schema` option, `unknown` without one.
   */
  socket: ManagedWebSocket<T> | undefined;
  /** The socket's state: `"connecting"` until there is a socket, `"closed"` while disabled. */
  state: WebSocketState;
  /** The current reconnect attempt, `0` when not reconnecting. */
  reconnectAttempt: number;
  /** The last error the socket reported, cleared when it is open again. */
  error: Event | Error | undefined;
}

/** Options that belong to the hook, not to the socket. */
const HOOK_OPTIONS: ReadonlySet<string> = new Set<keyof UseSocketOptions>(["enabled", "onMessage", "onData", "onError"]);

type LatestOptions = { readonly current: UseSocketOptions | undefined };

/**
 * The socket's share of `options`. A function option (`debug`, …) becomes a forwarder to
 * the latest render's function, so an inline callback keeps working without a reconnect.
 */
function socketOptionsOf(latest: LatestOptions): SocketOptions {
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(latest.current ?? {})) {
    if (HOOK_OPTIONS.has(name)) continue;
    // A schema may be callable (arktype's are): it is data, not a handler to forward.
    options[name] =
      typeof value === "function" && name !== "schema"
        ? (...args: unknown[]) => {
            const current = (latest.current as Record<string, unknown> | undefined)?.[name];
            return (typeof current === "function" ? current : value)(...args);
          }
        : value;
  }
  return options as SocketOptions;
}

/** The lease this component holds, and for which manager and key it was taken. */
interface Held {
  manager: WebSocketManager;
  key: string;
  lease: Lease;
}

/**
 * The managed socket on `path` under `key` (default `path`), shared with every component
 * of the same client that uses the same key: the first one opens it, with its options; it
 * closes a macrotask after its last user unmounts or disables it. A change of `key` opens
 * another socket and releases this one; new `options` objects alone never reconnect.
 */
export function useSocket<O extends UseSocketOptions>(path: string, options?: O, key: string = path): UseSocketResult<DataOf<O>> {
  const { websocket: manager } = useSockstateClient();
  const enabled = options?.enabled ?? true;
  const latest = useRef(options);
  // Declared before the effects below, so they run with this render's options.
  useEffect(() => {
    latest.current = options;
  });

  const [held, setHeld] = useState<Held | undefined>(undefined);
  useEffect(() => {
    if (!enabled) return undefined;
    const lease = acquireSocket(manager, path, socketOptionsOf(latest), key);
    setHeld({ manager, key, lease });
    return () => {
      lease.release();
      setHeld(undefined);
    };
    // The key decides which socket this is; path and options only matter to whoever opens it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [manager, key, enabled]);

  // Until the effect above has run for a new key, the lease held is the old key's.
  const lease = enabled && held !== undefined && held.manager === manager && held.key === key ? held.lease : undefined;
  const socket = lease?.socket;
  const { state, reconnectAttempt } = useStateOf(socket, enabled ? "connecting" : "closed");
  const errors = lease?.errors;
  const error = useSyncExternalStore(
    errors?.subscribe ?? noSubscription,
    () => errors?.getSnapshot(),
    () => undefined,
  );

  const onMessage = typeof options?.onMessage === "function";
  const onData = typeof options?.onData === "function";
  const onError = typeof options?.onError === "function";
  useEffect(() => {
    if (socket === undefined) return undefined;
    const unsubscribers: Array<() => void> = [];
    if (onMessage) unsubscribers.push(socket.onMessage.subscribe((event) => latest.current?.onMessage?.(event)));
    if (onData) unsubscribers.push(socket.onData.subscribe((value) => latest.current?.onData?.(value)));
    if (onError) unsubscribers.push(socket.onError.subscribe((value) => latest.current?.onError?.(value)));
    return () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
  }, [socket, onMessage, onData, onError]);

  // The schema in the options of this key's socket types its values.
  return { socket: socket as ManagedWebSocket<DataOf<O>> | undefined, state, reconnectAttempt, error };
}

function requireId(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`sockstate/react: ${name} must be a non-empty string, got ${value === "" ? "an empty string" : typeof value}`);
  }
  return value;
}

/** The socket of chat `chatId`: `/ws/chat/{chatId}` under the key `chat:{chatId}`, as `connectToChat` opens it. */
export function useChatSocket<O extends UseSocketOptions>(chatId: string, options?: O): UseSocketResult<DataOf<O>> {
  const id = requireId("chatId", chatId);
  return useSocket(`/ws/chat/${encodeURIComponent(id)}`, options, `chat:${id}`);
}

/**
 * The socket of a transcript: `/ws/workspaces/{workspaceId}/transcripts/{transcriptId}`
 * under `transcript:{workspaceId}/{transcriptId}`, as `connectToTranscript` opens it.
 */
export function useTranscriptSocket<O extends UseSocketOptions>(
  workspaceId: string,
  transcriptId: string,
  options?: O,
): UseSocketResult<DataOf<O>> {
  const workspace = requireId("workspaceId", workspaceId);
  const transcript = requireId("transcriptId", transcriptId);
  return useSocket(
    `/ws/workspaces/${encodeURIComponent(workspace)}/transcripts/${encodeURIComponent(transcript)}`,
    options,
    `transcript:${workspace}/${transcript}`,
  );
}
