/**
 * `sockstate/testing`: a real HTTP + WebSocket server on loopback that speaks the
 * sockstate wire protocol, with fault controls, for tests and demos. Needs `ws`.
 * @module sockstate/testing
 */
export { createReferenceServer } from "./reference-server";
export type * from "./reference-server.types";
