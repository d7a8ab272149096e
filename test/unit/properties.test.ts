import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  PROPERTIES,
  PROPERTY_ORDER,
  type PropertyKey,
  type UnitProperty,
  UINT64_MAX,
  encodeProperty,
  formatCpuQuota,
  formatUsec,
  propertySince,
  propertyTableMarkdown,
  renderExec,
  renderProperty,
  toDbus,
} from "../../src/systemd/properties.ts";
import { quoteWord } from "../../src/systemd/quote.ts";

/** For every table entry: a model value, the D-Bus value it must encode to, the unit-file lines it must render to. */
const SIDE_BY_SIDE: { [K in PropertyKey]: { p: UnitProperty; dbus: unknown; lines: string[] } } = {
  Description: { p: { key: "Description", value: "Pod 'web' 100%" }, dbus: "Pod 'web' 100%", lines: ["Description=Pod 'web' 100%%"] },
  After: {
    p: { key: "After", value: ["podunit-my\\x2dweb-sandbox.service", "podunit-my\\x2dweb-db.service"] },
    dbus: ["podunit-my\\x2dweb-sandbox.service", "podunit-my\\x2dweb-db.service"],
    lines: ["After=podunit-my\\x2dweb-sandbox.service podunit-my\\x2dweb-db.service"],
  },
  Requires: { p: { key: "Requires", value: ["a.service"] }, dbus: ["a.service"], lines: ["Requires=a.service"] },
  BindsTo: { p: { key: "BindsTo", value: ["s.service"] }, dbus: ["s.service"], lines: ["BindsTo=s.service"] },
  Wants: { p: { key: "Wants", value: ["a.service", "b.service"] }, dbus: ["a.service", "b.service"], lines: ["Wants=a.service b.service"] },
  PartOf: { p: { key: "PartOf", value: ["podunit-web.target"] }, dbus: ["podunit-web.target"], lines: ["PartOf=podunit-web.target"] },
  CollectMode: { p: { key: "CollectMode", value: "inactive-or-failed" }, dbus: "inactive-or-failed", lines: ["CollectMode=inactive-or-failed"] },
  Slice: { p: { key: "Slice", value: "podunit-web.slice" }, dbus: "podunit-web.slice", lines: ["Slice=podunit-web.slice"] },
  MemoryMax: { p: { key: "MemoryMax", value: 536870912n }, dbus: 536870912n, lines: ["MemoryMax=536870912"] },
  CPUQuotaPerSecUSec: { p: { key: "CPUQuotaPerSecUSec", value: 1500000n }, dbus: 1500000n, lines: ["CPUQuota=150%"] },
  TasksMax: { p: { key: "TasksMax", value: 512n }, dbus: 512n, lines: ["TasksMax=512"] },
  Delegate: { p: { key: "Delegate", value: true }, dbus: true, lines: ["Delegate=yes"] },
  Type: { p: { key: "Type", value: "forking" }, dbus: "forking", lines: ["Type=forking"] },
  RemainAfterExit: { p: { key: "RemainAfterExit", value: false }, dbus: false, lines: ["RemainAfterExit=no"] },
  PIDFile: { p: { key: "PIDFile", value: "/run/podunit/web/db.pid" }, dbus: "/run/podunit/web/db.pid", lines: ["PIDFile=/run/podunit/web/db.pid"] },
  RuntimeDirectory: { p: { key: "RuntimeDirectory", value: ["podunit/web", "podunit/web/ns"] }, dbus: ["podunit/web", "podunit/web/ns"], lines: ["RuntimeDirectory=podunit/web podunit/web/ns"] },
  ExecStartPreEx: {
    p: {
      key: "ExecStartPreEx",
      value: [
        { path: "/usr/bin/runc", argv: ["/usr/bin/runc", "delete", "-f", "podunit-web.db"], flags: ["ignore-failure", "no-env-expand"] },
        { path: "/usr/bin/mkdir", argv: ["/usr/bin/mkdir", "-p", "/run/podunit/web/ns"], flags: ["no-env-expand"] },
      ],
    },
    dbus: [
      ["/usr/bin/runc", ["/usr/bin/runc", "delete", "-f", "podunit-web.db"], ["ignore-failure", "no-env-expand"]],
      ["/usr/bin/mkdir", ["/usr/bin/mkdir", "-p", "/run/podunit/web/ns"], ["no-env-expand"]],
    ],
    lines: ["ExecStartPre=-:/usr/bin/runc delete -f podunit-web.db", "ExecStartPre=:/usr/bin/mkdir -p /run/podunit/web/ns"],
  },
  ExecStartEx: {
    p: {
      key: "ExecStartEx",
      value: [{ path: "/bin/sh", argv: ["/bin/sh", "-c", 'echo "$HOME" 50% ; done', ""], flags: ["no-env-expand"] }],
    },
    dbus: [["/bin/sh", ["/bin/sh", "-c", 'echo "$HOME" 50% ; done', ""], ["no-env-expand"]]],
    lines: ['ExecStart=:/bin/sh -c "echo \\"$HOME\\" 50%% ; done" ""'],
  },
  ExecStartPostEx: {
    p: {
      key: "ExecStartPostEx",
      value: [{ path: "/usr/bin/mount", argv: ["/usr/bin/mount", "--bind", "/proc/${MAINPID}/ns/net", "/run/podunit/web/ns/net"], flags: [] }],
    },
    dbus: [["/usr/bin/mount", ["/usr/bin/mount", "--bind", "/proc/${MAINPID}/ns/net", "/run/podunit/web/ns/net"], []]],
    lines: ['ExecStartPost=/usr/bin/mount --bind "/proc/${MAINPID}/ns/net" /run/podunit/web/ns/net'],
  },
  ExecStopPostEx: {
    p: { key: "ExecStopPostEx", value: [{ path: "/usr/bin/rm", argv: ["rm", "-rf", "/run/podunit/web"], flags: ["ignore-failure"] }] },
    dbus: [["/usr/bin/rm", ["rm", "-rf", "/run/podunit/web"], ["ignore-failure"]]],
    lines: ["ExecStopPost=-@/usr/bin/rm rm -rf /run/podunit/web"],
  },
  Restart: { p: { key: "Restart", value: "on-failure" }, dbus: "on-failure", lines: ["Restart=on-failure"] },
  RestartUSec: { p: { key: "RestartUSec", value: 500000n }, dbus: 500000n, lines: ["RestartSec=500ms"] },
  TimeoutStopUSec: { p: { key: "TimeoutStopUSec", value: 90000000n }, dbus: 90000000n, lines: ["TimeoutStopSec=1min 30s"] },
  TimeoutStartUSec: { p: { key: "TimeoutStartUSec", value: 7000000n }, dbus: 7000000n, lines: ["TimeoutStartSec=7s"] },
  SuccessExitStatus: {
    p: { key: "SuccessExitStatus", value: { statuses: [143], signals: ["SIGTERM"] } },
    dbus: [[143], [15]],
    lines: ["SuccessExitStatus=143 SIGTERM"],
  },
  KillMode: { p: { key: "KillMode", value: "control-group" }, dbus: "control-group", lines: ["KillMode=control-group"] },
  KillSignal: { p: { key: "KillSignal", value: "SIGQUIT" }, dbus: 3, lines: ["KillSignal=SIGQUIT"] },
  Environment: {
    p: { key: "Environment", value: ["LOG_LEVEL=info", "GREETING=hello world", "PCT=5%", 'Q="x"'] },
    dbus: ["LOG_LEVEL=info", "GREETING=hello world", "PCT=5%", 'Q="x"'],
    lines: ["Environment=LOG_LEVEL=info", 'Environment="GREETING=hello world"', "Environment=PCT=5%%", 'Environment="Q=\\"x\\""'],
  },
  WorkingDirectory: { p: { key: "WorkingDirectory", value: "/srv/app" }, dbus: "/srv/app", lines: ["WorkingDirectory=/srv/app"] },
  User: { p: { key: "User", value: "www-data" }, dbus: "www-data", lines: ["User=www-data"] },
  Group: { p: { key: "Group", value: "1000" }, dbus: "1000", lines: ["Group=1000"] },
  AmbientCapabilities: {
    p: { key: "AmbientCapabilities", value: ["CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"] },
    dbus: (1n << 21n) | (1n << 10n),
    lines: ["AmbientCapabilities=CAP_SYS_ADMIN CAP_NET_BIND_SERVICE"],
  },
  NoNewPrivileges: { p: { key: "NoNewPrivileges", value: true }, dbus: true, lines: ["NoNewPrivileges=yes"] },
  SystemCallFilter: {
    p: { key: "SystemCallFilter", value: { allow: false, syscalls: ["mount", "keyctl"] } },
    dbus: [false, ["mount", "keyctl"]],
    lines: ["SystemCallFilter=~mount keyctl"],
  },
  SystemCallArchitectures: { p: { key: "SystemCallArchitectures", value: ["native"] }, dbus: ["native"], lines: ["SystemCallArchitectures=native"] },
  SystemCallErrorNumber: { p: { key: "SystemCallErrorNumber", value: 1 }, dbus: 1, lines: ["SystemCallErrorNumber=EPERM"] },
  RestrictNamespaces: {
    p: { key: "RestrictNamespaces", value: 0x6e020000n },
    dbus: 0x6e020000n,
    lines: ["RestrictNamespaces=cgroup ipc net mnt pid uts"],
  },
  NetworkNamespacePath: {
    p: { key: "NetworkNamespacePath", value: "/run/podunit/web/ns/net" },
    dbus: "/run/podunit/web/ns/net",
    lines: ["NetworkNamespacePath=/run/podunit/web/ns/net"],
  },
  IPCNamespacePath: {
    p: { key: "IPCNamespacePath", value: "/run/podunit/web/ns/ipc" },
    dbus: "/run/podunit/web/ns/ipc",
    lines: ["IPCNamespacePath=/run/podunit/web/ns/ipc"],
  },
  StandardOutput: { p: { key: "StandardOutput", value: "journal" }, dbus: "journal", lines: ["StandardOutput=journal"] },
  StandardError: { p: { key: "StandardError", value: "journal" }, dbus: "journal", lines: ["StandardError=journal"] },
  SyslogIdentifier: { p: { key: "SyslogIdentifier", value: "web/db" }, dbus: "web/db", lines: ["SyslogIdentifier=web/db"] },
  LogExtraFields: {
    p: { key: "LogExtraFields", value: ["PODUNIT_POD=web", "PODUNIT_MEMBER=db"] },
    dbus: [Buffer.from("PODUNIT_POD=web"), Buffer.from("PODUNIT_MEMBER=db")],
    lines: ["LogExtraFields=PODUNIT_POD=web", "LogExtraFields=PODUNIT_MEMBER=db"],
  },
  BindPaths: {
    p: { key: "BindPaths", value: [{ source: "/var/lib/podunit/volumes/web/data", destination: "/srv/my data", recursive: true }, { source: "/a%b", destination: "/c", recursive: false }] },
    dbus: [["/var/lib/podunit/volumes/web/data", "/srv/my data", false, 16384n], ["/a%b", "/c", false, 0n]],
    lines: ['BindPaths=/var/lib/podunit/volumes/web/data:"/srv/my data" /a%%b:/c:norbind'],
  },
  BindReadOnlyPaths: {
    p: { key: "BindReadOnlyPaths", value: [{ source: "/run/podunit/web/volumes/conf", destination: "/etc/app", recursive: true }] },
    dbus: [["/run/podunit/web/volumes/conf", "/etc/app", false, 16384n]],
    lines: ["BindReadOnlyPaths=/run/podunit/web/volumes/conf:/etc/app"],
  },
  SyslogLevel: { p: { key: "SyslogLevel", value: "notice" }, dbus: 5, lines: ["SyslogLevel=notice"] },
  LogLevelMax: { p: { key: "LogLevelMax", value: "notice" }, dbus: 5, lines: ["LogLevelMax=notice"] },
  OnActiveSec: { p: { key: "OnActiveSec", value: 2000000n }, dbus: 2000000n, lines: ["OnActiveSec=2s"] },
  OnUnitActiveSec: { p: { key: "OnUnitActiveSec", value: 10000000n }, dbus: 10000000n, lines: ["OnUnitActiveSec=10s"] },
  AccuracyUSec: { p: { key: "AccuracyUSec", value: 200000n }, dbus: 200000n, lines: ["AccuracySec=200ms"] },
};

describe("property table: D-Bus and unit file side by side", () => {
  test("every table entry has a side-by-side case", () => {
    expect(Object.keys(SIDE_BY_SIDE).sort()).toEqual([...PROPERTY_ORDER].sort());
  });
  for (const key of PROPERTY_ORDER) {
    const c = SIDE_BY_SIDE[key];
    const def = PROPERTIES[key];
    test(`${key} ↔ [${def.section}] ${def.unitKey}=`, () => {
      const d = encodeProperty(c.p);
      expect(d.name).toBe(key);
      expect(d.signature).toBe(def.signature);
      expect(d.value).toEqual(c.dbus);
      expect(renderProperty(c.p)).toEqual(c.lines);
    });
  }
  test("toDbus keeps the plan's order", () => {
    const props: UnitProperty[] = [SIDE_BY_SIDE.Type.p, SIDE_BY_SIDE.Description.p];
    expect(toDbus({ properties: props }).map((p) => p.name)).toEqual(["Type", "Description"]);
  });
  test("t values are bigints, b values booleans, aay values byte buffers", () => {
    for (const key of PROPERTY_ORDER) {
      const { value } = encodeProperty(SIDE_BY_SIDE[key].p);
      const sig = PROPERTIES[key].signature;
      if (sig === "t") expect(typeof value).toBe("bigint");
      if (sig === "b") expect(typeof value).toBe("boolean");
      if (sig === "aay") for (const v of value as unknown[]) expect(Buffer.isBuffer(v)).toBe(true);
    }
  });
});

describe("values", () => {
  test("durations", () => {
    expect(formatUsec(0n)).toBe("0");
    expect(formatUsec(30_000_000n)).toBe("30s");
    expect(formatUsec(90_000_000n)).toBe("1min 30s");
    expect(formatUsec(1_500_000n)).toBe("1s 500ms");
    expect(formatUsec(3_723_004_005n)).toBe("1h 2min 3s 4ms 5us");
    expect(formatUsec(500_000n)).toBe("500ms");
    expect(formatUsec(1_001n)).toBe("1ms 1us");
    expect(formatUsec(250n)).toBe("250us");
    expect(formatUsec(UINT64_MAX)).toBe("infinity");
  });
  test("CPU quota as a percentage", () => {
    expect(formatCpuQuota(1_500_000n)).toBe("150%");
    expect(formatCpuQuota(500_000n)).toBe("50%");
    expect(formatCpuQuota(333_300n)).toBe("33.33%");
    expect(formatCpuQuota(5_000n)).toBe("0.5%");
    expect(formatCpuQuota(20_000_000n)).toBe("2000%");
  });
  test("limits: infinity", () => {
    expect(renderProperty({ key: "MemoryMax", value: UINT64_MAX })).toEqual(["MemoryMax=infinity"]);
  });
  test("word quoting", () => {
    expect(quoteWord("plain/path-1.2:x=y,z@h+")).toBe("plain/path-1.2:x=y,z@h+");
    expect(quoteWord("")).toBe('""');
    expect(quoteWord(";")).toBe('";"');
    expect(quoteWord("a b")).toBe('"a b"');
    expect(quoteWord("back\\slash")).toBe('"back\\\\slash"');
    expect(quoteWord("tab\there\nnl")).toBe('"tab\\there\\nnl"');
    expect(quoteWord("bell\x07")).toBe('"bell\\x07"');
    expect(quoteWord("it's")).toBe('"it\'s"');
    expect(quoteWord("$HOME")).toBe('"$HOME"');
    expect(quoteWord("100%")).toBe("100%%");
    expect(quoteWord("ünï")).toBe('"ünï"');
  });
  test("exec lines: prefixes and a path that looks like a prefix", () => {
    expect(renderExec({ path: "/bin/true", argv: ["/bin/true"], flags: [] })).toBe("/bin/true");
    expect(renderExec({ path: "/bin/x y", argv: ["/bin/x y", "a"], flags: ["no-env-expand"] })).toBe(':"/bin/x y" a');
    expect(renderExec({ path: "-odd", argv: ["-odd"], flags: [] })).toBe('"-odd"');
  });
  test("unknown signal and capability names are refused", () => {
    expect(() => encodeProperty({ key: "SuccessExitStatus", value: { statuses: [], signals: ["SIGNOPE"] } })).toThrow();
    expect(() => encodeProperty({ key: "AmbientCapabilities", value: ["CAP_NOPE"] })).toThrow();
  });
  test("minimum versions", () => {
    expect(propertySince({ key: "Type", value: "exec" })).toBe(240);
    expect(propertySince({ key: "Type", value: "forking" })).toBe(205);
    expect(propertySince({ key: "ExecStartEx", value: [] })).toBe(243);
    expect(propertySince({ key: "IPCNamespacePath", value: "/x" })).toBe(248);
  });
});

describe("docs/systemd-properties.md", () => {
  const file = join(import.meta.dir, "../../docs/systemd-properties.md");
  const BEGIN = "<!-- BEGIN property table: generated from src/systemd/properties.ts -->";
  const END = "<!-- END property table -->";
  test("holds the table as generated from the code", () => {
    const text = readFileSync(file, "utf8");
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const want = `${BEGIN}\n${propertyTableMarkdown()}\n${END}`;
    const have = text.slice(start, end + END.length);
    if (have !== want && process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(file, text.slice(0, start) + want + text.slice(end + END.length));
      return;
    }
    expect(have).toBe(want);
  });
});
