/**
 * The README's examples are how users will call us: the Quick Start and the feature
 * sections must compile against the built package (dist/, resolved through the
 * package's own `exports`), as one app would write them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
/** Inside the package, so `sockstate` resolves to the package itself; one folder per run. */
const dir = join(root, "node_modules/.cache", `readme-check-${process.pid}`);

/** Names the snippets use but do not define: the app around them. */
const PRELUDE = `
declare const session: { token: string };
declare const thread: { id: string };
declare const workspaceId: string;
declare const transcriptId: string;
declare function handleUpdate(event: MessageEvent): void;
declare function setConnectionBadge(state: "connecting" | "open" | "closing" | "closed" | "reconnecting"): void;
declare function render(text: string): void;
declare function append(speaker: string, text: string): void;
declare function refetchHistory(chatId: string): Promise<void>;
`;

/** The fenced blocks of `language` in the README section under `heading`. */
function blocks(heading: string, language: "ts" | "tsx"): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, `README has a section "${heading}"`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((match) => match[1]!);
}

/** Type-checks `source` as file `name`; returns the diagnostics and the files it resolved. */
function check(name: string, source: string): { diagnostics: string[]; files: string[] } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: ["node"],
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
  });
  return {
    diagnostics: ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
    files: program.getSourceFiles().map((f) => f.fileName),
  };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the README's examples", () => {
  it("Quick Start, Typed messages and Resume type-check together against the built package", () => {
    expect(existsSync(join(root, "dist/index.d.mts")), "run `npm run build` first (npm test does)").toBe(true);
    const quickStart = blocks("## Quick Start", "ts");
    expect(quickStart.length).toBeGreaterThanOrEqual(6);
    const features = [...blocks("## Typed messages", "ts"), ...blocks("## Resume after a gap", "ts")];
    expect(features.length).toBeGreaterThanOrEqual(2);
    const { diagnostics, files } = check("app.ts", `${[...quickStart, ...features].join("\n")}\n${PRELUDE}\nexport {};\n`);
    expect(diagnostics).toEqual([]);
    // It really resolved the built package, not the sources.
    expect(files.some((name) => name.endsWith("dist/index.d.mts"))).toBe(true);
  });

  it("the React section type-checks against the built sockstate/react", () => {
    const [component] = blocks("## React", "tsx");
    expect(component).toBeDefined();
    // The client and the schema come from the sections before it.
    const app = `import { createClient } from "sockstate";\nimport { z } from "zod";\n${component}\n${PRELUDE}
const client = createClient({ apiUrl: "https://api.example.com" });
const ChatEvent = z.object({ type: z.literal("message"), id: z.number(), text: z.string() });\n`;
    const { diagnostics, files } = check("app.tsx", app);
    expect(diagnostics).toEqual([]);
    expect(files.some((name) => name.endsWith("dist/react.d.mts"))).toBe(true);
  });
});
