/**
 * Serves the example: the page and its esbuild bundle from a static HTTP server on
 * loopback, next to the reference server, which relays every chat message to everyone
 * in the chat.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createReferenceServer, type ReferenceServer } from "sockstate/testing";
import { type ChatMessage, isSayFrame } from "./messages";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

/** The app as one ESM file; `sockstate` and `sockstate/react` come from this repository's sources. */
export async function buildChatBundle(): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["examples/react-chat/main.tsx"],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    write: false,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [
      {
        name: "sockstate-sources",
        setup(build) {
          const entries: Record<string, string> = { sockstate: "src/index.ts", "sockstate/react": "src/react/index.ts" };
          build.onResolve({ filter: /^sockstate(\/react)?$/ }, (args) => ({ path: `${root}${entries[args.path]}` }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}

export interface ChatExample {
  /** The page. */
  url: string;
  /** The reference server the page talks to, with its fault controls. */
  server: ReferenceServer;
  /** The path of the example's chat. */
  chatPath: string;
  /** Sends a message to everyone in the chat, as the server. */
  announce(text: string, author?: string): void;
  close(): Promise<void>;
}

/** Builds the bundle and starts both servers on 127.0.0.1 (`port` 0: any free port). */
export async function startChatExample(options: { port?: number } = {}): Promise<ChatExample> {
  const chatPath = "/ws/chat/general";
  let nextId = 1;
  const message = (author: string, text: string): string =>
    JSON.stringify({ type: "message", id: nextId++, author, text, at: Date.now() } satisfies ChatMessage);

  const [bundle, template, server] = await Promise.all([
    buildChatBundle(),
    readFile(`${here}page.html`, "utf8"),
    createReferenceServer({
      onMessage(connection, data, server) {
        let frame: unknown;
        try {
          frame = JSON.parse(String(data));
        } catch {
          return;
        }
        if (isSayFrame(frame)) server.broadcast(connection.path, message(frame.author, frame.text));
      },
    }),
  ]);
  const html = template.replace("%API_URL%", server.apiUrl);
  const pages = createServer((req, res) => {
    if (req.url === "/") res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(html);
    else if (req.url === "/app.js") res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(bundle);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    pages.once("error", reject);
    pages.listen(options.port ?? 0, "127.0.0.1", resolve);
  });

  return {
    url: `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`,
    server,
    chatPath,
    announce: (text, author = "server") => void server.broadcast(chatPath, message(author, text)),
    async close() {
      pages.closeAllConnections();
      await Promise.all([new Promise((resolve) => pages.close(resolve)), server.close()]);
    },
  };
}
