/**
 * `sockstate/testing`: a real HTTP + WebSocket server on loopback that speaks the
 * sockstate wire protocol, with fault controls, for tests and demos. Needs `ws`.
 */
export { createReferenceServer } from "./reference-server";
export type {
  ConnectionRecord,
  Falsy,
  FrameData,
  FrameRecord,
  IssuedTicket,
  ReferenceConnection,
  ReferenceConnectionState,
  ReferenceServer,
  ReferenceServerOptions,
  RestartOptions,
  TicketRequestRecord,
  TicketStatus,
  TokenCheck,
} from "./reference-server.types";
