import { defineBuildConfig } from "unbuild";

export default defineBuildConfig({
  entries: [
    { input: "src/index", name: "index" },
    { input: "machines/index", name: "machine" },
    { input: "src/testing/index", name: "testing" },
    { input: "src/react/index", name: "react" },
  ],
  declaration: true,
  clean: true,
  rollup: { emitCJS: true },
  externals: ["xstate", "ws", "react", "react/jsx-runtime"],
});
