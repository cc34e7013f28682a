// TypeDoc plugin: show `connectionMachine` as its named type `ConnectionMachine` instead of
// expanding XState's inferred `StateMachine<…>` into every internal action, guard and actor
// name. Those names are the machine's design, documented by the generated diagram
// (visualizations/) and docs/protocol.md, not public API.
import { Converter, ReferenceType, ReflectionKind, makeRecursiveVisitor } from "typedoc";

const VARIABLE = "connectionMachine";
const TYPE = "ConnectionMachine";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    const alias = project.getReflectionsByKind(ReflectionKind.TypeAlias).find((r) => r.name === TYPE);
    for (const variable of project.getReflectionsByKind(ReflectionKind.Variable)) {
      if (variable.name !== VARIABLE || !alias || !variable.type) continue;
      variable.type.visit(
        makeRecursiveVisitor({ reflection: (type) => project.removeReflection(type.declaration) }),
      );
      variable.type = ReferenceType.createResolvedReference(TYPE, alias, project);
    }
  });
}
