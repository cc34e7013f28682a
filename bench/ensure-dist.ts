/**
 * `prebench`: the bench measures the package as it ships (`dist/`), not the TypeScript
 * sources run through tsx — tsx compiles with esbuild's `keepNames`, which gives every
 * function a `name` property of its own (~3 KB more heap per idle socket than `dist/`).
 * Builds `dist/` when it is missing or older than a source file.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

function builtAt(): number {
  try {
    return statSync(join(root, "dist/index.mjs")).mtimeMs;
  } catch {
    return 0;
  }
}

const sources = Math.max(newest("src"), newest("machines"), statSync(join(root, "build.config.ts")).mtimeMs);
if (builtAt() < sources) {
  process.stderr.write("bench: dist/ is missing or older than the sources; building it (the bench measures what ships)\n");
  execFileSync("npx", ["unbuild"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}
