/**
 * The fields `kube play` reads, as one table: every field podunit maps, every
 * field it accepts without effect (a note says so), and every field it refuses
 * with the reason. A field not in the table is refused as unsupported: nothing
 * in a manifest is dropped in silence. docs/kubernetes.md is this table in prose.
 *
 * Volumes and health checks are refused here until the spec has them: each is
 * one entry (`PENDING_VOLUMES`, `PENDING_HEALTH`) to replace by its mapping.
 */

/** What a field may be. */
export type Field =
  | { t: "string" }
  | { t: "int" }
  | { t: "bool" }
  /** A Kubernetes quantity: a string such as "512Mi" or "500m", or a number. */
  | { t: "quantity" }
  /** A map of string to string (labels, annotations, a ConfigMap's data). */
  | { t: "strmap" }
  | { t: "map"; keys: Readonly<Record<string, Field>> }
  | { t: "list"; of: Field }
  /** Accepted, with no effect here; the note says why. */
  | { t: "noted"; why: string }
  /** Refused; `why` says why and what to do. */
  | { t: "refused"; why: string };

const STR: Field = { t: "string" };
const INT: Field = { t: "int" };
const BOOL: Field = { t: "bool" };
const QTY: Field = { t: "quantity" };
const STRMAP: Field = { t: "strmap" };
const map = (keys: Record<string, Field>): Field => ({ t: "map", keys });
const list = (of: Field): Field => ({ t: "list", of });
const noted = (why: string): Field => ({ t: "noted", why });
const refused = (why: string): Field => ({ t: "refused", why });

/** Volumes: podunit's spec has none yet; a manifest using them is refused until it has. */
export const PENDING_VOLUMES = refused("volumes are not supported yet: podunit's pod spec has no volumes; remove the volume and its mounts");
/** Health checks: podunit's spec has none yet; a manifest using probes is refused until it has. */
export const PENDING_HEALTH = refused("probes are not supported yet: podunit's pod spec has no health checks; remove the probe");
const SCHEDULING = refused("scheduling does not apply: a pod played here runs on this machine");
const SERVICE_ACCOUNT = refused("there is no Kubernetes API or service account on this machine");

const KEY_REF = map({ name: STR, key: STR, optional: BOOL });
const SOURCE_REF = map({ name: STR, optional: BOOL });

const ENV_VAR = map({
  name: STR,
  value: STR,
  valueFrom: map({
    configMapKeyRef: KEY_REF,
    secretKeyRef: KEY_REF,
    fieldRef: refused("the downward API is not supported: write the value"),
    resourceFieldRef: refused("the downward API is not supported: write the value"),
  }),
});

const CONTAINER: Field = map({
  name: STR,
  image: STR,
  command: list(STR),
  args: list(STR),
  env: list(ENV_VAR),
  envFrom: list(map({ prefix: STR, configMapRef: SOURCE_REF, secretRef: SOURCE_REF })),
  workingDir: STR,
  ports: list(map({ containerPort: INT, hostPort: INT, hostIP: STR, protocol: STR, name: STR })),
  resources: map({
    limits: map({ memory: QTY, cpu: QTY }),
    requests: noted("requests are a scheduler's reservation; podunit enforces limits only"),
  }),
  securityContext: map({
    runAsUser: INT,
    runAsGroup: INT,
    readOnlyRootFilesystem: BOOL,
    allowPrivilegeEscalation: BOOL,
    privileged: refused("there are no privileged members: every member keeps at most runc's default capabilities"),
    capabilities: refused("capabilities are not supported yet: every member keeps runc's default capabilities"),
    seccompProfile: refused("seccomp profiles are not supported yet: members run with runc's default"),
    runAsNonRoot: refused("podunit cannot promise a non-root user without runAsUser; set runAsUser instead"),
  }),
  imagePullPolicy: STR,
  terminationMessagePath: noted("a member's last words are in its journal (podunit logs)"),
  terminationMessagePolicy: noted("a member's last words are in its journal (podunit logs)"),
  volumeMounts: PENDING_VOLUMES,
  volumeDevices: refused("block devices are not supported"),
  livenessProbe: PENDING_HEALTH,
  readinessProbe: PENDING_HEALTH,
  startupProbe: PENDING_HEALTH,
  lifecycle: refused("lifecycle hooks are not supported; run the work in the member's command or in an init container"),
  restartPolicy: refused("restartable init containers (sidecars) are not supported; make the sidecar a regular container"),
  stdin: refused("members have no standard input"),
  stdinOnce: refused("members have no standard input"),
  tty: refused("members have no terminal"),
  resizePolicy: refused("resizing a running member is not supported"),
});

const POD_SPEC: Field = map({
  containers: list(CONTAINER),
  initContainers: list(CONTAINER),
  restartPolicy: STR,
  hostname: STR,
  hostNetwork: BOOL,
  hostIPC: BOOL,
  hostPID: BOOL,
  shareProcessNamespace: BOOL,
  terminationGracePeriodSeconds: INT,
  resources: map({ limits: map({ memory: QTY, cpu: QTY }), requests: noted("requests are a scheduler's reservation; podunit enforces limits only") }),
  securityContext: map({ runAsUser: INT, runAsGroup: INT }),
  volumes: PENDING_VOLUMES,
  dnsPolicy: noted("the pod uses this machine's resolver (bridged pods also resolve other pods by name)"),
  enableServiceLinks: noted("there are no Kubernetes services on this machine"),
  automountServiceAccountToken: noted("there is no service account token on this machine"),
  schedulerName: noted("scheduling does not apply: a pod played here runs on this machine"),
  nodeSelector: SCHEDULING,
  nodeName: SCHEDULING,
  affinity: SCHEDULING,
  tolerations: SCHEDULING,
  topologySpreadConstraints: SCHEDULING,
  priorityClassName: SCHEDULING,
  priority: SCHEDULING,
  runtimeClassName: refused("runtime classes are not supported: members run under runc"),
  serviceAccountName: SERVICE_ACCOUNT,
  serviceAccount: SERVICE_ACCOUNT,
  imagePullSecrets: refused("credentials come from 'podunit login', not from the manifest"),
  subdomain: refused("there is no cluster DNS: a pod's name is its hostname"),
  setHostnameAsFQDN: refused("there is no cluster DNS: a pod's name is its hostname"),
  hostAliases: refused("extra /etc/hosts entries are not supported"),
  dnsConfig: refused("a custom resolver configuration is not supported"),
  activeDeadlineSeconds: refused("a deadline for the whole pod is not supported"),
  ephemeralContainers: refused("ephemeral containers are not supported; use 'podunit exec'"),
  os: refused("the pod runs on this machine's operating system"),
  hostUsers: refused("user namespaces are not supported yet"),
  readinessGates: refused("readiness gates are not supported"),
  overhead: refused("pod overhead is not supported"),
});

const META = map({
  name: STR,
  namespace: noted("podunit has no namespaces: pod names are unique on this machine"),
  labels: noted("labels have no meaning to podunit and are not kept"),
  annotations: STRMAP,
  uid: noted("the cluster's identity of the object is not kept"),
  resourceVersion: noted("the cluster's version of the object is not kept"),
  creationTimestamp: noted("the cluster's record of the object is not kept"),
  generation: noted("the cluster's record of the object is not kept"),
  generateName: refused("a pod played here needs a name: set metadata.name or pass --name"),
});

const TEMPLATE = map({ metadata: META, spec: POD_SPEC });
const STATUS = noted("status is the cluster's report, not part of the request");
const SELECTOR = noted("a selector picks pods on a cluster; the one pod played here is the template's");
const STRATEGY = noted("an update strategy applies to a cluster; 'podunit restart' replaces the pod here");

/** The kinds `kube play` reads, each with its fields; ConfigMap and Secret feed the pod's environment. */
export const KINDS: Readonly<Record<string, { apiVersion: string; fields: Field }>> = {
  Pod: { apiVersion: "v1", fields: map({ apiVersion: STR, kind: STR, metadata: META, spec: POD_SPEC, status: STATUS }) },
  Deployment: {
    apiVersion: "apps/v1",
    fields: map({
      apiVersion: STR,
      kind: STR,
      metadata: META,
      spec: map({ replicas: INT, selector: SELECTOR, template: TEMPLATE, strategy: STRATEGY, revisionHistoryLimit: noted("there is no rollout history here"), progressDeadlineSeconds: noted("there is no rollout here"), minReadySeconds: refused("readiness is not supported yet"), paused: refused("a paused rollout is not supported") }),
      status: STATUS,
    }),
  },
  StatefulSet: {
    apiVersion: "apps/v1",
    fields: map({
      apiVersion: STR,
      kind: STR,
      metadata: META,
      spec: map({ replicas: INT, selector: SELECTOR, template: TEMPLATE, serviceName: noted("there are no Kubernetes services on this machine"), updateStrategy: STRATEGY, podManagementPolicy: noted("one pod is played"), revisionHistoryLimit: noted("there is no rollout history here"), volumeClaimTemplates: PENDING_VOLUMES, persistentVolumeClaimRetentionPolicy: PENDING_VOLUMES, minReadySeconds: refused("readiness is not supported yet"), ordinals: noted("one pod is played") }),
      status: STATUS,
    }),
  },
  Job: {
    apiVersion: "batch/v1",
    fields: map({
      apiVersion: STR,
      kind: STR,
      metadata: META,
      spec: map({ template: TEMPLATE, completions: INT, parallelism: INT, backoffLimit: noted("retries follow the template's restartPolicy (systemd's restart limit)"), ttlSecondsAfterFinished: noted("a finished pod stays until 'podunit stop'"), selector: SELECTOR, manualSelector: noted("a selector picks pods on a cluster"), activeDeadlineSeconds: refused("a deadline for the job is not supported"), suspend: refused("a suspended job is not supported"), completionMode: refused("indexed jobs are not supported"), podFailurePolicy: refused("pod failure policies are not supported") }),
      status: STATUS,
    }),
  },
  ConfigMap: { apiVersion: "v1", fields: map({ apiVersion: STR, kind: STR, metadata: META, data: STRMAP, binaryData: refused("binary values cannot be environment values; as files they need volumes, which are not supported yet"), immutable: noted("a value played here is fixed in the spec") }) },
  Secret: { apiVersion: "v1", fields: map({ apiVersion: STR, kind: STR, metadata: META, data: STRMAP, stringData: STRMAP, type: STR, immutable: noted("a value played here is fixed in the spec") }) },
};
