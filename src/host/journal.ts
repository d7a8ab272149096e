/** The real Journal: a unit's last lines, read with journalctl (the journal's own tool reads any journal format). */
import type { Journal } from "./ports.ts";

export const hostJournal: Journal = {
  async tail(unit, n) {
    try {
      // journald writes what it received asynchronously; a unit's last lines are often the newest.
      await Bun.spawn(["journalctl", "--sync"], { stdout: "ignore", stderr: "ignore", stdin: "ignore" }).exited;
      const proc = Bun.spawn(["journalctl", "--no-pager", "-q", "-o", "cat", "-n", String(n), "-u", unit], {
        stdout: "pipe",
        stderr: "ignore",
        stdin: "ignore",
      });
      const text = await new Response(proc.stdout).text();
      await proc.exited;
      return text.split("\n").filter((l) => l.trim() !== "");
    } catch {
      return [];
    }
  },
};
