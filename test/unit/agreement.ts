/** Checks that a plan's unit files and its D-Bus properties say the same thing, key by key. */
import { expect } from "bun:test";
import type { Plan, PlannedUnit } from "../../src/plan/types.ts";
import { PROPERTIES, type PropertyKey, toDbus } from "../../src/systemd/properties.ts";
import { render } from "../../src/plan/unitfiles.ts";
import { readProperty, readUnitFile } from "./unitfile-reader.ts";

const BY_DBUS = new Map(Object.values(PROPERTIES).map((d) => [d.dbus as string, d]));

function sectionOf(key: PropertyKey, type: "slice" | "service" | "target" | "timer"): string {
  const s = PROPERTIES[key].section;
  if (s === "Unit") return "Unit";
  return type === "slice" ? "Slice" : type === "timer" ? "Timer" : "Service";
}

export function expectUnitFilesAgreeWithDbus(plan: Plan): void {
  const files = new Map(render(plan).map((f) => [f.name, f.content]));
  const units: Array<[Pick<PlannedUnit, "name" | "properties">, "slice" | "service" | "target" | "timer"]> = [
    [plan.slice, "slice"],
    [plan.sandbox, "service"],
    ...plan.members.map((m): [PlannedUnit, "service"] => [m, "service"]),
    [plan.target, "target"],
    ...(plan.health ? [[plan.health.timer, "timer"] as [PlannedUnit, "timer"], [plan.health.service, "service"] as [PlannedUnit, "service"]] : []),
  ];
  expect([...files.keys()].sort()).toEqual(units.map(([u]) => u.name).sort());
  for (const [u, type] of units) {
    const entries = readUnitFile(files.get(u.name)!);
    const seen = new Set<string>();
    for (const d of toDbus(u)) {
      const def = BY_DBUS.get(d.name)!;
      const section = sectionOf(def.dbus, type);
      const values = (entries.get(section) ?? []).filter(([k]) => k === def.unitKey).map(([, v]) => v);
      expect({ unit: u.name, property: d.name, value: readProperty(def.dbus, values) }).toEqual({
        unit: u.name,
        property: d.name,
        value: d.value,
      });
      seen.add(`${section}/${def.unitKey}`);
    }
    for (const [section, pairs] of entries) {
      for (const [k] of pairs) {
        if (section === "Install" && k === "WantedBy") continue;
        expect({ unit: u.name, extra: `${section}/${k}`, known: seen.has(`${section}/${k}`) }).toEqual({
          unit: u.name,
          extra: `${section}/${k}`,
          known: true,
        });
      }
    }
  }
}
