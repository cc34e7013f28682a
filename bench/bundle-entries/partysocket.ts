/** partysocket's reconnecting WebSocket, the browser entry a sockstate user would pick instead. */
export { default } from "partysocket/ws";
