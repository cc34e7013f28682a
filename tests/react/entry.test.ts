/** The built package: React only in the `sockstate/react` entry. */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Paths, not URLs: happy-dom's URL is not one node:fs accepts.
const dist = join(dirname(fileURLToPath(import.meta.url)), "../../dist");
const read = (file: string) => readFileSync(join(dist, file), "utf8");
/** Module specifiers a built file imports or requires. */
const importsOf = (code: string) =>
  [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g)].map((match) => match[1]!);
const sharedChunks = readdirSync(join(dist, "shared")).map((file) => `shared/${file}`);

describe("dist", () => {
  it("the main, machine and testing entries and their chunks import no React", () => {
    for (const file of ["index.mjs", "index.cjs", "machine.mjs", "machine.cjs", "testing.mjs", "testing.cjs", ...sharedChunks]) {
      expect(importsOf(read(file)).filter((specifier) => /^react(\/|-dom|$)/.test(specifier)), file).toEqual([]);
    }
  });

  it("sockstate/react imports react and nothing from the facade's code", () => {
    expect(importsOf(read("react.mjs"))).toEqual(["react"]);
    expect(importsOf(read("react.cjs"))).toEqual(["react"]);
  });
});
