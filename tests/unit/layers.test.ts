/**
 * Layers point one way: `machines/` (the machine, its types, errors and protocol) never
 * imports the facade (`src/`), the React bindings or the test kit; the facade never
 * imports its bindings (`src/react`) or its test kit (`src/testing`). Every specifier of
 * every .ts file is read — static imports, `export … from` and dynamic `import()` — so a
 * back edge fails here before it ships.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Every import specifier in `source`: static, `export … from`, `import type` and dynamic `import()`. */
function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** `specifier` as a repository path (`src/options`) when relative, else as written (`react`). */
function target(file: string, specifier: string): string {
  return specifier.startsWith(".") ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).split("\\").join("/") : specifier;
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
const isPackage = (path: string, name: string) => path === name || path.startsWith(`${name}/`);

/** Why `file` may not import `to`, or `undefined` when it may. */
function violation(file: string, to: string): string | undefined {
  if (under(file, "machines")) {
    if (under(to, "src")) return "the machine imports the facade";
    if (under(to, "tests")) return "the machine imports the test kit";
    if (isPackage(to, "sockstate")) return "the machine imports the package's facade";
    if (isPackage(to, "react") || isPackage(to, "react-dom")) return "the machine imports React";
  }
  if (under(file, "src") && !under(file, "src/react") && !under(file, "src/testing")) {
    if (under(to, "src/react") || isPackage(to, "sockstate/react")) return "the facade imports its React bindings";
    if (under(to, "src/testing") || isPackage(to, "sockstate/testing")) return "the facade imports its test kit";
    if (under(to, "tests")) return "the facade imports a test";
  }
  return undefined;
}

/** Every forbidden import among `files` (repository path → source). */
function layerViolations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    for (const specifier of importSpecifiers(source)) {
      const why = violation(file, target(file, specifier));
      if (why) found.push(`${file} imports "${specifier}": ${why}`);
    }
  }
  return found;
}

function tsFiles(folder: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = relative(ROOT, join(entry.parentPath, entry.name)).split("\\").join("/");
    files.set(path, readFileSync(join(ROOT, path), "utf8"));
  }
  return files;
}

describe("layers", () => {
  it("machines/ imports neither the facade, React nor the test kit; src/ imports neither src/react nor src/testing", () => {
    const files = new Map([...tsFiles("machines"), ...tsFiles("src")]);
    expect(files.size).toBeGreaterThan(10);
    expect(layerViolations(files)).toEqual([]);
  });

  it("finds every kind of back edge: static, export-from, type-only and dynamic imports", () => {
    const files = new Map([
      ["machines/a.ts", 'import { x } from "../src/options";'],
      ["machines/b.ts", 'export { y } from "../src/testing/index";'],
      ["machines/c.ts", 'import type { Z } from "../tests/model/kit/model";'],
      ["machines/d.ts", 'const react = await import("react");'],
      ["src/e.ts", 'const kit = () => import("./testing/reference-server");'],
      ["src/f.ts", 'import { useSocket } from "./react/index";'],
      ["src/react/g.ts", 'import { createClient } from "../index";'],
      ["src/testing/h.ts", 'import { noop } from "../../machines/connection.utils";'],
      ["machines/i.ts", 'import { classifyClose } from "./protocol";\nimport { setup } from "xstate";'],
    ]);
    expect(layerViolations(files)).toEqual([
      'machines/a.ts imports "../src/options": the machine imports the facade',
      'machines/b.ts imports "../src/testing/index": the machine imports the facade',
      'machines/c.ts imports "../tests/model/kit/model": the machine imports the test kit',
      'machines/d.ts imports "react": the machine imports React',
      'src/e.ts imports "./testing/reference-server": the facade imports its test kit',
      'src/f.ts imports "./react/index": the facade imports its React bindings',
    ]);
  });
});
