/**
 * The round trip between pod specs and Kubernetes manifests, both ways:
 * play(generate(spec)) plans the same pod for every good fixture a cluster can
 * run (test/fixtures/specs/good and test/fixtures/kube/specs); generate(play(m))
 * gives back a manifest's supported fields; every generated manifest passes
 * Kubernetes 1.34's published schema (kubernetes-models). Pure.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Pod } from "kubernetes-models/v1/Pod";
import { ClusterRefusal, generateManifest, playManifest, TARGET, writeYaml } from "../../src/kube/index.ts";
import { readYaml } from "../../src/kube/yaml.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { plan } from "../../src/plan/plan.ts";
import { HOST, TEST_IMAGES } from "./plan-helpers.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");
const specFiles = (dir: string) => readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith(".toml")).map((f) => join(FIXTURES, dir, f));
const asPod = (f: string) => `/etc/podunit/pods/${f.slice(f.lastIndexOf("/") + 1)}`;

/** The plan as data, without the spec file's path (the played spec is another file). */
function planOf(text: string, file: string): unknown {
  const spec = parseSpec(text, file);
  const userns = { start: 0x70000000, size: 65536 };
  return JSON.parse(JSON.stringify(plan({ ...spec, file: "-" }, HOST, { images: TEST_IMAGES, userns }), (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
}

/** Throws, with the schema's message, when the manifest is not a valid v1 Pod. */
function validatePod(manifest: Record<string, unknown>): void {
  new Pod(manifest as ConstructorParameters<typeof Pod>[0]).validate();
}

test("the schema package is the target version's", () => {
  expect(TARGET).toBe("1.34");
  // kubernetes-models 5.1 carries Kubernetes 1.34's API: PodSpec has hostnameOverride (new in 1.34) and pod-level resources.
  const source = readFileSync(join(import.meta.dir, "../../node_modules/kubernetes-models/_schemas/IoK8sApiCoreV1PodSpec.js"), "utf8");
  expect(source).toContain('"hostnameOverride"');
  expect(source).toContain('"resources"');
  expect(() => validatePod({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" }, spec: { containers: [{ name: "a", image: "b", securityContext: { runAsUser: "0" } }] } })).toThrow("runAsUser must be integer");
});

describe("play(generate(spec)) plans the same pod", () => {
  const cluster = specFiles("kube/specs");
  const good = specFiles("specs/good");
  for (const file of [...cluster, ...good]) {
    const name = file.slice(FIXTURES.length + 1);
    test(name, () => {
      const text = readFileSync(file, "utf8");
      const spec = parseSpec(text, asPod(file));
      let manifest: Record<string, unknown>;
      try {
        manifest = generateManifest(spec).manifest;
      } catch (e) {
        // The wave-1 fixtures run members on the host's file system: no cluster can. The kube fixtures must all go.
        expect(e).toBeInstanceOf(ClusterRefusal);
        expect(cluster).not.toContain(file);
        expect((e as ClusterRefusal).issues.every((i) => /^containers\.[a-z0-9-]+\.[a-z_]+$|^(share|hostname|containers)$/.test(i.path))).toBe(true);
        return;
      }
      validatePod(manifest);
      const yaml = writeYaml([manifest]);
      const played = playManifest(yaml, `/tmp/${spec.name}.yaml`);
      expect(played.notes).toEqual([]);
      expect(planOf(played.toml, asPod(file))).toEqual(planOf(text, asPod(file)));
    });
  }
  test("every kube fixture and at least one wave-1 fixture go to a cluster", () => {
    expect(cluster.length).toBeGreaterThanOrEqual(4);
    const going = good.filter((f) => {
      try {
        generateManifest(parseSpec(readFileSync(f, "utf8"), asPod(f)));
        return true;
      } catch {
        return false;
      }
    });
    expect(going.length + cluster.length).toBeGreaterThanOrEqual(4);
  });
});

describe("generate(play(manifest)) gives back the manifest's supported fields", () => {
  const dir = join(FIXTURES, "kube/manifests");
  for (const f of readdirSync(dir).filter((x) => x.startsWith("canonical-"))) {
    test(f, () => {
      const text = readFileSync(join(dir, f), "utf8");
      const played = playManifest(text, join(dir, f));
      const again = generateManifest(parseSpec(played.toml, `/etc/podunit/pods/${played.name}.toml`)).manifest;
      validatePod(again);
      expect(again).toEqual(readYaml(text, f).docs[0]!.value as Record<string, unknown>);
    });
  }
});

describe("generate refuses a check a cluster cannot run as the spec says", () => {
  const spec = (health: string) => parseSpec(`[containers.app]\nimage = "busybox"\n\n[containers.app.health]\n${health}\n`, "/etc/podunit/pods/hc.toml");
  test("times that are not whole seconds, an address other than the pod's own; --lossy leaves the check out", () => {
    let err: unknown;
    try {
      generateManifest(spec(`http = "http://10.0.0.5:80/"\ninterval = "500ms"\ntimeout = "250ms"`));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClusterRefusal);
    expect((err as ClusterRefusal).issues.map((i) => i.path).sort()).toEqual(["containers.app.health.http", "containers.app.health.interval", "containers.app.health.timeout"]);
    const lossy = generateManifest(spec(`tcp = "127.0.0.1:80"\ninterval = "1500ms"`), { lossy: true });
    const c = (lossy.manifest.spec as { containers: Record<string, unknown>[] }).containers[0]!;
    expect(c.livenessProbe).toBeUndefined();
    validatePod(lossy.manifest);
  });
});
