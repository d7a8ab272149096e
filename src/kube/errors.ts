/**
 * What goes wrong in a translation between a pod spec and Kubernetes YAML:
 * every problem carries where it is (file, line, column) and the field's path
 * (`spec.containers[0].lifecycle.preStop` for a manifest, `containers.app.rootfs`
 * for a spec). Library code throws these; the command layer prints them.
 */
import { ExitCode, formatSpecIssue, PodunitError, type SpecIssue } from "../errors.ts";

/** One problem of a manifest or of a spec on its way to a cluster (the shape of a spec's issues). */
export type KubeIssue = SpecIssue;

/** A manifest `kube play` refuses: every problem in the file, each with its path and line. */
export class ManifestError extends PodunitError {
  readonly issues: KubeIssue[];
  constructor(issues: KubeIssue[]) {
    const head = issues.length === 1 ? "Cannot play the manifest" : `Cannot play the manifest (${issues.length} problems)`;
    super(`${head}:\n${issues.map((i) => `  ${formatSpecIssue(i)}`).join("\n")}`, {
      exitCode: ExitCode.INVALID_SPEC,
      hint: "Remove or change those fields; docs/kubernetes.md lists what podunit maps and why the rest is refused.",
    });
    this.issues = issues;
  }
}

/** A pod spec `kube generate` cannot express for a cluster (without --lossy): each problem names the member and the key. */
export class ClusterRefusal extends PodunitError {
  readonly issues: KubeIssue[];
  constructor(issues: KubeIssue[]) {
    const head = issues.length === 1 ? "Cannot generate a Kubernetes manifest" : `Cannot generate a Kubernetes manifest (${issues.length} problems)`;
    super(`${head}:\n${issues.map((i) => `  ${formatSpecIssue(i)}`).join("\n")}`, {
      exitCode: ExitCode.INVALID_SPEC,
      hint: "Change the spec, or pass --lossy to leave these out (they are listed on standard error).",
    });
    this.issues = issues;
  }
}
