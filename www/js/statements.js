// @ts-check
// The accessibility and privacy statements (docs/statements/, copied beside the page by
// the build), opened from the footer in a dialog, in the page's language.
import { t, locale, onLanguageChange } from "./i18n.js";

/**
 * The statements' Markdown as HTML elements: headings, paragraphs, lists, tables, `code`
 * and **bold**. Text only, never markup from the file.
 * @param {string} markdown
 * @returns {HTMLElement[]}
 */
function render(markdown) {
  const inline = (text, into) => {
    for (const part of text.split(/(`[^`]+`|\*\*[^*]+\*\*)/)) {
      if (!part) continue;
      const tag = part.startsWith("`") ? "code" : part.startsWith("**") ? "strong" : null;
      into.append(tag ? Object.assign(document.createElement(tag), { textContent: part.replace(/^(`|\*\*)|(`|\*\*)$/g, "") }) : part);
    }
    return into;
  };
  const el = (tag) => document.createElement(tag);
  const out = [];
  for (const block of markdown.trim().split(/\n\s*\n/)) {
    const lines = block.split("\n");
    if (/^#+ /.test(lines[0])) out.push(inline(lines[0].replace(/^#+ /, ""), el(lines[0].startsWith("## ") ? "h3" : "h2")));
    else if (lines[0].startsWith("- ")) {
      const list = el("ul");
      // A list item's text may go on over the next lines.
      block.split(/\n- /).forEach((item) => list.append(inline(item.replace(/^- /, "").replace(/\n\s*/g, " "), el("li"))));
      out.push(list);
    } else if (lines[0].startsWith("|")) {
      const table = el("table");
      lines.filter((l) => !/^\|[\s-|]+\|$/.test(l)).forEach((line, i) => {
        const row = table.insertRow();
        line.slice(1, -1).split("|").forEach((cell) => row.append(inline(cell.trim(), el(i === 0 ? "th" : "td"))));
      });
      out.push(table);
    } else out.push(inline(block.replace(/\n\s*/g, locale() === "zh-CN" ? "" : " "), el("p")));
  }
  return out;
}

export function initStatements() {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById("statement"));
  const body = document.getElementById("statement-body");
  for (const link of /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll("[data-statement]"))) {
    const name = link.dataset.statement;
    onLanguageChange(() => { link.href = `statements/${name}.${locale() === "zh-CN" ? "zh" : "en"}.md`; });
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      try {
        const response = await fetch(link.href);
        if (!response.ok) throw new Error(String(response.status));
        body.replaceChildren(...render(await response.text()));
      } catch (error) {
        body.replaceChildren(Object.assign(document.createElement("p"), { textContent: t("statement_failed", [error.message]) }));
      }
      dialog.showModal();
    });
  }
  dialog.querySelector("button").addEventListener("click", () => dialog.close());
}
