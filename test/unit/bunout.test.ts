import { expect, test } from "bun:test";
import { failuresIn } from "../lab/bunout.ts";

test("a failed test is named with the error lines bun printed before it, and passing tests' output is not taken", () => {
  const text = [
    "test/system/a.test.ts:",
    "noise of a passing test",
    "(pass) pods > starts [12.00ms]",
    "error: expect(received).toBe(expected)",
    "",
    "Expected: 1",
    "Received: 2",
    "(fail) pods > stops cleanly [3.10s]",
    "(skip) pods > later",
  ].join("\n");
  expect(failuresIn(text)).toEqual([
    { name: "pods > stops cleanly", excerpt: ["error: expect(received).toBe(expected)", "Expected: 1", "Received: 2"] },
  ]);
});

test("a long error keeps only its last lines", () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
  const [f] = failuresIn([...lines, "(fail) x"].join("\n"));
  expect(f!.excerpt.length).toBe(30);
  expect(f!.excerpt.at(-1)).toBe("line 99");
});

test("bun's list of the failed tests at the end does not count them twice", () => {
  const text = ["error: boom", "(fail) a > b [1.00ms]", "(pass) a > c [1.00ms]", "", "1 tests failed:", "(fail) a > b [1.00ms]", "", " 1 pass", " 1 fail"].join("\n");
  expect(failuresIn(text)).toEqual([{ name: "a > b", excerpt: ["error: boom"] }]);
});
