/**
 * A chat view on sockstate/react: a connection badge, the message list and a send box.
 * The client is created once, at module scope, and handed to the provider.
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { createClient, type WebSocketState } from "sockstate";
import { SockstateProvider, useChatSocket, useMessages } from "sockstate/react";
import { type ChatMessage, isChatMessage, type SayFrame } from "./messages";

const BADGE_TEXT: Record<WebSocketState, string> = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closing: "Disconnecting…",
  closed: "Offline",
};

export function ConnectionBadge({ state, reconnectAttempt }: { state: WebSocketState; reconnectAttempt: number }) {
  return (
    <span className={`badge badge--${state}`} data-testid="badge" data-state={state}>
      {BADGE_TEXT[state]}
      {state === "reconnecting" && reconnectAttempt > 0 ? ` (attempt ${reconnectAttempt})` : ""}
    </span>
  );
}

function MessageList({ messages }: { messages: readonly ChatMessage[] }) {
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "end" });
  }, [messages]);
  return (
    <ol className="messages" ref={list} data-testid="messages">
      {messages.map((message) => (
        <li key={message.id} data-id={message.id}>
          <span className="author">{message.author}</span>
          <span className="text">{message.text}</span>
          <time>{new Date(message.at).toLocaleTimeString("en-GB")}</time>
        </li>
      ))}
    </ol>
  );
}

export function ChatRoom({ chatId, author }: { chatId: string; author: string }) {
  const { socket, state, reconnectAttempt, error } = useChatSocket(chatId);
  const messages = useMessages(socket, { limit: 1000 }).filter(isChatMessage);
  const [draft, setDraft] = useState("");
  const [sendError, setSendError] = useState<string>();

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (socket === undefined || text === "") return;
    try {
      // Queued while connecting or reconnecting, sent once open.
      socket.send(JSON.stringify({ type: "say", author, text } satisfies SayFrame));
      setDraft("");
      setSendError(undefined);
    } catch (failure) {
      setSendError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const problem = sendError ?? (error instanceof Error ? error.message : undefined);
  return (
    <main className="chat">
      <header>
        <h1># {chatId}</h1>
        <ConnectionBadge state={state} reconnectAttempt={reconnectAttempt} />
      </header>
      <MessageList messages={messages} />
      {problem !== undefined && <p className="problem">{problem}</p>}
      <form onSubmit={send}>
        <input
          aria-label="Message"
          placeholder={`Message #${chatId}`}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" disabled={socket === undefined || draft.trim() === ""}>
          Send
        </button>
      </form>
    </main>
  );
}

/** The page: one client for the app, created outside any component. */
export function createApp(apiUrl: string) {
  const client = createClient({ apiUrl });
  return function App() {
    return (
      <SockstateProvider client={client}>
        <ChatRoom chatId="general" author="you" />
      </SockstateProvider>
    );
  };
}
