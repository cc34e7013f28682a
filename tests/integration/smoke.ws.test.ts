/** The smoke subset with `ws`'s `WebSocket` passed to `createClient`. */
import { smokeSuite } from "../support/smoke";

smokeSuite("ws");
