import type { Io } from "./command.ts";
import { DEFAULT_CONFIG_DIR } from "../../image/index.ts";

/** podunit's configuration directory (registries.toml, certs.d, auth.json): PODUNIT_CONFIG_DIR or /etc/podunit. */
export function configDir(io: Io): string {
  return io.env.PODUNIT_CONFIG_DIR || DEFAULT_CONFIG_DIR;
}
