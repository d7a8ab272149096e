/**
 * The one loop that runs a start: steps in order, each with what it does and
 * what undoes it. When a step fails, the steps done so far (the failed one
 * too: it may have done part of its work) are undone in reverse, and every
 * undo runs even when an earlier one failed; what could not be undone is
 * reported next to the failure. New kinds of work (images, volumes, networks,
 * health) are new steps; the loop stays as it is.
 */
import { mark } from "../trace.ts";

/** One step, ready to run: a name for traces and errors, the work, and its undo. */
export interface Step {
  /** What the step does, for `PODUNIT_TRACE=1` ("start units podunit-web.slice, …"). */
  name: string;
  run(): Promise<void>;
  /** Undoes what `run` did, also after it failed halfway; returns what could not be undone. */
  undo?(): Promise<string[]>;
}

/** A step that failed, the undo that followed, and what the undo could not do. */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    readonly error: unknown,
    /** What undoing the steps done could not undo (empty: everything was undone). */
    readonly problems: string[],
    /** False when the loop did not undo anything (see `RunOptions.keepOn`). */
    readonly undone: boolean,
  ) {
    super(`step '${step}' failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

export interface RunOptions {
  /** Errors after which nothing is undone (the undo could not work either: the connection to systemd is lost). */
  keepOn?: (error: unknown) => boolean;
  /** Called with the error before anything is undone (to read a failed unit's log while it is there). */
  beforeUndo?: (error: unknown) => Promise<void>;
}

/** Runs `steps` in order; on a failure undoes the ones done in reverse and throws a StepFailure. */
export async function runSteps(steps: readonly Step[], opts: RunOptions = {}): Promise<void> {
  const done: Step[] = [];
  for (const step of steps) {
    done.push(step);
    try {
      await step.run();
      mark(step.name);
    } catch (error) {
      mark(`${step.name}: failed`);
      if (opts.keepOn?.(error)) throw new StepFailure(step.name, error, [], false);
      await opts.beforeUndo?.(error);
      throw new StepFailure(step.name, error, await undoAll(done), true);
    }
  }
}

/** Undoes `done` in reverse; returns what could not be undone. */
async function undoAll(done: readonly Step[]): Promise<string[]> {
  const problems: string[] = [];
  for (const step of [...done].reverse()) {
    if (!step.undo) continue;
    try {
      problems.push(...(await step.undo()));
    } catch (err) {
      problems.push((err as Error)?.message ?? String(err));
    }
    mark(`undone: ${step.name}`);
  }
  return problems;
}
