/**
 * Boots a lab and keeps it up until interrupted, for working by hand:
 *   bun test/lab/up.ts [NAME]      then, in another shell:
 *   bash test/lab/enter.sh DIR bash
 */
import { Lab } from "./lab.ts";

const lab = await Lab.boot(process.argv[2] ?? "dev");
console.log(`lab '${lab.name}' up (systemd PID ${lab.pid}, ${lab.cgroupMode} cgroups)`);
console.log(`enter: bash ${import.meta.dir}/enter.sh ${lab.dir} bash`);
console.log(`dir: ${lab.dir}`);
setInterval(() => {}, 1 << 30);
