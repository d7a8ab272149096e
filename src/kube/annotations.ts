/**
 * The annotations podunit writes into a generated manifest for what Kubernetes
 * has no field for, and reads back in `kube play`, so a pod makes the round
 * trip unchanged. A cluster keeps them and ignores them (docs/kubernetes.md).
 */

/** The pod's network when it is loopback only (`network` left out): a cluster gives every pod its network regardless. */
export const NETWORK = "podunit.io/network";
/** The pod-wide `tasks_max` (Kubernetes' PID limit is the node's, not the pod's). */
export const POD_TASKS_MAX = "podunit.io/tasks-max";
/** The pod's `sandbox` backend. */
export const SANDBOX = "podunit.io/sandbox";
/** `[install] wanted_by`, targets joined by ",". */
export const WANTED_BY = "podunit.io/wanted-by";

/** Per member: `tasks-max.podunit.io/MEMBER` and the like (`runtime`: a member's own OCI runtime; the pod's is `runtimeClassName`) (a member's name is a DNS label, as the key's name part must be). */
export const memberKey = (what: "tasks-max" | "after" | "restart" | "runtime", member: string): string => `${what}.podunit.io/${member}`;

/** Per volume: its top directory's `owner` ("UID:GID") and `mode` ("0750"), which a cluster's volumes have no field for. */
export const volumeKey = (what: "owner" | "mode", volume: string): string => `volume-${what}.podunit.io/${volume}`;

/** Whether an annotation is one of podunit's (a played manifest's others are not kept). */
export function isPodunitAnnotation(key: string): boolean {
  return key.startsWith("podunit.io/") || /^(tasks-max|after|restart|runtime|volume-owner|volume-mode)\.podunit\.io\//.test(key);
}
