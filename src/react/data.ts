/** Where the hooks read parsed values from: `socket.onData` (docs/protocol.md §4). */
import type { Emitter } from "../emitter";
import type { ManagedWebSocket } from "../managed-socket";

/** The type of a socket's `onData` values: the schema's output, else `unknown`. */
export type DataOf<Socket> = Socket extends { readonly onData: Emitter<infer T> } ? T : unknown;

/**
 * Calls `listener` with every `onData` value of `socket`; returns the unsubscribe function.
 * A socket without an `onData` emitter gets the same values from `onMessage`: text frames
 * parsed as JSON, binary and non-JSON frames skipped (such a socket reports nothing for them).
 */
export function subscribeData<Socket extends ManagedWebSocket>(socket: Socket, listener: (value: DataOf<Socket>) => void): () => void {
  const onData = (socket as { onData?: Emitter<DataOf<Socket>> }).onData;
  if (onData !== undefined) return onData.subscribe(listener);
  return socket.onMessage.subscribe((event) => {
    if (typeof event.data !== "string") return;
    let value: DataOf<Socket>;
    try {
      value = JSON.parse(event.data) as DataOf<Socket>;
    } catch {
      return;
    }
    listener(value);
  });
}
