/**
 * `sockstate/react`: React bindings (docs/protocol.md §9). A provider for the client, hooks
 * that share one socket per key between components, state through `useSyncExternalStore`,
 * and a message list that keeps every frame of a burst. Needs `react` ≥ 18.
 */
export { SockstateProvider, useSockstateClient } from "./provider";
export type { SockstateProviderProps } from "./provider";
export { useChatSocket, useSocket, useTranscriptSocket } from "./use-socket";
export type { SocketHandlers, UseSocketOptions, UseSocketResult } from "./use-socket";
export { useSocketState } from "./use-socket-state";
export type { SocketStateResult } from "./use-socket-state";
export { useMessages } from "./use-messages";
export type { UseMessagesOptions } from "./use-messages";
export type { SocketData } from "./use-messages";
