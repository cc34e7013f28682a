/** A `ws` WebSocket class that remembers its instances, for tests that check what became of them. */
import WebSocket from "ws";

/**
 * `ws`'s `WebSocket`, keeping every instance it creates: what the client did with a
 * connection after it stopped following it (pass the class as the client's `WebSocket`).
 */
export function trackedWebSocket(): { WebSocket: new (url: string, protocols?: string | string[]) => WebSocket; instances: WebSocket[] } {
  const instances: WebSocket[] = [];
  class Tracked extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      instances.push(this);
    }
  }
  return { WebSocket: Tracked, instances };
}
