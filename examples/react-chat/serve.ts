/**
 * `npm run example:react`: builds the React chat, starts it next to the reference server
 * on 127.0.0.1 and prints its URL. `--port <n>` picks the page's port (default 5173);
 * `--screenshot <file.png>` instead opens it in headless Chromium, chats a little and
 * saves a screenshot.
 */
import { parseArgs } from "node:util";
import { startChatExample } from "./server";

const { values } = parseArgs({ options: { port: { type: "string", default: "5173" }, screenshot: { type: "string" } } });

const example = await startChatExample({ port: values.screenshot ? 0 : Number(values.port) });

if (values.screenshot) {
  const { captureChat } = await import("./screenshot");
  try {
    await captureChat(example, values.screenshot);
    console.log(`screenshot saved to ${values.screenshot}`);
  } finally {
    await example.close();
  }
} else {
  console.log(`React chat: ${example.url}  (reference server ${example.server.apiUrl}; Ctrl-C to stop)`);
  const stop = () => void example.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
