/**
 * Registration of a pod with systemd-machined, so that `machinectl list` shows
 * it and nss-mymachines resolves its name on the host. The sandbox's main
 * process is the machine's leader: `RegisterMachineWithNetwork` (unlike
 * `CreateMachine`) makes no scope of its own and takes the unit the leader
 * already runs in, so the machine lives exactly as long as the sandbox service
 * and machined forgets it when that unit stops. Nothing is torn down by podunit.
 */
import { BusConnection, DbusError } from "./dbus/connection.ts";
import { systemBusAddress } from "./bus.ts";

export interface MachineRequest {
  /** The machine's name: the pod's name. */
  name: string;
  /** The sandbox's main PID. */
  leader: number;
  /** Host-side interface indices of the pod (its veth), so machined can list them. */
  ifindices: number[];
}

/** What came of a registration: done, or why not (machined missing, the name taken). */
export type MachineResult = { registered: true } | { registered: false; reason: string };

/** D-Bus errors that mean machined is not there (systemd-container not installed). */
const ABSENT = new Set(["org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner", "org.freedesktop.systemd1.NoSuchUnit"]);

/** Registers the machine; never throws (a pod runs the same without it). */
export async function registerMachine(env: Record<string, string | undefined>, m: MachineRequest): Promise<MachineResult> {
  let conn: BusConnection | undefined;
  try {
    conn = await BusConnection.open(systemBusAddress(env), 5000);
    await conn.call({
      destination: "org.freedesktop.machine1",
      path: "/org/freedesktop/machine1",
      interface: "org.freedesktop.machine1.Manager",
      member: "RegisterMachineWithNetwork",
      signature: "sayssusai",
      // No machine id (all zero is allowed), podunit as the service, a container, no root directory.
      body: [m.name, new Uint8Array(0), "podunit", "container", m.leader, "", m.ifindices],
    });
    return { registered: true };
  } catch (err) {
    if (err instanceof DbusError && ABSENT.has(err.type)) return { registered: false, reason: "systemd-machined is not installed (Debian: systemd-container)" };
    return { registered: false, reason: `systemd-machined refused it: ${(err as Error).message}` };
  } finally {
    conn?.close();
  }
}
