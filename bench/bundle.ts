/** Bundle size: esbuild (browser, ESM, minified) then gzip -9 of each client's browser entry. */
import { gzipSync } from "node:zlib";
import { buildBrowserBundle } from "../scripts/browser-bundle";
import type { ClientName } from "./clients";

export interface BundleSize {
  /** What was bundled. */
  label: string;
  client: ClientName;
  minified: number;
  gzip: number;
}

async function measure(label: string, client: ClientName, options: Parameters<typeof buildBrowserBundle>[0]): Promise<BundleSize> {
  const { code } = await buildBrowserBundle({ minify: true, ...options });
  return { label, client, minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).byteLength };
}

/** Sizes of every browser bundle; raw `ws` has none (the browser has `WebSocket`). */
export async function bundleSizes(): Promise<BundleSize[]> {
  return Promise.all([
    measure("sockstate (xstate included)", "sockstate", {}),
    measure("sockstate's own code (xstate external)", "sockstate", { external: ["xstate"] }),
    measure("partysocket/ws", "partysocket", { entry: "bench/bundle-entries/partysocket.ts" }),
    measure("reconnecting-websocket", "reconnecting-websocket", { entry: "bench/bundle-entries/reconnecting-websocket.ts" }),
  ]);
}
