"""Great Expectations Data Docs made readable offline: no CDN, no JavaScript needed.

GE's pages load Bootstrap, jQuery and bootstrap-table from CDNs, and the index pages build
their tables in JavaScript from inline data, so offline they show an empty page. `make_offline`
rewrites a built site in place: it renders those tables as static HTML from the same data,
drops every remote script, stylesheet and image, and inlines the site's own stylesheet plus a
small layout sheet, so each page is self-contained. It never imports Great Expectations.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path
from typing import Any

REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>", re.I)
REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.I)
REMOTE_IMG = re.compile(r"<img\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>", re.I)
LOCAL_CSS = re.compile(r"<link\b[^>]*\bhref=[\"']?([^\"' >]+\.css)[\"']?[^>]*>", re.I)
TABLE_CALL = re.compile(r"<script>\s*\$\(['\"]#([\w-]+)['\"]\)\.bootstrapTable\(", re.S)
ANY_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
REMOTE_URL_IN_CSS = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.I)
ONCLICK_BUTTON = re.compile(r"<button\b[^>]*onclick=[^>]*>.*?</button>", re.S | re.I)
MARKER = "<!-- followthrough: offline -->"

OFFLINE_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#212529}
.container-fluid{padding:16px 32px}.row{display:flex;flex-wrap:wrap}.col-12{width:100%}
.col-md-10,.col-lg-10{flex:1;min-width:0}.col-md-2,.col-lg-2{width:16%;min-width:160px}
.navbar{padding:8px 32px;border-bottom:1px solid #ddd}.alert{padding:8px 12px;border-radius:4px;margin:8px 0}
.alert-secondary{background:#e2e3e5}.card{border:1px solid #ddd;border-radius:4px;margin:8px 0;padding:8px}
table{border-collapse:collapse;margin:6px 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.nav-tabs{display:none}.tab-pane{display:block}
.tab-pane::before{content:attr(id);display:block;font-weight:600;margin:12px 0 4px}.collapse{display:block}
.modal,.ge-walkthrough-modal,.cooltip .top,.btn{display:none}.text-danger{color:#b00020}.text-success{color:#157f3b}
.fa-times::before{content:"\\2717 failed"}.fa-check-circle::before,.fa-check::before{content:"\\2713 passed"}
a{color:#0b5cad}
"""


def _balanced(text: str, start: int) -> tuple[str, int]:
    """The bracketed literal starting at text[start] ('[' or '{'), honouring quoted strings."""
    opening = text[start]
    closing = {"[": "]", "{": "}"}[opening]
    depth, index, quote = 0, start, ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[start:index + 1], index + 1
        index += 1
    raise ValueError("unbalanced literal")


def _literal(script: str, name: str) -> Any:
    match = re.search(rf"\b{name}\s*:\s*([\[{{])", script)
    if not match:
        return None
    source, _ = _balanced(script, match.start(1))
    return ast.literal_eval(source.replace(": true", ": True").replace(": false", ": False"))


def _static_table(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """The table bootstrap-table would draw. Cell values are GE's own rendered HTML; titles are escaped."""
    head = "".join(f"<th>{html.escape(str(c.get('title', c.get('field', ''))))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = "".join(f"<td>{row.get(str(c.get('field')), '')}</td>" for c in columns)
        link = row.get("_table_row_link_path")
        if link:
            cells += f"<td><a href=\"{html.escape(str(link), quote=True)}\">open</a></td>"
        body.append(f"<tr>{cells}</tr>")
    extra = "<th></th>" if any(r.get("_table_row_link_path") for r in rows) else ""
    return f"<thead><tr>{head}{extra}</tr></thead><tbody>{''.join(body)}</tbody>"


def _render_tables(page: str) -> str:
    for match in list(TABLE_CALL.finditer(page)):
        table_id = match.group(1)
        end = page.find("</script>", match.end())
        script = page[match.start():end]
        try:
            columns, rows = _literal(script, "columns"), _literal(script, "data")
        except (ValueError, SyntaxError):
            continue
        if not isinstance(columns, list) or not isinstance(rows, list):
            continue
        empty = re.compile(rf"(<table\b[^>]*id=\"{re.escape(table_id)}\"[^>]*>)\s*(</table>)", re.S)
        filled = _static_table(columns, rows)

        def fill(match: re.Match[str], body: str = filled) -> str:
            return match.group(1) + body + match.group(2)

        page = empty.sub(fill, page, count=1)
    return page


def _inline_css(page: str, page_path: Path, site: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        target = (page_path.parent / match.group(1)).resolve()
        if site.resolve() in target.parents and target.is_file():
            return f"<style>{target.read_text(encoding='utf-8', errors='replace')}</style>"
        return ""

    return LOCAL_CSS.sub(replace, page)


def offline_page(page: str, page_path: Path, site: Path) -> str:
    """One Data Docs page, self-contained."""
    if MARKER in page:
        return page
    page = _render_tables(page)
    page = REMOTE_SCRIPT.sub("", page)
    page = REMOTE_LINK.sub("", page)
    page = REMOTE_IMG.sub("", page)
    page = ANY_SCRIPT.sub("", page)  # what is left needs jQuery/Bootstrap, which are gone
    page = ONCLICK_BUTTON.sub("", page)
    page = _inline_css(page, page_path, site)
    page = REMOTE_URL_IN_CSS.sub("none", page)
    return page.replace("</head>", f"<style>{OFFLINE_CSS}</style>{MARKER}</head>", 1)


def make_offline(site: Path) -> int:
    """Rewrite every page of a built Data Docs site in place; return how many pages."""
    pages = sorted(site.rglob("*.html"))
    for path in pages:
        text = path.read_text(encoding="utf-8")
        path.write_text(offline_page(text, path, site), encoding="utf-8")
    return len(pages)
