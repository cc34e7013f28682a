/** The part every stand-in WebSocket of the tests shares. */
import type { WebSocketLike } from "../../machines/connection.types";

/**
 * A WebSocket stand-in's state and the four handler slots the socket link assigns.
 * Subclasses add `send`/`close` and whatever the fake is for.
 */
export abstract class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  bufferedAmount = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  abstract send(data: unknown): void;
  abstract close(code?: number, reason?: string): void;
}
