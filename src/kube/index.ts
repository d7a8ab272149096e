/**
 * Kubernetes YAML in and out: `generateManifest` (a pod spec → a v1 Pod) and
 * `playManifest` (a manifest → a pod spec). The command layer loads this module
 * only when a `kube` verb runs: the YAML library costs every other command time.
 */
export { generateManifest, TARGET, type Generated } from "./generate.ts";
export { playManifest, type PlayResult } from "./play.ts";
export { ClusterRefusal, ManifestError, type KubeIssue } from "./errors.ts";
export { writeYaml } from "./yaml.ts";
