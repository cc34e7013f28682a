/**
 * Bundle size: esbuild (browser, ESM, minified, the options of scripts/browser-bundle.ts)
 * then gzip -9 of each client's browser entry, with esbuild's metafile for the bytes each
 * input file puts into the output. The React bindings are measured on their own entry,
 * when the package has one: never inside the main entry.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type BuildOptions, type Plugin } from "esbuild";
import type { ClientName } from "./clients";

const root = fileURLToPath(new URL("..", import.meta.url));

export const SOCKSTATE_WITH_XSTATE = "sockstate (xstate included)";
export const SOCKSTATE_OWN_CODE = "sockstate's own code (xstate external)";
/** The React bindings' entry, added by its own branch: measured when it exists. */
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

async function measure(label: string, client: ClientName, options: Pick<BuildOptions, "external" | "plugins"> & { entry?: string }): Promise<BundleSize> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [options.entry ?? "src/index.ts"],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    external: options.external ?? [],
    plugins: options.plugins ?? [],
    write: false,
    outfile: "bundle.js",
    metafile: true,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const code = result.outputFiles[0]!.text;
  const output = Object.values(result.metafile.outputs)[0]!;
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
    ...(existsSync(`${root}${REACT_ENTRY}`) ? [measure(REACT_OWN_CODE, "sockstate", { entry: REACT_ENTRY, plugins: [onlyReactFolder] })] : []),
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
