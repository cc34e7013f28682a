import { describe, expect, it } from "vitest";
import { emptyStrings } from "../../bench/bundle-floor";

describe("the bench's bundle floor: emptyStrings", () => {
  const code = 'import{a as b}from"xstate";const x="two words",y=`one ${b} and ${"a b"} two`,z=\'name\',w=`plain text`;';

  it("empties every string and template part, and keeps module names", () => {
    expect(emptyStrings(code, () => true)).toBe('import{a as b}from"xstate";const x="",y=`${b}${""}`,z=\'\',w=``;');
  });

  it("empties only what the predicate selects", () => {
    expect(emptyStrings(code, (text) => text.includes(" "))).toBe(
      'import{a as b}from"xstate";const x="",y=`${b}${""}`,z=\'name\',w=``;',
    );
  });

  it("leaves code without strings as it was", () => {
    expect(emptyStrings("let a=1+2;", () => true)).toBe("let a=1+2;");
  });
});
