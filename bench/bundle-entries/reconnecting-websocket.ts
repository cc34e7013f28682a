/** reconnecting-websocket's browser entry. */
export { default } from "reconnecting-websocket";
