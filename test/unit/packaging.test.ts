/**
 * The single binary and the .deb: `make deb` builds both; `podunit system
 * install --root` into an empty directory writes the package's file list
 * (`dpkg-deb -c`) but for what only a package has; man finds both pages in
 * that tree; a second install changes nothing; uninstall leaves pod specs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };

const REPO = join(import.meta.dir, "../..");
const BIN = join(REPO, "dist/podunit");
const DEB = join(REPO, `dist/podunit_${pkg.version}_amd64.deb`);
/** What the package has that an install does not: its changelog and lintian's overrides (docs/packaging.md). */
const PACKAGE_ONLY = ["./usr/share/doc/podunit/changelog.gz", "./usr/share/lintian/", "./usr/share/lintian/overrides/", "./usr/share/lintian/overrides/podunit"];

let root: string;

function run(argv: string[], env: Record<string, string> = {}): string {
  const r = Bun.spawnSync(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

/** Entries below `dir` as dpkg-deb -c names them: `./path`, directories with a trailing slash, links with their target. */
function tree(dir: string): string[] {
  const out = ["./"];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const rel = `./${join(e.parentPath.slice(dir.length), e.name).replace(/^\//, "")}`;
    out.push(e.isDirectory() ? `${rel}/` : e.isSymbolicLink() ? `${rel} -> ${run(["readlink", join(e.parentPath, e.name)]).trim()}` : rel);
  }
  return out.sort();
}

beforeAll(() => {
  run(["make", "-s", "deb"]);
  root = mkdtempSync(join(tmpdir(), "podunit-packaging-"));
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("podunit system install --root", () => {
  test("writes the package's file list into an empty directory", () => {
    const out = run([BIN, "system", "install", "--prefix", "/usr", "--root", root]);
    expect(out).toContain(`Installed podunit in /usr below ${root}`);
    const listed = run(["dpkg-deb", "-c", DEB])
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(/\s+/).slice(5).join(" "));
    expect(listed.filter((p) => !PACKAGE_ONLY.includes(p)).sort()).toEqual(tree(root));
    expect(readFileSync(join(root, "usr/bin/podunit")).equals(readFileSync(BIN))).toBe(true);
  });

  test("man finds podunit(1) and podunit-spec(5) in the tree", () => {
    const env = { MANPATH: join(root, "usr/share/man") };
    expect(run(["man", "-w", "podunit"], env).trim()).toBe(join(root, "usr/share/man/man1/podunit.1.gz"));
    expect(run(["man", "-w", "5", "podunit-spec"], env).trim()).toBe(join(root, "usr/share/man/man5/podunit-spec.5.gz"));
  });

  test("a second install changes nothing; uninstall removes what install wrote and leaves the specs", () => {
    expect(run([BIN, "system", "install", "--prefix", "/usr", "--root", root])).toBe(`podunit in /usr below ${root} is up to date; nothing changed.\n`);
    writeFileSync(join(root, "etc/podunit/pods/web.toml"), `[containers.a]\ncommand = ["/bin/true"]\n`);
    const out = run([BIN, "system", "uninstall", "--prefix", "/usr", "--root", root]);
    expect(out).toContain("Left in place: pod specs in /etc/podunit/pods");
    expect(existsSync(join(root, "etc/podunit/pods/web.toml"))).toBe(true);
    expect(tree(root).filter((p) => !p.endsWith("/"))).toEqual(["./etc/podunit/pods/web.toml"]);
  });
});

describe("podunit version", () => {
  test("the build's revision and date, and Bun's version", () => {
    const v = JSON.parse(run([BIN, "version", "--json"]));
    expect(v).toMatchObject({ version: 1, podunit: pkg.version, bun: pkg.devDependencies.bun });
    expect(v.revision).toMatch(/^[0-9a-f]{12}$/);
    expect(v.built).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
