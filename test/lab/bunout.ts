/** Reading what `bun test` printed. */

/** A failed test's name and the lines bun printed for it (its error), at most FAIL_LINES of them. */
export interface Failure {
  name: string;
  excerpt: string[];
}

const FAIL_LINES = 30;

/** The failed tests in bun's output: a `(fail) NAME` line ends the block of lines printed since the previous result line. */
export function failuresIn(text: string): Failure[] {
  const out: Failure[] = [];
  let block: string[] = [];
  for (const line of text.split("\n")) {
    // bun lists the failed tests again at the end ("1 tests failed:"): the same tests, without their errors.
    if (/^\d+ tests? failed:$/.test(line)) break;
    const m = /^\((pass|fail|skip|todo)\) (.*)$/.exec(line);
    if (!m) {
      block.push(line);
      continue;
    }
    if (m[1] === "fail") out.push({ name: m[2]!.replace(/ \[[\d.]+m?s\]$/, ""), excerpt: block.filter((l) => l.trim() !== "").slice(-FAIL_LINES) });
    block = [];
  }
  return out;
}
