/**
 * The docs explain the project themselves: the README stays a short page for users, every
 * relative link in the README and docs/ leads somewhere, and every `docs/protocol.md §n`
 * that code cites names a section that exists.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const README_MAX_LINES = 350;
/** Written by `npm run bench`, so a link to it is right before the first run. */
const GENERATED = new Set(["bench/RESULTS.md"]);
const PAGES = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

const read = (file: string): string => readFileSync(join(root, file), "utf8");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function anchors(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1]!)));
}

/** Markdown links outside code blocks, without external URLs. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z]+:/.test(target));
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|mjs)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

describe("docs", () => {
  it(`keeps the README a page for users: at most ${README_MAX_LINES} lines`, () => {
    expect(read("README.md").split("\n").length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it("explains the project itself: no page cites an outside SPEC", () => {
    for (const page of PAGES) expect(read(page), page).not.toMatch(/\bSPEC\b/);
  });

  it("links only to files and headings that exist", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const link of relativeLinks(read(page))) {
        const [path, anchor] = link.split("#") as [string, string | undefined];
        const target = path === "" ? page : relative(root, join(root, dirname(page), path));
        if (GENERATED.has(target)) continue;
        if (!existsSync(join(root, target))) broken.push(`${page}: ${link}`);
        else if (anchor && target.endsWith(".md") && !anchors(read(target)).has(anchor)) broken.push(`${page}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("has every section of docs/protocol.md that the code cites", () => {
    const sections = new Set([...read("docs/protocol.md").matchAll(/^## (\d+)\. /gm)].map((match) => match[1]!));
    expect([...sections]).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const missing: string[] = [];
    for (const file of ["machines", "src", "scripts", "bench", "tests"].flatMap(sourceFiles)) {
      for (const match of read(file).matchAll(/docs\/protocol\.md §(\d+)/g)) {
        if (!sections.has(match[1]!)) missing.push(`${file}: §${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
