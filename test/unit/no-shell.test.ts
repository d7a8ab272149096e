/**
 * podunit starts no shell: no source file spawns one or asks for one, and every
 * command a plan gives systemd is one of podunit's tools (the spec fuzz checks
 * the same of thousands of plans; test/system/security.test.ts checks what runs).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { plan } from "../../src/plan/plan.ts";
import { HOST, member, pod } from "./plan-helpers.ts";

const SRC = join(import.meta.dir, "../../src");
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("no shell", () => {
  test("no source file spawns a shell or a command line", () => {
    const shellish = [
      /["'`](\/usr)?\/bin\/(ba|da|z)?sh["'`]/,
      /["'`](ba|da|z)?sh["'`]\s*,\s*["'`]-c["'`]/,
      /shell\s*:\s*true/,
      /\bexecSync\s*\(|\bexec\s*\(\s*["'`]/,
      /from\s+["'](node:)?child_process["']/,
      /Bun\.\$/,
      /from\s+["']zx["']/,
    ];
    const found: string[] = [];
    const files = sources(SRC);
    for (const f of files) {
      readFileSync(f, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (shellish.some((re) => re.test(line))) found.push(`${f.slice(SRC.length + 1)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(files.length).toBeGreaterThan(30);
    expect(found).toEqual([]);
  });

  test("every command a plan runs is one of podunit's tools; the spec's argv follows untouched", () => {
    const argv = ["/bin/sh", "-c", "echo $HOME; rm -rf /"];
    for (const sandbox of ["runc", "native"] as const) {
      const p = plan(
        pod({ sandbox, share: ["ipc", "net", "pid", "uts"], members: [member("a", { command: argv }), member("b", { rootfs: "/r", command: argv, user: "1:1" })] }),
        HOST,
      );
      for (const u of [p.sandbox, ...p.members]) {
        for (const prop of u.properties) {
          if (!prop.key.startsWith("Exec")) continue;
          for (const c of prop.value as Array<{ path: string; argv: string[] }>) {
            expect({ unit: u.name, path: Object.values(HOST.paths).includes(c.path) ? "a podunit tool" : c.path }).toEqual({ unit: u.name, path: "a podunit tool" });
          }
        }
      }
      const a = p.members[0]!.properties.find((x) => x.key === "ExecStartEx")!.value as Array<{ argv: string[] }>;
      expect(a[0]!.argv.slice(-argv.length)).toEqual(argv);
      const cfg = JSON.parse(p.files.find((f) => f.path.endsWith("/bundles/b/config.json"))!.content);
      expect(cfg.process.args.slice(-argv.length)).toEqual(argv);
    }
  });
});
