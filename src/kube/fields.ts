/**
 * The fields `kube play` reads, as one table: every field podunit maps, every
 * field it accepts without effect (a note says so), and every field it refuses
 * with the reason. A field not in the table is refused as unsupported: nothing
 * in a manifest is dropped in silence. docs/kubernetes.md is this table in prose.
 */

/** What a field may be. */
export type Field =
  | { t: "string" }
  | { t: "int" }
  | { t: "bool" }
  /** A Kubernetes quantity: a string such as "512Mi" or "500m", or a number. */
  | { t: "quantity" }
  /** A port: its number, or the name of one of the container's ports. */
  | { t: "port" }
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

const PORT: Field = { t: "port" };
const SCHEDULING = refused("scheduling does not apply: a pod played here runs on this machine");
const SERVICE_ACCOUNT = refused("there is no Kubernetes API or service account on this machine");

const KEY_REF = map({ name: STR, key: STR, optional: BOOL });
const SOURCE_REF = map({ name: STR, optional: BOOL });

/** One probe; all three of a container must run the same check (podunit's one health check, see probes.ts). */
const PROBE = map({
  exec: map({ command: list(STR) }),
  httpGet: map({
    path: STR,
    port: PORT,
    scheme: STR,
    host: refused("the check runs inside the pod's network namespace here, at 127.0.0.1; leave host out"),
    httpHeaders: refused("a check's request has no extra headers here"),
  }),
  tcpSocket: map({ port: PORT, host: refused("the check runs inside the pod's network namespace here, at 127.0.0.1; leave host out") }),
  grpc: refused("gRPC checks are not supported; use exec with a client, httpGet or tcpSocket"),
  initialDelaySeconds: INT,
  periodSeconds: INT,
  timeoutSeconds: INT,
  successThreshold: INT,
  failureThreshold: INT,
  terminationGracePeriodSeconds: refused("a probe's own grace period is not supported; the pod's terminationGracePeriodSeconds applies"),
});

const CAPABILITIES = map({ add: list(STR), drop: list(STR) });
const SECCOMP = map({ type: STR, localhostProfile: refused("a profile file of the node is not supported: podunit has its default filter or none") });

const VOLUME_MOUNT = map({
  name: STR,
  mountPath: STR,
  readOnly: BOOL,
  recursiveReadOnly: STR,
  subPath: refused("a mount of part of a volume is not supported; mount the volume, or make the part a volume of its own"),
  subPathExpr: refused("a mount of part of a volume is not supported; mount the volume, or make the part a volume of its own"),
  mountPropagation: refused("mount propagation is not supported: podunit's mounts are private"),
});
const FILE_ITEMS = list(map({ key: STR, path: STR, mode: INT }));
const NO_SUCH_VOLUME = (what: string) => refused(`${what} volumes are not supported; podunit's volumes are persistent (persistentVolumeClaim), scratch and tmpfs (emptyDir), host (hostPath), and files of a ConfigMap or Secret of the same file`);
const VOLUME = map({
  name: STR,
  persistentVolumeClaim: map({ claimName: STR, readOnly: refused("a read-only claim is not supported; set readOnly on the volumeMounts") }),
  emptyDir: map({ medium: STR, sizeLimit: QTY }),
  hostPath: map({ path: STR, type: STR }),
  configMap: map({ name: STR, items: FILE_ITEMS, defaultMode: INT, optional: BOOL }),
  secret: map({ secretName: STR, items: FILE_ITEMS, defaultMode: INT, optional: BOOL }),
  projected: NO_SUCH_VOLUME("projected"),
  downwardAPI: NO_SUCH_VOLUME("downward API"),
  ephemeral: NO_SUCH_VOLUME("ephemeral"),
  image: NO_SUCH_VOLUME("image"),
  nfs: NO_SUCH_VOLUME("NFS"),
  csi: NO_SUCH_VOLUME("CSI"),
  iscsi: NO_SUCH_VOLUME("iSCSI"),
});
const CLAIM_TEMPLATE = map({
  apiVersion: STR,
  kind: STR,
  metadata: map({ name: STR, labels: noted("labels have no meaning to podunit and are not kept"), annotations: noted("a claim's annotations have no meaning to podunit") }),
  spec: map({
    accessModes: noted("one pod on one machine uses the volume"),
    resources: noted("a persistent volume here has no size: it has what its file system has"),
    storageClassName: noted("a persistent volume here is a directory below /var/lib/podunit/volumes"),
    volumeMode: STR,
    dataSource: refused("a volume filled from another is not supported"),
    dataSourceRef: refused("a volume filled from another is not supported"),
    selector: refused("there are no persistent volumes to select from here"),
    volumeName: refused("there are no persistent volumes to bind here"),
  }),
  status: noted("status is the cluster's report, not part of the request"),
});

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
    privileged: refused("there are no privileged members: add the capabilities the member needs"),
    capabilities: CAPABILITIES,
    seccompProfile: SECCOMP,
    runAsNonRoot: refused("podunit cannot promise a non-root user without runAsUser; set runAsUser instead"),
  }),
  imagePullPolicy: STR,
  terminationMessagePath: noted("a member's last words are in its journal (podunit logs)"),
  terminationMessagePolicy: noted("a member's last words are in its journal (podunit logs)"),
  volumeMounts: list(VOLUME_MOUNT),
  volumeDevices: refused("block devices are not supported"),
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  startupProbe: PROBE,
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
  securityContext: map({
    runAsUser: INT,
    runAsGroup: INT,
    seccompProfile: SECCOMP,
    fsGroup: refused("a group for every volume is not supported; podunit sets a volume's owner with the annotation volume-owner.podunit.io/VOLUME (\"UID:GID\")"),
  }),
  volumes: list(VOLUME),
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
  runtimeClassName: STR,
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
  hostUsers: BOOL,
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

/** The kinds `kube play` reads, each with its fields; ConfigMap and Secret feed the pod's environment and file volumes. */
export const KINDS: Readonly<Record<string, { apiVersion: string; fields: Field }>> = {
  Pod: { apiVersion: "v1", fields: map({ apiVersion: STR, kind: STR, metadata: META, spec: POD_SPEC, status: STATUS }) },
  Deployment: {
    apiVersion: "apps/v1",
    fields: map({
      apiVersion: STR,
      kind: STR,
      metadata: META,
      spec: map({ replicas: INT, selector: SELECTOR, template: TEMPLATE, strategy: STRATEGY, revisionHistoryLimit: noted("there is no rollout history here"), progressDeadlineSeconds: noted("there is no rollout here"), minReadySeconds: refused("there is no rollout to wait for here"), paused: refused("a paused rollout is not supported") }),
      status: STATUS,
    }),
  },
  StatefulSet: {
    apiVersion: "apps/v1",
    fields: map({
      apiVersion: STR,
      kind: STR,
      metadata: META,
      spec: map({ replicas: INT, selector: SELECTOR, template: TEMPLATE, serviceName: noted("there are no Kubernetes services on this machine"), updateStrategy: STRATEGY, podManagementPolicy: noted("one pod is played"), revisionHistoryLimit: noted("there is no rollout history here"), volumeClaimTemplates: list(CLAIM_TEMPLATE), persistentVolumeClaimRetentionPolicy: noted("a persistent volume's data stays until 'podunit volume rm'"), minReadySeconds: refused("there is no rollout to wait for here"), ordinals: noted("one pod is played") }),
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
  ConfigMap: { apiVersion: "v1", fields: map({ apiVersion: STR, kind: STR, metadata: META, data: STRMAP, binaryData: refused("binary values are not supported in a ConfigMap; put them in a Secret's data"), immutable: noted("a value played here is fixed in the spec") }) },
  Secret: { apiVersion: "v1", fields: map({ apiVersion: STR, kind: STR, metadata: META, data: STRMAP, stringData: STRMAP, type: STR, immutable: noted("a value played here is fixed in the spec") }) },
};
