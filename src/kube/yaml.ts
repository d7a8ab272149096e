/**
 * YAML in and out, through the `yaml` package (it keeps every node's offset, so
 * a refusal can name its line). A file may hold several documents (`---`).
 * Pure: text in, documents or text out.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, stringify, type Document, type Node } from "yaml";
import type { KubeIssue } from "./errors.ts";

/** A path into a document: keys and list indexes (`["spec", "containers", 0, "image"]`). */
export type KPath = readonly (string | number)[];

/** One document of a manifest file, with a way to find where a path is written. */
export interface YamlDoc {
  /** The document as plain data (aliases resolved). */
  value: unknown;
  /** Which document of the file (0-based). */
  index: number;
  /** Line (1-based) and column of the key or item at `path`; the nearest written parent when the path is absent. */
  where(path: KPath): { line: number; column: number };
  /** The node itself, for walking the shape of the document. */
  node: Node | null;
}

/** `spec.containers[0].lifecycle.preStop`: the path as Kubernetes writes it. */
export function formatKPath(path: KPath): string {
  let out = "";
  for (const s of path) out += typeof s === "number" ? `[${s}]` : out === "" ? s : `.${s}`;
  return out;
}

/**
 * Parses every document of `text` as YAML 1.1, as Kubernetes reads it (`0644` is
 * an octal file mode, `yes` a boolean); syntax errors become issues with their line.
 */
export function readYaml(text: string, file: string): { docs: YamlDoc[]; issues: KubeIssue[] } {
  const lc = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, version: "1.1" });
  const list = Array.isArray(parsed) ? parsed : [];
  const issues: KubeIssue[] = [];
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const docs: YamlDoc[] = [];
  list.forEach((doc: Document.Parsed, index) => {
    for (const e of doc.errors) issues.push({ file, ...pos(e.pos[0]), path: "", message: `YAML syntax: ${e.message.split("\n")[0]}` });
    if (doc.errors.length) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      issues.push({ file, ...pos(doc.range[0]), path: "", message: `YAML: ${(e as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return; // an empty document, as between two `---`
    const node = doc.contents;
    docs.push({ value, index, node, where: (path) => pos(offsetOf(node, path) ?? doc.range[0]) });
  });
  return { docs, issues };
}

/** The offset of the key (for a map entry) or item (for a list element) at `path`, or of its deepest written parent. */
function offsetOf(root: Node | null, path: KPath): number | undefined {
  let node: unknown = root;
  let at: number | undefined = (root as Node | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return at;
      at = (pair.key as Node).range?.[0] ?? at;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as Node | undefined;
      if (!item) return at;
      at = item.range?.[0] ?? at;
      node = item;
    } else return at;
  }
  return at;
}

/** YAML text of one or more documents, in the block style Kubernetes' documentation uses. */
export function writeYaml(docs: unknown[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false, version: "1.1" })).join("---\n");
}
