/**
 * Kubernetes replaces `$(NAME)` in a container's command, args and env values
 * by the value of NAME when the container defines it, and `$$` by `$`; podunit
 * passes every word verbatim. These two functions carry a word across. Pure.
 */
import type { Parsed } from "../podspec/grammar.ts";

/** A spec's word as Kubernetes must read it to pass it on unchanged: every `$` doubled when it holds a `$$` or a `$(NAME)` of `names`. */
export function escapeForKube(word: string, names: ReadonlySet<string>): string {
  const changes = [...word.matchAll(/\$\$|\$\(([^)]*)\)/g)].some((m) => m[0] === "$$" || names.has(m[1]!));
  return changes ? word.replaceAll("$", "$$$$") : word;
}

/** A manifest's word as the container would see it: `$$` is `$`; a `$(NAME)` of `names` is refused (its value is not written here). */
export function unescapeFromKube(word: string, names: ReadonlySet<string>): Parsed<string> {
  let bad: string | undefined;
  const out = word.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    if (name !== undefined && names.has(name)) bad ??= m;
    return m;
  });
  if (bad !== undefined) return { ok: false, message: `a cluster replaces ${bad} by the variable's value and podunit passes words verbatim: write the value, or $$(...) to keep the text` };
  return { ok: true, value: out };
}
