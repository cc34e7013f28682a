/**
 * Bundle size: scripts/browser-bundle.ts (esbuild: browser, ESM, minified)
 * then gzip -9 of each client's browser entry, with esbuild's metafile for the bytes each
 * input file puts into the output. The React bindings are measured on their own entry,
 * never inside the main entry.
 */
import { gzipSync } from "node:zlib";
import type { Plugin } from "esbuild";
import { type BrowserBundleOptions, buildBrowserBundle } from "../scripts/browser-bundle";
import type { ClientName } from "./clients";

export const SOCKSTATE_WITH_XSTATE = "sockstate (xstate included)";
export const SOCKSTATE_OWN_CODE = "sockstate's own code (xstate external)";
/** The React bindings' entry, measured on its own. */
export const REACT_ENTRY = "src/react/index.ts";
export const REACT_OWN_CODE = "sockstate/react, its own code (facade, xstate, react external)";

export interface BundleSize {
  /** What was bundled. */
  label: string;
  client: ClientName;
  minified: number;
  gzip: number;
  /** Minified bytes in the output per input file (esbuild's `bytesInOutput`), largest first. */
  inputs: Array<{ path: string; bytes: number }>;
}

/** Everything `src/react/` imports from outside `src/react/` stays out of its bundle. */
const onlyReactFolder: Plugin = {
  name: "only-src-react",
  setup(plugin) {
    plugin.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const local = args.path.startsWith(".");
      if (local && args.resolveDir.includes("/src/react")) {
        const target = new URL(args.path, `file://${args.resolveDir}/`).pathname;
        if (target.includes("/src/react/") || target.endsWith("/src/react")) return undefined;
      }
      return { path: args.path, external: true };
    });
  },
};

async function measure(label: string, client: ClientName, options: Omit<BrowserBundleOptions, "minify">): Promise<BundleSize> {
  const { code, metafile } = await buildBrowserBundle({ ...options, minify: true });
  const output = Object.values(metafile.outputs)[0]!;
  const inputs = Object.entries(output.inputs)
    .map(([path, input]) => ({ path, bytes: input.bytesInOutput }))
    .filter((input) => input.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return { label, client, minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).byteLength, inputs };
}

/** The two sockstate main-entry bundles of the budgets, and the React entry's own code when it exists. */
export async function sockstateBundles(): Promise<BundleSize[]> {
  return Promise.all([
    measure(SOCKSTATE_WITH_XSTATE, "sockstate", {}),
    measure(SOCKSTATE_OWN_CODE, "sockstate", { external: ["xstate"] }),
    measure(REACT_OWN_CODE, "sockstate", { entry: REACT_ENTRY, plugins: [onlyReactFolder] }),
  ]);
}

/** Sizes of every browser bundle; raw `ws` has none (the browser has `WebSocket`). */
export async function bundleSizes(): Promise<BundleSize[]> {
  return Promise.all([
    sockstateBundles(),
    measure("partysocket/ws", "partysocket", { entry: "bench/bundle-entries/partysocket.ts" }),
    measure("reconnecting-websocket", "reconnecting-websocket", { entry: "bench/bundle-entries/reconnecting-websocket.ts" }),
  ]).then(([own, ...peers]) => [...own, ...peers]);
}
