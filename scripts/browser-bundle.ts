/**
 * Bundles sockstate's browser entry (the facade, xstate included) into one ESM file
 * with esbuild, for the inspector page, the real-browser tests and the size budget.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface BrowserBundle {
  code: string;
}

/** `minify` for the size budget; `external` to measure sockstate's own code without xstate. */
export async function buildBrowserBundle(options: { minify?: boolean; external?: string[]; entry?: string } = {}): Promise<BrowserBundle> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [options.entry ?? "src/index.ts"],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? false,
    external: options.external ?? [],
    write: false,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  return { code: result.outputFiles[0]!.text };
}
