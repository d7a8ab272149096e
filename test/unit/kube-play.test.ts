/**
 * `kube play`'s refusals: every unsupported or invalid field is named by its path
 * and line, nothing is written; and what a hand-written manifest becomes. Pure.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateManifest, ManifestError, playManifest } from "../../src/kube/index.ts";
import { parseSpec } from "../../src/podspec/parse.ts";

const POD = (containerExtra: string, podExtra = "") => `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:${podExtra}
  containers:
    - name: app
      image: busybox
      command: ["/bin/sh"]${containerExtra}
`;

/** [what, manifest, path, line]: each must be refused with exactly that path at that line. */
const REFUSED: [string, string, string, number][] = [
  ["a preStop hook", POD("\n      lifecycle:\n        preStop:\n          exec:\n            command: [x]"), "spec.containers[0].lifecycle", 10],
  ["probes that run different checks (podunit has one)", POD("\n      livenessProbe:\n        httpGet: {path: /, port: 80}\n      readinessProbe:\n        tcpSocket: {port: 80}"), "spec.containers[0].readinessProbe", 12],
  ["a gRPC probe", POD("\n      readinessProbe:\n        grpc: {port: 80}"), "spec.containers[0].readinessProbe.grpc", 11],
  ["an https probe", POD("\n      livenessProbe:\n        httpGet: {path: /, port: 80, scheme: HTTPS}"), "spec.containers[0].livenessProbe.httpGet.scheme", 11],
  ["a probe of another host", POD("\n      livenessProbe:\n        tcpSocket: {port: 80, host: 10.0.0.1}"), "spec.containers[0].livenessProbe.tcpSocket.host", 11],
  ["a probe port by a name the container lacks", POD("\n      livenessProbe:\n        tcpSocket:\n          port: web"), "spec.containers[0].livenessProbe.tcpSocket.port", 12],
  ["a success threshold above 1", POD("\n      readinessProbe:\n        exec: {command: [/bin/true]}\n        successThreshold: 2"), "spec.containers[0].readinessProbe.successThreshold", 12],
  ["a mount of a volume the pod lacks", POD("\n      volumeMounts:\n        - {name: d, mountPath: /d}"), "spec.containers[0].volumeMounts[0].name", 11],
  ["a mount of part of a volume", POD("\n      volumeMounts:\n        - name: d\n          mountPath: /d\n          subPath: x", "\n  volumes:\n    - {name: d, emptyDir: {}}"), "spec.containers[0].volumeMounts[0].subPath", 15],
  ["an emptyDir in memory without a size", POD("", "\n  volumes:\n    - name: d\n      emptyDir: {medium: Memory}"), "spec.volumes[0].emptyDir.medium", 8],
  ["an emptyDir on disk with a size limit", POD("", "\n  volumes:\n    - name: d\n      emptyDir:\n        sizeLimit: 1Gi"), "spec.volumes[0].emptyDir.sizeLimit", 9],
  ["a hostPath podunit would have to create", POD("", "\n  volumes:\n    - name: h\n      hostPath:\n        path: /srv/h\n        type: DirectoryOrCreate"), "spec.volumes[0].hostPath.type", 10],
  ["an NFS volume", POD("", "\n  volumes:\n    - name: n\n      nfs: {server: nas, path: /x}"), "spec.volumes[0].nfs", 8],
  ["a Secret volume whose Secret is not in the file", POD("", "\n  volumes:\n    - name: s\n      secret:\n        secretName: tls"), "spec.volumes[0].secret.secretName", 9],
  ["a claim template of a block device", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: busybox}]\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec:\n        volumeMode: Block\n", "spec.volumeClaimTemplates[0].spec.volumeMode", 12],
  ["a Localhost seccomp profile", POD("\n      securityContext:\n        seccompProfile:\n          type: Localhost"), "spec.containers[0].securityContext.seccompProfile.type", 12],
  ["fsGroup", POD("", "\n  securityContext:\n    fsGroup: 2000"), "spec.securityContext.fsGroup", 7],
  ["an unknown container field", POD("\n      imagePulPolicy: Always"), "spec.containers[0].imagePulPolicy", 10],
  ["privileged", POD("\n      securityContext:\n        privileged: true"), "spec.containers[0].securityContext.privileged", 11],
  ["an unknown capability", POD("\n      securityContext:\n        capabilities:\n          add: [NET_ADMIN, CAP_FLY]"), "spec.containers[0].securityContext.capabilities.add[1]", 12],
  ["a node selector", POD("", "\n  nodeSelector: {disk: ssd}"), "spec.nodeSelector", 6],
  ["tolerations", POD("", "\n  tolerations: []"), "spec.tolerations", 6],
  ["a service account", POD("", "\n  serviceAccountName: builder"), "spec.serviceAccountName", 6],
  ["image pull secrets", POD("", "\n  imagePullSecrets: [{name: reg}]"), "spec.imagePullSecrets", 6],
  ["a tty", POD("\n      tty: true"), "spec.containers[0].tty", 10],
  ["an imagePullPolicy that is none of the three", POD("\n      imagePullPolicy: Sometimes"), "spec.containers[0].imagePullPolicy", 10],
  ["SCTP", POD("\n      ports:\n        - containerPort: 80\n          protocol: SCTP"), "spec.containers[0].ports[0].protocol", 12],
  ["a memory limit that is not a quantity", POD("\n      resources:\n        limits:\n          memory: lots"), "spec.containers[0].resources.limits.memory", 12],
  ["ephemeral storage", POD("\n      resources:\n        limits:\n          ephemeral-storage: 1Gi"), "spec.containers[0].resources.limits.ephemeral-storage", 12],
  ["a string where a number goes", POD("\n      securityContext:\n        runAsUser: root"), "spec.containers[0].securityContext.runAsUser", 11],
  ["the downward API", POD("\n      env:\n        - name: POD\n          valueFrom:\n            fieldRef: {fieldPath: metadata.name}"), "spec.containers[0].env[0].valueFrom.fieldRef", 13],
  ["a ConfigMap that is not in the file", POD("\n      envFrom:\n        - configMapRef: {name: missing}"), "spec.containers[0].envFrom[0].configMapRef.name", 11],
  ["$(VAR) expansion of a defined variable", POD("\n      args: [\"$(A)\"]\n      env: [{name: A, value: x}]"), "spec.containers[0].args[0]", 10],
  ["a container name that is no member name", POD("").replace("name: app", "name: App_1"), "spec.containers[0].name", 7],
  ["two replicas", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{name: a, image: busybox}]\n", "spec.replicas", 6],
  ["a Job with parallelism", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  parallelism: 3\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: busybox}]\n", "spec.parallelism", 6],
  ["a Service", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n", "kind", 2],
  ["a wrong apiVersion", POD("").replace("apiVersion: v1", "apiVersion: v2"), "apiVersion", 1],
  ["a runtime class podunit does not run", POD("", "\n  runtimeClassName: kata"), "spec.runtimeClassName", 6],
  ["a sidecar init container", POD("", "\n  initContainers:\n    - name: side\n      image: busybox\n      restartPolicy: Always"), "spec.initContainers[0].restartPolicy", 9],
  ["a hostPort on the host's network that differs", POD("\n      ports: [{containerPort: 80, hostPort: 8080}]", "\n  hostNetwork: true"), "spec.containers[0].ports[0].hostPort", 11],
  ["two pods in one file", POD("") + "---\n" + POD("").replace("name: web", "name: two"), "kind", 12],
  ["a Secret value that is not base64", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  K: not*base64\n---\n" + POD("\n      envFrom: [{secretRef: {name: s}}]"), "data.K", 6],
];

describe("refused manifests name the path and the line", () => {
  for (const [what, yaml, path, line] of REFUSED) {
    test(what, () => {
      let err: unknown;
      try {
        playManifest(yaml, "/tmp/m.yaml");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ManifestError);
      const issues = (err as ManifestError).issues.map((i) => `${i.path}@${i.line}`);
      expect(issues).toContain(`${path}@${line}`);
      expect((err as ManifestError).message).toContain(`/tmp/m.yaml:${line}:`);
    });
  }
  test("at least 20 cases", () => expect(REFUSED.length).toBeGreaterThanOrEqual(20));
  test("a Secret's value is never in a message", () => {
    const yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  'BAD KEY': hunter2-secret\n---\n" + POD("\n      envFrom: [{secretRef: {name: s}}]");
    expect(() => playManifest(yaml, "/tmp/m.yaml")).toThrow(ManifestError);
    try {
      playManifest(yaml, "/tmp/m.yaml");
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2");
    }
  });
  test("YAML syntax errors have their line", () => {
    expect(() => playManifest("kind: Pod\nspec: [\n", "/tmp/m.yaml")).toThrow(/\/tmp\/m\.yaml:3:\d+: YAML syntax/);
  });
});

describe("a manifest in the style of the Kubernetes documentation", () => {
  const file = join(import.meta.dir, "../fixtures/kube/manifests/docs-style.yaml");
  const played = playManifest(readFileSync(file, "utf8"), file);
  const spec = parseSpec(played.toml, "/etc/podunit/pods/shop.toml");
  test("becomes the Deployment's pod: init member, server, sidecar, published port, limits", () => {
    expect(played.name).toBe("shop");
    expect(played.from).toBe("Deployment 'shop'");
    expect(spec.members.map((m) => `${m.name}:${m.kind}:${m.restart}`)).toEqual(["prepare:init:on-failure", "web:service:always", "sidecar:service:always"]);
    expect(spec.network).toBe("bridge");
    expect(spec.ports).toEqual([{ hostPort: 18080, podPort: 8080, protocol: "tcp" }]);
    const web = spec.members[1]!;
    expect(web.limits).toEqual({ memoryMax: 64n << 20n, cpuQuota: 50 });
    expect(web.env).toEqual({ GREETING: "hello from the pod", LOG_LEVEL: "info", API_TOKEN: "s3cr3t-token-42\n" });
  });
  test("holds a Secret's value, so it is written for root only", () => expect(played.secret).toBe(true));
  test("the shared emptyDir is a scratch volume both members mount; the probes are one http check; the ConfigMap volume is a file", () => {
    expect(spec.volumes).toEqual([{ name: "shared", type: "scratch" }, { name: "config", type: "host", path: "/etc/podunit/pods/shop.files/config" }]);
    expect(spec.members.map((m) => m.mounts)).toEqual([[{ volume: "config", path: "/etc/web", readonly: true }], [{ volume: "shared", path: "/shared", readonly: false }], [{ volume: "shared", path: "/shared", readonly: true }]]);
    expect(spec.members[1]!.health).toMatchObject({ check: { kind: "http", port: 8080, path: "/" }, interval: 2_000_000n, retries: 3 });
    expect(played.files).toEqual([{ volume: "config", dir: "/etc/podunit/pods/shop.files/config", secret: false, files: [{ path: "GREETING", data: Buffer.from("hello from the pod"), mode: 0o644 }] }]);
  });

  test("notes what it does not keep, with the line", () => {
    const notes = played.notes.map((n) => `${n.path}@${n.line}`);
    expect(notes).toContain("metadata.labels@23");
    expect(notes).toContain("spec.selector@27");
    expect(notes).toContain("spec.template.spec.containers[0].resources.requests@74");
    expect(notes).toContain("spec.template.spec.containers[1].ports[0].containerPort@83");
    expect(notes).toContain("spec.template.spec.containers[1].volumeMounts[0].readOnly@87");
    expect(played.notes.find((n) => n.path.endsWith("ports[0].containerPort"))!.message).toContain("not published");
  });
});

describe("what the new mappings become", () => {
  const play = (yaml: string) => playManifest(yaml, "/tmp/m.yaml");
  const member = (yaml: string) => parseSpec(play(yaml).toml, "/etc/podunit/pods/web.toml").members[0]!;
  test("runtimeClassName crun or runc is the pod's runtime; a member's own runtime is podunit's annotation", () => {
    expect(parseSpec(play(POD("", "\n  runtimeClassName: runc")).toml, "/etc/podunit/pods/web.toml").runtime).toBe("runc");
    const annotated = POD("", "\n  runtimeClassName: crun").replace("  name: web\n", "  name: web\n  annotations:\n    runtime.podunit.io/app: runc\n");
    const spec = parseSpec(play(annotated).toml, "/etc/podunit/pods/web.toml");
    expect([spec.runtime, spec.members[0]!.runtime]).toEqual(["crun", "runc"]);
    // And back: generate writes both.
    const m = generateManifest(spec).manifest as { metadata: { annotations: Record<string, string> }; spec: { runtimeClassName?: string } };
    expect([m.spec.runtimeClassName, m.metadata.annotations["runtime.podunit.io/app"]]).toEqual(["crun", "runc"]);
  });
  test("an untagged image is pulled always (a cluster's default), a tagged one when missing, unless the manifest says", () => {
    expect(member(POD("")).pull).toBe("always");
    expect(member(POD("").replace("image: busybox", "image: busybox:1.36")).pull).toBe("missing");
    expect(member(POD("\n      imagePullPolicy: Never")).pull).toBe("never");
  });
  test("seccomp from the container or the pod; RuntimeDefault is podunit's default", () => {
    expect(member(POD("", "\n  securityContext:\n    seccompProfile: {type: Unconfined}")).seccomp).toBe("unconfined");
    expect(member(POD("\n      securityContext:\n        seccompProfile: {type: RuntimeDefault}", "\n  securityContext:\n    seccompProfile: {type: Unconfined}")).seccomp).toBeUndefined();
  });
  test("capabilities: drop ALL says the whole set; without it a note says runc's set is the base", () => {
    expect(member(POD("\n      securityContext:\n        capabilities: {drop: [ALL], add: [CAP_NET_RAW, chown]}")).capabilities).toEqual(["CAP_CHOWN", "CAP_NET_RAW"]);
    const p = play(POD("\n      securityContext:\n        capabilities: {add: [NET_ADMIN]}"));
    expect(parseSpec(p.toml, "/etc/podunit/pods/web.toml").members[0]!.capabilities).toEqual(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE"]);
    expect(p.notes.map((n) => n.path)).toContain("spec.containers[0].securityContext.capabilities");
  });
  test("a readiness probe alone is the check, and a note says it also restarts; a startup probe bounds the start", () => {
    const p = play(POD("\n      readinessProbe:\n        tcpSocket: {port: 80}\n        periodSeconds: 4\n      startupProbe:\n        tcpSocket: {port: 80}\n        periodSeconds: 5\n        failureThreshold: 12"));
    expect(parseSpec(p.toml, "/etc/podunit/pods/web.toml").members[0]!.health).toMatchObject({ check: { kind: "tcp", host: "127.0.0.1", port: 80 }, interval: 4_000_000n, startupTimeout: 60_000_000n });
    expect(p.notes.find((n) => n.path === "spec.containers[0].readinessProbe")!.message).toContain("restart the member");
  });
  test("a StatefulSet's claim templates are persistent volumes; a Secret volume is files readable by root only, and no value is in the spec", () => {
    const yaml = `apiVersion: v1
kind: Secret
metadata: {name: tls}
stringData: {key.pem: hunter2-secret}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      containers:
        - name: a
          image: busybox:1
          volumeMounts: [{name: data, mountPath: /data}, {name: tls, mountPath: /tls}]
      volumes:
        - name: tls
          secret: {secretName: tls, defaultMode: 0444}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
`;
    const p = playManifest(yaml, "/tmp/m.yaml", { filesDir: (n) => `/srv/specs/${n}.files` });
    const s = parseSpec(p.toml, "/etc/podunit/pods/db.toml");
    expect(s.volumes).toEqual([{ name: "tls", type: "host", path: "/srv/specs/db.files/tls" }, { name: "data", type: "persistent" }]);
    expect(s.members[0]!.mounts).toEqual([{ volume: "data", path: "/data", readonly: false }, { volume: "tls", path: "/tls", readonly: true }]);
    expect(p.files).toEqual([{ volume: "tls", dir: "/srv/specs/db.files/tls", secret: true, files: [{ path: "key.pem", data: Buffer.from("hunter2-secret"), mode: 0o400 }] }]);
    expect(p.toml).not.toContain("hunter2");
    expect(p.secret).toBe(false);
  });
});
