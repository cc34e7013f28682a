/**
 * What the main entry's gzip bytes are made of, beyond the per-module table: how much is
 * xstate as sockstate imports it, and how small sockstate's own code would be with its
 * strings gone: the floors the bundle budgets are set against (issue 18).
 *
 * - xstate alone: an entry that re-exports exactly the names sockstate's own bundle imports
 *   from `xstate`, bundled and minified the same way.
 * - own code without sentences: every string literal and template text holding a space
 *   (error messages, state descriptions, hints) emptied in the minified output.
 * - own code without any string: every string literal and template text emptied, event and
 *   state names included: what this code weighs as logic alone.
 */
import { gzipSync } from "node:zlib";
import ts from "typescript";
import { buildBrowserBundle } from "../scripts/browser-bundle";

export interface BundleFloor {
  /** gzip -9 of the own-code bundle as shipped (xstate external). */
  ownCode: number;
  ownCodeWithoutSentences: number;
  ownCodeWithoutStrings: number;
  /** gzip -9 of xstate's code that the main entry pulls in, bundled alone. */
  xstateAlone: number;
  /** The names imported from `xstate`, as the bundle imports them. */
  xstateImports: string[];
}

const gzip = (code: string) => gzipSync(code, { level: 9 }).byteLength;

/** `code` with the text of each string literal and template part that `drop` selects emptied. */
export function emptyStrings(code: string, drop: (text: string) => boolean): string {
  const file = ts.createSourceFile("bundle.js", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const cuts: Array<{ start: number; end: number; text: string }> = [];
  const cut = (node: ts.Node, open: string, close: string) => {
    const start = node.getStart(file);
    const inner = code.slice(start + open.length, node.end - close.length);
    if (drop(inner)) cuts.push({ start, end: node.end, text: open + close });
  };
  const visit = (node: ts.Node): void => {
    const moduleName = node.parent && (ts.isImportDeclaration(node.parent) || ts.isExportDeclaration(node.parent));
    if (ts.isStringLiteral(node) && !moduleName) cut(node, code[node.getStart(file)]!, code[node.getStart(file)]!);
    else if (ts.isNoSubstitutionTemplateLiteral(node)) cut(node, "`", "`");
    else if (ts.isTemplateHead(node)) cut(node, "`", "${");
    else if (ts.isTemplateMiddle(node)) cut(node, "}", "${");
    else if (ts.isTemplateTail(node)) cut(node, "}", "`");
    ts.forEachChild(node, visit);
  };
  visit(file);
  let result = "";
  let at = 0;
  for (const { start, end, text } of cuts.sort((a, b) => a.start - b.start)) {
    result += code.slice(at, start) + text;
    at = end;
  }
  return result + code.slice(at);
}

/** The names the minified bundle imports from `xstate` (`a as b` → `a`). */
function importsFromXstate(code: string): string[] {
  const names = [...code.matchAll(/import\s*\{([^}]*)\}\s*from\s*["']xstate["']/g)].flatMap((match) =>
    match[1]!.split(",").map((name) => name.trim().split(/\s+as\s+/)[0]!),
  );
  return [...new Set(names.filter(Boolean))].sort();
}

export async function bundleFloor(): Promise<BundleFloor> {
  const { code } = await buildBrowserBundle({ minify: true, external: ["xstate"] });
  const xstateImports = importsFromXstate(code);
  const alone = await buildBrowserBundle({ minify: true, source: `export { ${xstateImports.join(", ")} } from "xstate";` });
  return {
    ownCode: gzip(code),
    ownCodeWithoutSentences: gzip(emptyStrings(code, (text) => text.includes(" "))),
    ownCodeWithoutStrings: gzip(emptyStrings(code, () => true)),
    xstateAlone: gzip(alone.code),
    xstateImports,
  };
}
