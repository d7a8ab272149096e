/**
 * The probes of health checks: a TCP connection, an http GET (2xx or 3xx
 * passes) and a command. tcp and http are made by this process, in whatever
 * network namespace it runs in (the check's unit puts it into the pod's), so an
 * image needs no curl. Each gives a result with a short text that says why.
 */
/** The result of one check: passed or not, and what it said (a command's output, an http status, an error). */
export interface CheckResult {
  ok: boolean;
  output: string;
}

/** The most of a command's output a result keeps (its end). */
const OUTPUT_MAX = 400;

function tail(s: string): string {
  const t = s.trim().replace(/\s+/g, " ");
  return t.length > OUTPUT_MAX ? `…${t.slice(-OUTPUT_MAX)}` : t;
}

/**
 * Connects to host:port; with `request`, sends it and reads the answer's status line.
 * Resolves (never rejects) within `timeoutMs`.
 */
function connect(host: string, port: number, timeoutMs: number, request?: string): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false;
    let got = "";
    let sock: { end(): void } | undefined;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock?.end();
      } catch {
        // Already closed.
      }
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, output: `no answer from ${host}:${port} within ${timeoutMs}ms` }), timeoutMs);
    const status = () => {
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(got);
      if (!m) return finish({ ok: false, output: `not an http answer from ${host}:${port}: ${tail(got.split("\r\n")[0] ?? "")}` });
      const code = Number(m[1]);
      finish({ ok: code >= 200 && code < 400, output: `http status ${code}` });
    };
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          sock = s;
          if (request === undefined) finish({ ok: true, output: `connected to ${host}:${port}` });
          else s.write(request);
        },
        data(_s, chunk) {
          got += chunk.toString("latin1");
          if (got.includes("\r\n")) status();
        },
        close() {
          if (request !== undefined) (got ? status() : finish({ ok: false, output: `${host}:${port} closed the connection without an answer` }));
        },
        error(_s, err) {
          finish({ ok: false, output: `${host}:${port}: ${err.message}` });
        },
        connectError(_s, err) {
          finish({ ok: false, output: `cannot connect to ${host}:${port}: ${(err as { code?: string }).code ?? err.message}` });
        },
      },
    }).catch((err: Error & { code?: string }) => finish({ ok: false, output: `cannot connect to ${host}:${port}: ${err.code ?? err.message}` }));
  });
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return connect(host, port, timeoutMs);
}

export function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<CheckResult> {
  const h = host.includes(":") ? `[${host}]` : host;
  return connect(host, port, timeoutMs, `GET ${path} HTTP/1.0\r\nHost: ${h}:${port}\r\nUser-Agent: podunit-health\r\nConnection: close\r\n\r\n`);
}

/**
 * Runs argv (already wrapped to enter the member), killed after `timeoutMs`;
 * exit status 0 passes. `started` is called with the child's PID as soon as it
 * exists (to move it into the member's cgroup).
 */
export async function probeExec(argv: string[], env: Record<string, string> | undefined, timeoutMs: number, started?: (pid: number) => void): Promise<CheckResult> {
  let proc;
  try {
    proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", ...(env ? { env } : {}) });
  } catch (err) {
    return { ok: false, output: `cannot run ${argv[0]}: ${(err as Error).message}` };
  }
  started?.(proc.pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const [out, errOut, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const said = tail(`${out} ${errOut}`);
  if (timedOut) return { ok: false, output: `no result within ${timeoutMs}ms${said ? `: ${said}` : ""}` };
  return { ok: code === 0, output: `exit status ${code}${said ? `: ${said}` : ""}` };
}
