/**
 * podunit as a systemd generator: run by systemd (through a link named
 * `podunit-generator` in a system-generators directory) at boot and at every
 * daemon-reload, with its output directories as arguments. Reads every spec in
 * /etc/podunit/pods and writes the units of those with an [install] section.
 *
 * Generators run before anything else: no D-Bus, no network, no waiting. Problems
 * go to the journal (or the kernel log at boot) as `<file>: <error>` lines under
 * the identifier `podunit-generator`; to standard error instead when that is a terminal.
 */
import { isatty } from "../host/libc.ts";
import { writeAll } from "./common/output.ts";
import { join } from "node:path";
import { convertSpecs, generatorOutputDir, type SpecSource } from "../boot/generator.ts";
import { GENERATOR_NAME } from "../boot/generatorname.ts";
import { installedUnits, installUnits, SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { PodunitError } from "../errors.ts";
import { detectHostFacts } from "../plan/hostfacts.ts";
import { listSpecs, MAX_SPEC_BYTES, readFileFromDisk, specDir } from "../podspec/load.ts";
import { podTargetName } from "../systemd/unitname.ts";
import { logMessage, Priority } from "../host/syslog.ts";
import { specImages } from "../pods/images.ts";
import { awaitsImages } from "../pods/pull.ts";

/** A generator that has not finished by then is stopped (systemd would wait far longer). */
const DEADLINE_MS = 20_000;

/** A person running the generator by hand reads standard error; systemd's generators write to the journal. */
function log(file: string | undefined, message: string): void {
  const line = file === undefined ? message : `${file}: ${message}`;
  const fields: Record<string, string> = file === undefined ? {} : { PODUNIT_SPEC_FILE: file };
  if (isatty(2) || logMessage(GENERATOR_NAME, Priority.ERR, line, fields) === "none") {
    writeAll(2, `${GENERATOR_NAME}: ${line}\n`);
  }
}

async function readSources(dir: string): Promise<SpecSource[]> {
  const sources: SpecSource[] = [];
  for (const name of await listSpecs(dir)) {
    const file = join(dir, `${name}.toml`);
    try {
      const bytes = await readFileFromDisk(file, MAX_SPEC_BYTES + 1);
      if (bytes !== undefined) sources.push({ file, bytes });
    } catch (err) {
      sources.push({ file, error: err instanceof PodunitError ? err : new PodunitError(String(err)) });
    }
  }
  return sources;
}

/** Runs the generator; returns its exit status (1 when any spec produced no units). */
export async function runGenerator(args: string[], env: Record<string, string | undefined>): Promise<number> {
  // Pods are for the real root file system, not the initrd.
  if (env.SYSTEMD_IN_INITRD === "1") return 0;
  const deadline = setTimeout(() => {
    log(undefined, `gave up after ${DEADLINE_MS / 1000} s`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  try {
    const out = generatorOutputDir(args);
    const dir = specDir({ env });
    const report = convertSpecs(
      await readSources(dir),
      detectHostFacts(env),
      (pod) => installedUnits(SYSTEM_UNIT_DIR, pod).includes(podTargetName(pod)),
      (spec) => specImages(spec, env),
      (spec) => awaitsImages(spec, env),
    );
    let failed = report.failures.length;
    for (const f of report.failures) log(f.file, f.message);
    for (const pod of report.pods) {
      try {
        installUnits(out, pod, { links: "relative" });
      } catch (err) {
        failed++;
        log(pod.file, `failed to write its units: ${(err as Error).message}`);
      }
    }
    return failed ? 1 : 0;
  } catch (err) {
    log(undefined, (err as Error).message);
    return 1;
  } finally {
    clearTimeout(deadline);
  }
}
