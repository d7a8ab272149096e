/**
 * How a command line names a pod: by its name, or by the path of its spec file.
 * Apart from load.ts, so that a command which needs only the name (`podunit stop
 * web`) loads no spec parser.
 */

/** True when `ref` names a file rather than a pod: it contains "/" or ends in ".toml". */
export function isPathRef(ref: string): boolean {
  return ref.includes("/") || ref.endsWith(".toml");
}
