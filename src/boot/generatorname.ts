/**
 * How podunit knows it was started as the systemd generator. Apart from
 * generator.ts, so that the binary's entry can tell without loading the planner.
 */

/** The name systemd runs the generator by: a link to the podunit binary in a system-generators directory. */
export const GENERATOR_NAME = "podunit-generator";

/** True when podunit was started as the generator (argv[0] is the link's path or name). */
export function isGeneratorInvocation(argv0: string | undefined): boolean {
  return argv0 !== undefined && argv0.slice(argv0.lastIndexOf("/") + 1) === GENERATOR_NAME;
}
