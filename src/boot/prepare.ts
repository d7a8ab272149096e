/**
 * What `podunit internal prepare` does for a pod started from unit files: the
 * sandbox's (and each member's with files) first ExecStartPre=. It plans the pod
 * again from its spec, refuses to go on when that plan is not the one the unit
 * files were written from (their digest differs), and writes the unit's share of
 * the run files: the sandbox clears what an earlier run may have left in the
 * pod's run directory and writes everything but the members' bundles; a member
 * writes its own bundle. See docs/design-decisions.md, "Boot-time pods".
 */
import { NotFoundError, PodunitError } from "../errors.ts";
import type { RunFiles } from "../host/ports.ts";
import { detectHostFacts } from "../plan/hostfacts.ts";
import { plan } from "../plan/plan.ts";
import type { HostFacts, ImageFacts } from "../plan/types.ts";
import type { PodSpec } from "../podspec/types.ts";
import { planDigest, runFilesOf, type PrepareArgs } from "../plan/unitfiles.ts";
import { loadSpec, type ReadFile } from "../podspec/load.ts";
import { PodLayout } from "../plan/layout.ts";
import { planRecordText } from "../plan/record.ts";

export interface PrepareDeps {
  files: RunFiles;
  /** Finds the spec's images in the store `store`, each pinned to the digest the unit files were written for. */
  images?: (spec: PodSpec, store: string, pins: Record<string, string>) => ReadonlyMap<string, ImageFacts>;
  hostFacts?: () => HostFacts;
  readFile?: ReadFile;
}

/** Plans the pod again, checks the digest and writes the unit's run files; returns the paths written. */
export async function prepareUnit(req: PrepareArgs, deps: PrepareDeps): Promise<string[]> {
  const spec = await loadSpec(req.specFile, { env: {}, ...(deps.readFile ? { readFile: deps.readFile } : {}) });
  const host = { ...(deps.hostFacts ?? (() => detectHostFacts({})))(), runDir: req.runDir };
  // An image that left the store fails here, naming it, before the unit starts anything.
  const images = req.images && deps.images ? deps.images(spec, req.images.store, req.images.pins) : undefined;
  const p = plan(spec, host, { backend: req.backend, ...(images ? { images } : {}) });
  const who = req.member === undefined ? "the sandbox" : `member '${req.member}'`;
  const digest = planDigest(p);
  if (digest !== req.digest) {
    throw new PodunitError(
      `Failed to prepare ${who} of pod '${p.pod}': its spec '${req.specFile}' or this host has changed since the unit files were written ` +
        `(the plan's digest is now ${digest}, the unit files were written for ${req.digest}).`,
      {
        hint:
          `Write the unit files again ('podunit enable ${p.pod}', or 'systemctl daemon-reload' when the podunit generator made them), ` +
          `then start the pod again.`,
      },
    );
  }
  const unit = req.member === undefined ? p.sandbox : p.members.find((m) => m.member === req.member);
  if (unit === undefined) throw new NotFoundError(`Failed to prepare member '${req.member}' of pod '${p.pod}': the spec has no such member.`);
  const { directories, files } = runFilesOf(p, unit);
  if (unit.role === "sandbox") {
    // Nothing of the pod runs while its sandbox starts (members are bound to it): clear debris of an earlier run.
    for (const m of deps.files.mountsUnder(p.runDir)) deps.files.unmount(m);
    deps.files.removeTree(p.runDir);
  }
  for (const d of directories) deps.files.mkdir(d, 0o700);
  for (const f of files) deps.files.writeFile(f.path, f.content, f.mode);
  if (unit.role !== "sandbox") return [...directories, ...files.map((f) => f.path)];
  // The plan the pod runs from, as `podunit start` records it (for apply and restart).
  const record = PodLayout.of(p).planFile;
  deps.files.writeFile(record, planRecordText(p), 0o600);
  return [...directories, ...files.map((f) => f.path), record];
}
