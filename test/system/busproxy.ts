/**
 * A D-Bus socket that forwards byte for byte to the lab's system bus, run inside
 * a lab as a unit of its own. Stopping that unit (SIGKILL) drops every
 * connection made through it at once, while systemd and the bus carry on: a real
 * loss of podunit's connection to systemd, in the middle of whatever it does.
 *
 *   bun busproxy.ts LISTEN_SOCKET [BUS_SOCKET]
 */
import { connect, createServer, type Socket } from "node:net";
import { rmSync } from "node:fs";

const [listen, upstream = "/run/dbus/system_bus_socket"] = process.argv.slice(2);
if (!listen) throw new Error("usage: busproxy.ts LISTEN_SOCKET [BUS_SOCKET]");
rmSync(listen, { force: true });

const server = createServer((client: Socket) => {
  const bus = connect(upstream);
  const end = () => {
    client.destroy();
    bus.destroy();
  };
  client.pipe(bus);
  bus.pipe(client);
  for (const s of [client, bus]) {
    s.on("error", end);
    s.on("close", end);
  }
});
server.listen(listen);
