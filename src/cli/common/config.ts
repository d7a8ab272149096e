import type { Io } from "./command.ts";
import { configDirOf } from "../../pods/pull.ts";

/** podunit's configuration directory (registries.toml, certs.d, auth.json): PODUNIT_CONFIG_DIR or /etc/podunit. */
export function configDir(io: Io): string {
  return configDirOf(io.env);
}
