/**
 * The README's Quick Start is how users will call us: it must compile against the
 * built package (dist/, resolved through the package's own `exports`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

/** Names the snippets use but do not define: the app around them. */
const PRELUDE = `
declare const session: { token: string };
declare const thread: { id: string };
declare const workspaceId: string;
declare const transcriptId: string;
declare function handleUpdate(event: MessageEvent): void;
declare function setConnectionBadge(state: "connecting" | "open" | "closing" | "closed" | "reconnecting"): void;
`;

function quickStartBlocks(readme: string): string[] {
  const start = readme.indexOf("## Quick Start");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

describe("README Quick Start", () => {
  it("type-checks against the built package", () => {
    expect(existsSync(join(root, "dist/index.d.mts")), "run `npm run build` first (npm test does)").toBe(true);
    const blocks = quickStartBlocks(readFileSync(join(root, "README.md"), "utf8"));
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const dir = join(root, "node_modules/.cache/readme-check");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "quick-start.ts");
    writeFileSync(file, `${blocks.join("\n")}\n${PRELUDE}\nexport {};\n`);
    try {
      const program = ts.createProgram([file], {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        esModuleInterop: true,
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
      // It really resolved the built package, not the sources.
      const resolved = program.getSourceFiles().map((f) => f.fileName);
      expect(resolved.some((name) => name.endsWith("dist/index.d.mts"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
