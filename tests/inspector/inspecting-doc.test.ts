/**
 * docs/inspecting.md shows how to wire Stately's inspector for XState v5: its TypeScript
 * snippets must compile against the built package and the installed `@statelyai/inspect`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const FILE = "docs/inspecting.md";

function section(): { file: string; text: string } {
  return { file: FILE, text: readFileSync(join(root, FILE), "utf8") };
}

/** The project's own tsconfig.json settings: the snippets are held to the same standard as the code. */
function projectCompilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
    },
  });
  if (!parsed) throw new Error("tsconfig.json could not be read");
  return { ...parsed.options, noEmit: true };
}

describe(FILE, () => {
  const { file, text } = section();

  it("embeds the generated diagram and names the three ways to see the machine", () => {
    expect(text, file).toContain("](../visualizations/connection.svg)");
    expect(existsSync(join(root, "visualizations/connection.svg"))).toBe(true);
    for (const way of ["npm run visualize", "@statelyai/inspect", "npm run inspect"]) expect(text, file).toContain(way);
    expect(text, file).toMatch(/@xstate\/inspect.{0,40}XState 4/s);
  });

  it("has TypeScript snippets that compile against the built package", () => {
    expect(existsSync(join(root, "dist/index.d.mts")), "run `npm run build` first (npm test does)").toBe(true);
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const dir = join(root, "node_modules/.cache/inspecting-check");
    mkdirSync(dir, { recursive: true });
    try {
      // One module per snippet: they are alternatives and reuse names.
      const files = blocks.map((block, index) => {
        const path = join(dir, `snippet-${index}.ts`);
        writeFileSync(path, `${block}\nexport {};\n`);
        return path;
      });
      const program = ts.createProgram(files, projectCompilerOptions());
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file?.fileName.split("/").pop() ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
      expect(diagnostics).toEqual([]);
      expect(program.getSourceFiles().some((source) => source.fileName.endsWith("dist/index.d.mts"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
