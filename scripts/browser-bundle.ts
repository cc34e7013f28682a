/**
 * Bundles sockstate's browser entry (the facade, xstate included) into one ESM file
 * with esbuild, for the inspector page, the real-browser tests and the bench's sizes.
 */
import { build, type Metafile, type Plugin } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface BrowserBundle {
  code: string;
  /** esbuild's metafile: the bytes each input file puts into the output. */
  metafile: Metafile;
}

/** What to bundle and how; every field is optional. */
export interface BrowserBundleOptions {
  /** @default "src/index.ts" */
  entry?: string;
  /** Module source to bundle instead of `entry`, resolved from the project root. */
  source?: string;
  /** Minified, for the size budgets. @default false */
  minify?: boolean;
  /** Left out of the bundle, e.g. `xstate` to measure sockstate's own code. */
  external?: string[];
  /** esbuild plugins, e.g. one that keeps everything outside a folder external. */
  plugins?: Plugin[];
}

export async function buildBrowserBundle(options: BrowserBundleOptions = {}): Promise<BrowserBundle> {
  const result = await build({
    absWorkingDir: root,
    ...(options.source === undefined
      ? { entryPoints: [options.entry ?? "src/index.ts"] }
      : { stdin: { contents: options.source, resolveDir: root, loader: "ts" as const } }),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? false,
    external: options.external ?? [],
    plugins: options.plugins ?? [],
    write: false,
    outfile: "bundle.js",
    metafile: true,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile };
}
