/**
 * Markdown, as the documents in docs/ write it, to man(7) roff: headings,
 * paragraphs, lists, code blocks and tables (as tagged paragraphs, which read
 * well at any width and need no tbl). Only this subset: the man pages are made
 * from docs/ so that the reference is written once.
 */

const GLYPHS: Record<string, string> = { "—": "\\(em", "–": "\\(en", "→": "\\(->", "←": "\\(<-", "≤": "\\(<=", "≥": "\\(>=", "×": "\\(mu", "“": "\\(lq", "”": "\\(rq", "‘": "\\(oq", "’": "\\(cq", "…": "\\&..." };

/** Text safe in roff: backslashes, non-ASCII characters, and a leading dot or quote. */
export function escapeRoff(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/[^\x00-\x7f]/gu, (c) => GLYPHS[c] ?? `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`);
}

/** A line of text for roff's input: escaped, protected when it would read as a request. */
export function roffLine(text: string): string {
  return /^[.']/.test(text) ? `\\&${text}` : text;
}

/** Literal text (options, keys, commands): bold, with its hyphens as minus signs so they copy and search as typed. */
export function literal(text: string): string {
  return `\\fB${escapeRoff(text).replace(/-/g, "\\-")}\\fR`;
}

/** Markdown's inline marks: `code`, **bold**, *emphasis*, [links](target). */
export function inline(md: string): string {
  // Code is already bold: **`x`** is the same, and its marks would straddle the code span.
  const parts = md.replace(/\*\*(`[^`]+`[^*]*)\*\*/g, "$1").split(/(`[^`]+`)/);
  return parts
    .map((p) => {
      if (p.startsWith("`") && p.endsWith("`") && p.length > 1) return literal(p.slice(1, -1));
      return escapeRoff(p)
        .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, t: string, u: string) => (/^https?:/.test(u) ? `${t} (${u})` : t))
        .replace(/\*\*([^*]+)\*\*/g, "\\fB$1\\fR")
        .replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, "$1\\fI$2\\fR");
    })
    .join("");
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"));
}

/** A table as tagged paragraphs: the first cell is the tag, the others are `Header: cell` lines. */
function table(rows: string[]): string[] {
  const head = cells(rows[0]!);
  const out: string[] = [];
  for (const r of rows.slice(2)) {
    const c = cells(r);
    out.push(".TP", roffLine(inline(c[0] ?? "")));
    c.slice(1).forEach((cell, i) => {
      if (i > 0) out.push(".br");
      const h = head[i + 1] ?? "";
      out.push(roffLine(`${h ? `${escapeRoff(h[0]!.toUpperCase() + h.slice(1))}: ` : ""}${inline(cell)}`));
    });
  }
  return out;
}

function code(lines: string[]): string[] {
  return [".PP", ".RS 4", ".nf", ...lines.map((l) => roffLine(escapeRoff(l))), ".fi", ".RE"];
}

/**
 * Converts a document. The first `#` heading is left out (the page's NAME says
 * it); `##` become sections, deeper headings subsections.
 */
export function markdownToRoff(md: string): string {
  const lines = md.replace(/\r/g, "").split("\n");
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push(".PP", roffLine(inline(para.join(" "))));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const [, hashes, text] = heading;
      if (hashes!.length === 1) continue;
      out.push(hashes!.length === 2 ? `.SH ${escapeRoff(text!.replace(/`/g, "").toUpperCase())}` : `.SS ${escapeRoff(text!.replace(/`/g, ""))}`);
      continue;
    }
    if (line.startsWith("```")) {
      flush();
      const block: string[] = [];
      while (++i < lines.length && !lines[i]!.startsWith("```")) block.push(lines[i]!);
      out.push(...code(block));
      continue;
    }
    if (/^ {4}\S/.test(line) && para.length === 0) {
      const block: string[] = [];
      for (; i < lines.length && (/^ {4}/.test(lines[i]!) || lines[i] === ""); i++) block.push(lines[i]!.slice(4));
      i--;
      while (block.at(-1) === "") block.pop();
      out.push(...code(block));
      continue;
    }
    if (line.startsWith("|")) {
      flush();
      const rows: string[] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(lines[i]!);
      i--;
      out.push(...table(rows));
      continue;
    }
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (item) {
      flush();
      const text = [item[1]!];
      while (i + 1 < lines.length && /^ {2,}\S/.test(lines[i + 1]!)) text.push(lines[++i]!.trim());
      out.push(".IP \\(bu 2", roffLine(inline(text.join(" "))));
      continue;
    }
    if (line.trim() === "") flush();
    else para.push(line.trim());
  }
  flush();
  return out.join("\n") + "\n";
}
