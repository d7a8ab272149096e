/**
 * The typed form of a unit property as it crosses D-Bus: the property's D-Bus
 * name, its D-Bus signature and a value already in the JavaScript shape that
 * the marshaller expects for that signature (`t`/`x` as bigint, `a(sasas)` as nested arrays).
 */
export interface DbusProperty {
  name: string;
  signature: string;
  value: unknown;
}

/** systemd's job modes for StartUnit/StopUnit/StartTransientUnit. */
export type JobMode = "replace" | "fail" | "isolate" | "ignore-dependencies" | "ignore-requirements";
