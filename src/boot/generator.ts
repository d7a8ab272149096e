/**
 * The systemd generator's pure core: pod specs → unit files, like Podman's Quadlet
 * does for containers. Every spec with an [install] section becomes its pod's
 * units (in unit-file form) and wants links; a spec with errors becomes a message
 * and no units, and never stops the others. Pods enabled with `podunit enable`
 * are left to their files in /etc/systemd/system, which take precedence anyway.
 */
import { PodunitError, SpecError, type SpecIssue } from "../errors.ts";
import type { HostFacts, ImageFacts } from "../plan/types.ts";
import type { PodSpec } from "../podspec/types.ts";
import { decodeSpec } from "../podspec/load.ts";
import { parseSpec, stemOf } from "../podspec/parse.ts";
import type { PodUnits } from "./install.ts";
import { podUnits, pullOnlyUnits } from "./units.ts";

/**
 * The generator's output directory from its arguments: systemd passes three
 * (normal, early, late); one alone serves for all three, as with systemd's own
 * generators run by hand. Units go to the normal directory.
 */
export function generatorOutputDir(args: string[]): string {
  if ((args.length !== 1 && args.length !== 3) || args.some((a) => !a.startsWith("/"))) {
    throw new PodunitError(`Failed to generate units: expected one or three absolute output directories (normal, early, late), found ${args.length === 0 ? "none" : `'${args.join(" ")}'`}`);
  }
  return args[0]!;
}

/** One spec file as the shell read it: its bytes, or why it could not be read. */
export interface SpecSource {
  file: string;
  bytes?: Uint8Array;
  error?: PodunitError;
}

export interface GeneratorReport {
  pods: Array<PodUnits & { file: string }>;
  /** Specs without [install], and pods installed by `podunit enable`. */
  skipped: Array<{ file: string; reason: string }>;
  /** One line per spec that produced no units: what was wrong with it. */
  failures: Array<{ file: string; message: string }>;
}

function issueText(i: SpecIssue): string {
  const where = i.line === undefined ? "" : `line ${i.line}${i.column !== undefined ? `, column ${i.column}` : ""}: `;
  return `${where}${i.path ? `${i.path}: ` : ""}${i.message}`;
}

/** An error as one line of the generator's log. */
export function failureText(e: PodunitError): string {
  if (e instanceof SpecError) return `invalid pod spec: ${e.issues.map(issueText).join("; ")}`;
  return [e.message, e.hint].filter(Boolean).join(" ").replace(/\s*\n\s*/g, " / ");
}

/**
 * Converts every spec; `installed(pod)` says whether `podunit enable` has put the pod's
 * units in /etc/systemd/system; `images(spec)` finds the images a spec names (a spec
 * whose image is not in the store gets no units, and a failure that names it);
 * `awaitsImages(spec)` says, for a spec whose images the store lacks and may pull
 * (no `pull = "never"`), which store to pull them into: such a pod gets its pull unit
 * and target only, until the pull has brought them (see boot/units.ts).
 */
export function convertSpecs(
  sources: SpecSource[],
  host: HostFacts,
  installed: (pod: string) => boolean,
  images: (spec: PodSpec) => ReadonlyMap<string, ImageFacts> = () => new Map(),
  awaitsImages: (spec: PodSpec) => string | undefined = () => undefined,
): GeneratorReport {
  const report: GeneratorReport = { pods: [], skipped: [], failures: [] };
  for (const s of sources) {
    try {
      if (s.error) throw s.error;
      const spec = parseSpec(decodeSpec(s.bytes ?? new Uint8Array(), s.file), s.file, { defaultName: stemOf(s.file), nameIsStem: true });
      if (spec.install === undefined) {
        report.skipped.push({ file: s.file, reason: "no [install] section" });
        continue;
      }
      if (installed(spec.name)) {
        report.skipped.push({ file: s.file, reason: "installed by 'podunit enable'" });
        continue;
      }
      const store = awaitsImages(spec);
      const { pod, files, wantedBy } = store !== undefined ? pullOnlyUnits(spec, host, store) : podUnits(spec, host, { images: images(spec) });
      report.pods.push({ file: s.file, pod, files, wantedBy });
    } catch (err) {
      // Whatever went wrong with this spec, the others are still converted.
      const message = err instanceof PodunitError ? failureText(err) : `internal error: ${(err as Error)?.message ?? String(err)}`;
      report.failures.push({ file: s.file, message });
    }
  }
  return report;
}
