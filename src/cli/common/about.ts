/** What `podunit help`, the podunit(1) man page and error messages say about podunit as a whole. */
import pkg from "../../../package.json" with { type: "json" };

/** podunit's version, taken from package.json at build time. */
export const VERSION: string = pkg.version;

export const TAGLINE = "pods of processes and containers, run by systemd";

export const SPEC_LOOKUP =
  "Pod specs are read from /etc/podunit/pods/NAME.toml (or --dir, or $PODUNIT_SPEC_DIR), or from a path to a .toml file.";
