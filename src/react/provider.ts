/** The client the hooks use: given once, as a prop, by the application (docs/protocol.md §9). */
import { createContext, createElement, type ReactNode, useContext } from "react";
import type { Client } from "../client";

const ClientContext = createContext<Client | undefined>(undefined);
ClientContext.displayName = "SockstateClient";

/** Props of {@link SockstateProvider}. */
export interface SockstateProviderProps {
  /**
   * The client every hook below opens its sockets with. Create it once, outside render
   * (module scope or an app-level singleton): a new client is a new set of sockets.
   */
  client: Client;
  /** The part of the app whose components use the hooks. */
  children?: ReactNode;
}

/** Makes `client` available to `useSocket`, `useChatSocket` and `useTranscriptSocket` below it. */
export function SockstateProvider({ client, children }: SockstateProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest `SockstateProvider`; throws when there is none. */
export function useSockstateClient(): Client {
  const client = useContext(ClientContext);
  if (client === undefined) {
    throw new Error("sockstate/react: no client: wrap the component in <SockstateProvider client={client}>");
  }
  return client;
}
