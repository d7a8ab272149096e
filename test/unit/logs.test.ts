/**
 * `podunit logs`: its command line, the journalctl arguments it makes, and how it
 * reads a backlog and then follows, against a stand-in journalctl that prints
 * five fixed records (the real journal is exercised by test/system/logs.test.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LINES, parseLines, parseLogsArgs } from "../../src/cli/logs.ts";
import { journalctlArgs, JournalctlError, readLines, readPodLog, type JournalQuery } from "../../src/status/journal.ts";
import { PodunitError, UsageError } from "../../src/errors.ts";
import { fieldText, type JournalRecord } from "../../src/status/logentry.ts";

describe("command line", () => {
  test("defaults", () => {
    expect(parseLogsArgs(["web"])).toEqual({ ref: "web", member: undefined, follow: false, lines: DEFAULT_LINES, since: undefined, json: false, dir: undefined });
    expect(DEFAULT_LINES).toBe(50);
  });

  test("member, follow, lines, since, json, dir", () => {
    expect(parseLogsArgs(["web", "app", "-f", "-n", "5", "--since", "-1h", "--json", "--dir", "/d"])).toEqual({
      ref: "web", member: "app", follow: true, lines: 5, since: "-1h", json: true, dir: "/d",
    });
    expect(parseLogsArgs(["--follow", "--lines=all", "web"]).lines).toBe("all");
    expect(parseLogsArgs(["web", "--lines", "0", "-f"]).lines).toBe(0);
  });

  test("-n takes a whole number or 'all'", () => {
    expect(parseLines("0")).toBe(0);
    expect(parseLines("123")).toBe(123);
    expect(parseLines("all")).toBe("all");
    for (const bad of ["-1", "1.5", "ten", "", "+5", "9999999999"]) expect(() => parseLines(bad)).toThrow(UsageError);
  });

  test("wrong arguments are usage errors", () => {
    expect(() => parseLogsArgs([])).toThrow(UsageError);
    expect(() => parseLogsArgs(["web", "app", "extra"])).toThrow(UsageError);
    expect(() => parseLogsArgs(["web", "--tail", "5"])).toThrow(/Unknown option '--tail'/);
    expect(() => parseLogsArgs(["web", "-n"])).toThrow(/needs a value/);
    expect(() => parseLogsArgs(["web", "--since", " "])).toThrow(UsageError);
  });
});

describe("journalctl arguments", () => {
  const q: JournalQuery = { pod: "web", units: [], lines: 50, follow: false };

  test("the pod's entries as JSON, all fields, the last N", () => {
    const args = journalctlArgs(q);
    expect(args.slice(0, 4)).toEqual(["--no-pager", "--quiet", "--output=json", "--all"]);
    expect(args).toContain("--lines=50");
    expect(args.at(-1)).toBe("PODUNIT_POD=web");
    expect(args).not.toContain("--follow");
    expect(args).not.toContain("+");
  });

  test("one member, systemd's lines about units, since, cursor, follow", () => {
    const args = journalctlArgs({ ...q, member: "app", units: ["podunit-web-app.service"], since: "today", afterCursor: "s=1", follow: true, lines: "all" });
    expect(args).toContain("--lines=all");
    expect(args).toContain("--since=today");
    expect(args).toContain("--after-cursor=s=1");
    expect(args).toContain("--follow");
    // (PODUNIT_POD=web AND PODUNIT_MEMBER=app) OR (_PID=1 AND UNIT=...)
    expect(args.slice(-5)).toEqual(["PODUNIT_POD=web", "PODUNIT_MEMBER=app", "+", "_PID=1", "UNIT=podunit-web-app.service"]);
  });

  test("several units are one OR group", () => {
    const args = journalctlArgs({ ...q, units: ["a.service", "b.service"] });
    expect(args.slice(-4)).toEqual(["+", "_PID=1", "UNIT=a.service", "UNIT=b.service"]);
  });
});

describe("reading lines from a stream", () => {
  test("lines split across chunks, and a multi-byte character split too", async () => {
    const bytes = new TextEncoder().encode('{"a":"é"}\n{"b":2}\nlast');
    const chunks = [bytes.slice(0, 7), bytes.slice(7, 12), bytes.slice(12)];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
    const got: string[] = [];
    for await (const l of readLines(stream)) got.push(l);
    expect(got).toEqual(['{"a":"é"}', '{"b":2}', "last"]);
  });
});

describe("backlog and follow, against a stand-in journalctl", () => {
  const dir = mkdtempSync(join(tmpdir(), "podunit-fake-journalctl-"));
  const fake = join(dir, "journalctl");
  const log = join(dir, "calls");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Records 1..5 (cursor cN, message mN). Like journalctl: --lines=N is the last N,
  // except with --since, where it is the first N; --follow prints record 6, then waits.
  writeFileSync(
    fake,
    `#!/bin/bash
printf '%s\\n' "$*" >> ${JSON.stringify(log)}
lines=all; follow=; after=; since=
for a; do case $a in --lines=*) lines=\${a#--lines=};; --follow) follow=1;; --after-cursor=*) after=\${a#--after-cursor=};; --since=*) since=\${a#--since=};; esac; done
if [ "$since" = bad ]; then echo "Failed to parse timestamp: bad" >&2; exit 1; fi
if [ "$since" = interrupted ]; then emit() { :; }; trap - INT; kill -INT $$; fi
emit() { printf '{"__REALTIME_TIMESTAMP":"%s","__CURSOR":"c%s","MESSAGE":"m%s"}\\n' "$(($1 * 1000000))" "$1" "$1"; }
sel=()
for r in 1 2 3 4 5; do if [ -z "$after" ] || [ "$r" -gt "\${after#c}" ]; then sel+=("$r"); fi; done
if [ "$lines" != all ]; then
  if [ -n "$since" ]; then sel=("\${sel[@]:0:$lines}")
  else s=$((\${#sel[@]} - lines)); [ $s -lt 0 ] && s=0; sel=("\${sel[@]:$s}"); fi
fi
for r in "\${sel[@]}"; do emit "$r"; done
echo "not json"
if [ -n "$follow" ]; then emit 6; exec sleep 30; fi
`,
  );
  chmodSync(fake, 0o755);

  async function run(q: Partial<JournalQuery>): Promise<{ messages: string[]; calls: string[] }> {
    writeFileSync(log, "");
    const ac = new AbortController();
    const messages: string[] = [];
    const onRecord = (r: JournalRecord) => {
      messages.push(fieldText(r.MESSAGE)!);
      if (r.MESSAGE === "m6") ac.abort();
    };
    await readPodLog({ pod: "web", units: [], lines: 50, follow: false, ...q }, onRecord, { journalctl: fake, signal: ac.signal });
    return { messages, calls: readFileSync(log, "utf8").trim().split("\n") };
  }

  test("-n N: the last N, in one call", async () => {
    const r = await run({ lines: 3 });
    expect(r.messages).toEqual(["m3", "m4", "m5"]);
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]).toContain("--lines=3");
  });

  test("-n N with --since: still the last N (journalctl alone would give the first)", async () => {
    const r = await run({ lines: 2, since: "-1h" });
    expect(r.messages).toEqual(["m4", "m5"]);
    expect(r.calls[0]).toContain("--lines=all");
    expect(r.calls[0]).toContain("--since=-1h");
  });

  test("-n all streams everything", async () => {
    expect((await run({ lines: "all", since: "today" })).messages).toEqual(["m1", "m2", "m3", "m4", "m5"]);
  });

  test("-f: the backlog, then new entries after its last cursor, until aborted", async () => {
    const r = await run({ lines: 2, follow: true });
    expect(r.messages).toEqual(["m4", "m5", "m6"]);
    expect(r.calls).toHaveLength(2);
    expect(r.calls[1]).toContain("--after-cursor=c5");
    expect(r.calls[1]).toContain("--follow");
    expect(r.calls[1]).not.toContain("--since");
  });

  test("-f -n 0: only new entries", async () => {
    const r = await run({ lines: 0, follow: true, since: "today" });
    expect(r.messages).toEqual(["m6"]);
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]).toContain("--lines=0");
    expect(r.calls[0]).not.toContain("--since");
  });

  test("-n 0 without -f: nothing, and journalctl is not run", async () => {
    const r = await run({ lines: 0 });
    expect(r.messages).toEqual([]);
    expect(r.calls).toEqual([""]);
  });

  test("journalctl failing: its status and message", async () => {
    const err = await run({ since: "bad" }).catch((e) => e);
    expect(err).toBeInstanceOf(JournalctlError);
    expect(err.stderr).toBe("Failed to parse timestamp: bad");
    expect(err.message).toContain("exited with status 1");
  });

  test("journalctl ended by SIGINT (Ctrl-C reaches the whole group) is an end, not a failure", async () => {
    const r = await run({ since: "interrupted" });
    expect(r.messages).toEqual([]);
  });

  test("no journalctl at all: a clear error", async () => {
    const err = await readPodLog({ pod: "web", units: [], lines: 1, follow: false }, () => {}, { journalctl: join(dir, "missing") }).catch((e) => e);
    expect(err).toBeInstanceOf(PodunitError);
    expect(err.message).toContain("Failed to run 'journalctl'");
  });
});
