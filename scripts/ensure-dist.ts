/**
 * Builds `dist/` when it is missing or older than a source file. Runs before
 * `npm run typecheck` (tests and the bench import the built package, so their types come
 * from `dist/`) and before `npm run bench`, which measures the package as it ships rather
 * than the TypeScript sources run through tsx: tsx compiles with esbuild's `keepNames`,
 * which gives every function a `name` property of its own, so an idle socket would
 * measure heavier than the one users get.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The newest modification time of a `.ts` file below `dir` (walked by hand: Node 20.0 has no `parentPath`). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith(".ts")) latest = Math.max(latest, statSync(path).mtimeMs);
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

const sources = Math.max(newest(join(root, "src")), newest(join(root, "machines")), statSync(join(root, "build.config.ts")).mtimeMs);
if (builtAt() < sources) {
  process.stderr.write("dist/ is missing or older than the sources; building it\n");
  execFileSync("npx", ["unbuild"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}
