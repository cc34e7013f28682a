/** The example's chat frames, shared by the page and its server. */

/** What the page sends: `{"type":"say","text":"…"}`. */
export interface SayFrame {
  type: "say";
  author: string;
  text: string;
}

/** What the server broadcasts to everyone in the chat. */
export interface ChatMessage {
  type: "message";
  id: number;
  author: string;
  text: string;
  /** Epoch ms. */
  at: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export function isSayFrame(value: unknown): value is SayFrame {
  return isRecord(value) && value.type === "say" && typeof value.author === "string" && typeof value.text === "string";
}

export function isChatMessage(value: unknown): value is ChatMessage {
  return isRecord(value) && value.type === "message" && typeof value.id === "number" && typeof value.text === "string";
}
