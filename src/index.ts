/**
 * `sockstate`: managed WebSocket connections driven by one XState v5 machine.
 * @module sockstate
 */
export { createClient } from "./client";
export type { Client, ClientOptions } from "./client";
export { WebSocketManager } from "./manager";
export { ManagedWebSocket } from "./managed-socket";
export type { ChatWebSocket, OpenInfo } from "./managed-socket";
export type { Emitter, Listener } from "./emitter";
export {
  ConnectionRejectedError,
  ConnectTimeoutError,
  MessageValidationError,
  QueueFullError,
  ReconnectFailedError,
  SocketClosedError,
  TicketError,
} from "../machines/connection.errors";
export type { ConnectTimeoutStep } from "../machines/connection.errors";
export { DEFAULT_SOCKET_OPTIONS } from "./options";
export type { DebugLogger, InspectOption, SocketOptions } from "./options";
export type { DataOf, EventIdSelector, SocketOptionsWithSchema } from "./data-channel";
export type { StandardSchemaV1 } from "../machines/standard-schema";
export type {
  AuthTokenProvider,
  ParamsContext,
  ParamsOption,
  QueryParams,
  SendData,
  WebSocketConstructor,
  WebSocketLike,
  WebSocketState,
} from "../machines/connection.types";
