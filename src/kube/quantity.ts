/**
 * Kubernetes quantities against podunit's values: memory in bytes ("512Mi",
 * "1G", "129e6", 536870912) and CPU in cores ("500m", "1.5", 2) against a
 * percentage of one CPU. Pure; exact (bigint arithmetic, no floating point).
 */
import type { Parsed } from "../podspec/grammar.ts";

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, bigint> = { "": 1n, k: 10n ** 3n, M: 10n ** 6n, G: 10n ** 9n, T: 10n ** 12n, P: 10n ** 15n, E: 10n ** 18n };

/** A quantity as a fraction num/den of its base unit (bytes, cores). */
function fraction(q: string | number): Parsed<{ num: bigint; den: bigint }> {
  const s = String(q);
  const m = /^([+]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return { ok: false, message: `expected a quantity such as "512Mi", "1G" or "500m", found ${JSON.stringify(s)}` };
  const [int, frac = ""] = m[2]!.split(".");
  let num = BigInt((int || "0") + frac);
  let den = 10n ** BigInt(frac.length);
  const suffix = m[3];
  if (suffix === "m") den *= 1000n;
  else if (suffix !== undefined) num *= BINARY[suffix] ?? DECIMAL[suffix]!;
  if (m[4] !== undefined) {
    const e = BigInt(m[4]);
    if (e > 30n || e < -30n) return { ok: false, message: `expected an exponent from -30 to 30, found ${JSON.stringify(s)}` };
    if (e >= 0n) num *= 10n ** e;
    else den *= 10n ** -e;
  }
  return { ok: true, value: { num, den } };
}

/** A memory quantity in whole bytes; a fraction of a byte is refused (as Kubernetes rounds it up, podunit asks). */
export function memoryBytes(q: string | number): Parsed<bigint> {
  const f = fraction(q);
  if (!f.ok) return f;
  if (f.value.num % f.value.den !== 0n) return { ok: false, message: `expected a whole number of bytes, found ${JSON.stringify(String(q))}` };
  const bytes = f.value.num / f.value.den;
  if (bytes <= 0n) return { ok: false, message: `expected more than 0 bytes, found ${JSON.stringify(String(q))}` };
  return { ok: true, value: bytes };
}

/** A CPU quantity as a percentage of one CPU with at most one decimal ("1500m" → 150, "5m" → 0.5). */
export function cpuPercent(q: string | number): Parsed<number> {
  const f = fraction(q);
  if (!f.ok) return f;
  // Tenths of a percent are millicores.
  const milli = f.value.num * 1000n;
  if (milli % f.value.den !== 0n) return { ok: false, message: `expected whole millicores such as "250m", found ${JSON.stringify(String(q))}` };
  const m = milli / f.value.den;
  if (m <= 0n) return { ok: false, message: `expected more than 0 CPUs, found ${JSON.stringify(String(q))}` };
  return { ok: true, value: Number(m) / 10 };
}

/** Bytes as a quantity: "512Mi" when a whole number of a binary unit, else the number of bytes. */
export function memoryQuantity(bytes: bigint): string {
  for (const [unit, size] of Object.entries(BINARY).reverse()) if (bytes % size === 0n) return `${bytes / size}${unit}`;
  return String(bytes);
}

/** A percentage of one CPU as a quantity: 150 → "1500m", 200 → "2". */
export function cpuQuantity(percent: number): string {
  const milli = Math.round(percent * 10);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes as a spec size: "512M" when a whole number of a binary unit, else the number of bytes. */
export function specSize(bytes: bigint): string {
  for (const [unit, size] of [["T", 1n << 40n], ["G", 1n << 30n], ["M", 1n << 20n], ["K", 1n << 10n]] as const) if (bytes % size === 0n) return `${bytes / size}${unit}`;
  return String(bytes);
}
