/** A socket's public state as React state, through `useSyncExternalStore` (docs/protocol.md §9). */
import { useCallback, useSyncExternalStore } from "react";
import type { WebSocketState } from "../../machines/connection.types";
import type { ManagedWebSocket } from "../managed-socket";

/** What {@link useSocketState} returns. */
export interface SocketStateResult {
  /** The socket's state; `"connecting"` while there is no socket yet (and on the server). */
  state: WebSocketState;
  /** The current reconnect attempt, `0` when not reconnecting. */
  reconnectAttempt: number;
}

/** A `subscribe` for `useSyncExternalStore` when there is nothing to hear. */
export const noSubscription = (): (() => void) => () => {};

/** `useSocketState` with the state to show while there is no socket (`closed` when disabled). */
export function useStateOf(socket: ManagedWebSocket | undefined, absent: WebSocketState): SocketStateResult {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (socket === undefined) return noSubscription();
      const offState = socket.onStateChange.subscribe(onChange);
      const offReconnect = socket.onReconnecting.subscribe(onChange);
      return () => {
        offState();
        offReconnect();
      };
    },
    [socket],
  );
  const state = useSyncExternalStore(
    subscribe,
    () => socket?.state ?? absent,
    () => absent,
  );
  const reconnectAttempt = useSyncExternalStore(
    subscribe,
    () => socket?.reconnectAttempt ?? 0,
    () => 0,
  );
  return { state, reconnectAttempt };
}

/**
 * The state and reconnect attempt of `socket`, re-rendering on every change; no render
 * shows a state the socket no longer has. `undefined` (no socket yet) reads `"connecting"`.
 */
export function useSocketState(socket: ManagedWebSocket | undefined): SocketStateResult {
  return useStateOf(socket, "connecting");
}
