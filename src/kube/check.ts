/**
 * Holds one manifest document against the table of fields (fields.ts): an
 * unknown or refused field, or a value of the wrong type, is an issue with its
 * path and line; a field accepted without effect is a note. Pure.
 */
import { closest } from "../podspec/describe.ts";
import type { KubeIssue } from "./errors.ts";
import type { Field } from "./fields.ts";
import { formatKPath, type KPath, type YamlDoc } from "./yaml.ts";

/** Issues and notes found in one file, each placed by a document's `where`. */
export class Findings {
  readonly issues: KubeIssue[] = [];
  readonly notes: KubeIssue[] = [];
  constructor(readonly file: string) {}
  issue(doc: YamlDoc, path: KPath, message: string): void {
    this.issues.push({ file: this.file, ...doc.where(path), path: formatKPath(path), message });
  }
  note(doc: YamlDoc, path: KPath, message: string): void {
    this.notes.push({ file: this.file, ...doc.where(path), path: formatKPath(path), message });
  }
}

/** What a value is, for a message: "a string", "the number 3", "a list". */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return `the number ${v}`;
  if (typeof v === "boolean") return `the boolean ${v}`;
  return typeof v;
}

const isMapValue = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks `value` at `path` of `doc` against `field`, recording into `f`. */
export function checkField(f: Findings, doc: YamlDoc, path: KPath, value: unknown, field: Field): void {
  const wrong = (expected: string) => f.issue(doc, path, `expected ${expected}, found ${kindOf(value)}`);
  switch (field.t) {
    case "string":
      if (typeof value !== "string") wrong("a string");
      return;
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) wrong("an integer");
      return;
    case "bool":
      if (typeof value !== "boolean") wrong("true or false");
      return;
    case "quantity":
      if (typeof value !== "string" && typeof value !== "number") wrong(`a quantity such as "512Mi" or "500m"`);
      return;
    case "port":
      if (!(typeof value === "number" && Number.isInteger(value)) && typeof value !== "string") wrong("a port number or the name of a container port");
      return;
    case "strmap":
      if (!isMapValue(value)) return wrong("a map of strings");
      for (const [k, v] of Object.entries(value)) if (typeof v !== "string") f.issue(doc, [...path, k], `expected a string, found ${kindOf(v)}; quote it`);
      return;
    case "list":
      if (!Array.isArray(value)) return wrong("a list");
      value.forEach((item, i) => checkField(f, doc, [...path, i], item, field.of));
      return;
    case "noted":
      f.note(doc, path, `not kept: ${field.why}`);
      return;
    case "refused":
      f.issue(doc, path, `not supported: ${field.why}`);
      return;
    case "map": {
      if (!isMapValue(value)) return wrong("a map");
      for (const [k, v] of Object.entries(value)) {
        const sub = field.keys[k];
        if (sub === undefined) {
          const near = closest(k, Object.keys(field.keys));
          f.issue(doc, [...path, k], `not supported: podunit does not know this field${near ? `; did you mean '${near}'?` : ""}`);
        } else if (v === null && sub.t !== "refused") {
          continue; // `key:` with nothing after it is the field left out
        } else checkField(f, doc, [...path, k], v, sub);
      }
      return;
    }
  }
}
