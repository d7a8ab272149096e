/**
 * Phase marks for profiling: library code records `mark("label")`, and only the
 * command layer prints them (PODUNIT_TRACE=1), as milliseconds since the process began.
 */
const marks: Array<[string, number]> = [];

/** Records that a phase ended now. */
export function mark(label: string): void {
  marks.push([label, performance.now()]);
}

/** The recorded marks, one line each, with the time since the previous mark. */
export function formatMarks(): string {
  let prev = 0;
  return marks
    .map(([label, t]) => {
      const line = `podunit trace: ${t.toFixed(1).padStart(7)} ms  +${(t - prev).toFixed(1).padStart(6)}  ${label}`;
      prev = t;
      return line;
    })
    .join("\n");
}
