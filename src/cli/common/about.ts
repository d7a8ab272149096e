/** What `podunit help` and the podunit(1) man page both say about podunit as a whole. */

export const TAGLINE = "pods of processes and containers, run by systemd";

export const SPEC_LOOKUP =
  "Pod specs are read from /etc/podunit/pods/NAME.toml (or --dir, or $PODUNIT_SPEC_DIR), or from a path to a .toml file.";
