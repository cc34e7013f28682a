import { defineBuildConfig } from "unbuild";

export default defineBuildConfig({
  entries: [
    { input: "src/index", name: "index" },
    { input: "machines/index", name: "machine" },
    { input: "src/testing/index", name: "testing" },
  ],
  declaration: true,
  clean: true,
  rollup: { emitCJS: true },
  externals: ["xstate", "ws"],
});
