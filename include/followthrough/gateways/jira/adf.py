"""Atlassian Document Format: conversion between ADF and a Markdown-like text.

``text_to_adf`` turns text the project writes itself into ADF (paragraphs, headings, lists,
code blocks, mentions, links, hard breaks). Tracker text (titles, summaries, quotes) must stay
inert: ``plain_adf`` and ``inert`` make ADF text nodes only, so ``[~accountid:...]`` or
``[x](url)`` in a title never becomes a mention or a link. ``adf_to_text`` /
``adf_to_text_with_unknown`` go the other way (the latter also reports node types it does
not know, whose text is kept, so the Jira source can quarantine such documents).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

_BLOCK_CONTAINERS = frozenset({"doc", "panel", "layoutSection", "layoutColumn", "bodiedExtension", "tableCell",
                               "tableHeader"})
_KNOWN_NODES = frozenset({
    "doc", "paragraph", "text", "hardBreak", "heading", "bulletList", "orderedList", "listItem", "codeBlock",
    "blockquote", "rule", "mention", "emoji", "inlineCard", "blockCard", "embedCard", "panel", "table",
    "tableRow", "tableHeader", "tableCell", "mediaSingle", "mediaGroup", "media", "mediaInline", "date",
    "status", "expand", "nestedExpand", "taskList", "taskItem", "decisionList", "decisionItem", "layoutSection",
    "layoutColumn", "extension", "bodiedExtension", "inlineExtension", "placeholder", "caption",
})
_INLINE_TOKEN = re.compile(
    r"\[~accountid:(?P<mention>[^\]\s]+)\]"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<href>https?://[^)\s]+)\)"
    r"|(?P<url>https?://[^\s<>\"]+)"
)


def text_to_adf(text: str, *, markup: bool = True) -> dict[str, Any]:
    """An ADF document from Markdown-like text, or, with ``markup=False``, from inert plain text.

    Plain (what tickets use, since their text quotes tracker titles and reasons): paragraphs
    separated by blank lines, hard breaks for single line breaks, and nothing but text nodes, so
    no ``[~accountid:...]``, ``[x](url)``, heading or list in the text becomes a mention, a link
    or structure.

    Markup:

    Blocks are separated by blank lines. ``# ``..``###### `` start a heading; ``- ``/``* ``
    lines a bullet list; ``1. `` lines an ordered list; a ```` ``` ```` fence a code block.
    Other lines are paragraphs; single line breaks inside one become hard breaks. Inline:
    ``[text](https://...)`` and bare URLs become links, ``[~accountid:ID]`` a mention.
    """
    content: list[dict[str, Any]] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_kind = ""
    list_start = 1
    lines = str(text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not markup:
        return {"type": "doc", "version": 1, "content": _plain_paragraphs(lines)}

    def flush_paragraph() -> None:
        if paragraph:
            inline: list[dict[str, Any]] = []
            for index, line in enumerate(paragraph):
                if index:
                    inline.append({"type": "hardBreak"})
                inline.extend(_inline_nodes(line))
            content.append({"type": "paragraph", "content": inline})
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_kind
        if items:
            node: dict[str, Any] = {"type": list_kind, "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": _inline_nodes(item)}]}
                for item in items]}
            if list_kind == "orderedList" and list_start != 1:
                node["attrs"] = {"order": list_start}
            content.append(node)
            items.clear()
        list_kind = ""

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = re.match(r"^```\s*([\w+#.-]*)\s*$", line)
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        bullet = re.match(r"^\s*[-*+]\s+(.*)$", line)
        ordered = re.match(r"^\s*(\d+)[.)]\s+(.*)$", line)
        if fence:
            flush_paragraph()
            flush_list()
            body: list[str] = []
            index += 1
            while index < len(lines) and not re.match(r"^```\s*$", lines[index]):
                body.append(lines[index])
                index += 1
            code: dict[str, Any] = {"type": "codeBlock", "content": []}
            if fence.group(1):
                code["attrs"] = {"language": fence.group(1)}
            if "\n".join(body):
                code["content"] = [{"type": "text", "text": "\n".join(body)}]
            content.append(code)
        elif heading:
            flush_paragraph()
            flush_list()
            content.append({"type": "heading", "attrs": {"level": len(heading.group(1))},
                            "content": _inline_nodes(heading.group(2))})
        elif bullet or ordered:
            flush_paragraph()
            kind = "bulletList" if bullet else "orderedList"
            if kind != list_kind:
                flush_list()
                list_kind = kind
                list_start = int(ordered.group(1)) if ordered else 1
            items.append(bullet.group(1) if bullet else ordered.group(2) if ordered else "")
        elif not line.strip():
            flush_paragraph()
            flush_list()
        else:
            flush_list()
            paragraph.append(line)
        index += 1
    flush_paragraph()
    flush_list()
    return {"type": "doc", "version": 1, "content": content}


def _plain_paragraphs(lines: list[str]) -> list[dict[str, Any]]:
    paragraphs: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for line in [*lines, ""]:
        if line.strip():
            if current:
                current.append({"type": "hardBreak"})
            current.append({"type": "text", "text": line})
        elif current:
            paragraphs.append({"type": "paragraph", "content": current})
            current = []
    return paragraphs


def _inline_nodes(line: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    position = 0
    for match in _INLINE_TOKEN.finditer(line):
        if match.start() > position:
            nodes.append({"type": "text", "text": line[position:match.start()]})
        if match.group("mention"):
            account = match.group("mention")
            nodes.append({"type": "mention", "attrs": {"id": account, "text": f"[~accountid:{account}]"}})
            position = match.end()
        elif match.group("href"):
            nodes.append({"type": "text", "text": match.group("label"),
                          "marks": [{"type": "link", "attrs": {"href": match.group("href")}}]})
            position = match.end()
        else:
            url = match.group("url").rstrip(".,;:!?)'")
            nodes.append({"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]})
            position = match.start() + len(url)
    if position < len(line):
        nodes.append({"type": "text", "text": line[position:]})
    return [n for n in nodes if n.get("type") != "text" or n.get("text")]


def adf_to_text(doc: Any) -> str:
    """Markdown-like text of an ADF document (headings as ``#``, lists as ``-``/``1.``, code fenced)."""
    return adf_to_text_with_unknown(doc)[0]


def adf_to_text_with_unknown(doc: Any) -> tuple[str, list[str]]:
    """``(text, unknown node types)``: text as :func:`adf_to_text`; the text of unknown nodes is kept."""
    if doc is None:
        return "", []
    if isinstance(doc, str):  # v2 APIs and old data give plain text
        return doc, []
    unknown: set[str] = set()
    text = _render(doc, unknown) if isinstance(doc, dict) else ""
    return text.strip("\n"), sorted(unknown)


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = node.get("content")
    return [c for c in content if isinstance(c, dict)] if isinstance(content, list) else []


def _blocks(nodes: Iterable[Mapping[str, Any]], unknown: set[str], separator: str = "\n\n") -> str:
    parts = [_render(n, unknown) for n in nodes]
    return separator.join(p for p in parts if p != "")


def _inline(node: Mapping[str, Any], unknown: set[str]) -> str:
    return "".join(_render(child, unknown) for child in _children(node))


def _indent(text: str, prefix: str, width: int) -> str:
    lines = text.split("\n")
    return "\n".join([prefix + lines[0], *[(" " * width + line) if line else line for line in lines[1:]]])


def _render(node: Mapping[str, Any], unknown: set[str]) -> str:
    kind = str(node.get("type", ""))
    attrs: dict[str, Any] = node["attrs"] if isinstance(node.get("attrs"), dict) else {}
    if kind == "text":
        text = str(node.get("text", ""))
        for mark in node.get("marks") or []:
            if isinstance(mark, dict) and mark.get("type") == "link":
                href = str((mark.get("attrs") or {}).get("href", ""))
                if href and href != text:
                    return f"[{text}]({href})"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind == "paragraph":
        return _inline(node, unknown)
    if kind == "heading":
        level = attrs.get("level", 1)
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        return "#" * level + " " + _inline(node, unknown)
    if kind in {"bulletList", "orderedList", "taskList", "decisionList"}:
        start = attrs.get("order", 1) if kind == "orderedList" else 1
        start = start if isinstance(start, int) else 1
        lines = []
        for offset, item in enumerate(_children(node)):
            body = _render(item, unknown)
            if kind == "orderedList":
                prefix = f"{start + offset}. "
            elif kind == "taskList":
                done = (item.get("attrs") or {}).get("state") == "DONE"
                prefix = "- [x] " if done else "- [ ] "
            else:
                prefix = "- "
            lines.append(_indent(body, prefix, len(prefix)))
        return "\n".join(lines)
    if kind == "listItem":
        return _blocks(_children(node), unknown, "\n")
    if kind in {"taskItem", "decisionItem"}:
        return _inline(node, unknown)
    if kind == "codeBlock":
        language = attrs.get("language") or ""
        return f"```{language}\n{_inline(node, unknown)}\n```"
    if kind == "blockquote":
        return "\n".join("> " + line if line else ">" for line in _blocks(_children(node), unknown).split("\n"))
    if kind == "rule":
        return "---"
    if kind == "mention":
        return str(attrs.get("text") or f"[~accountid:{attrs.get('id', '')}]")
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in {"inlineCard", "blockCard", "embedCard"}:
        return str(attrs.get("url") or "")
    if kind == "date":
        try:
            return datetime.fromtimestamp(int(str(attrs.get("timestamp"))) / 1000, UTC).date().isoformat()
        except (TypeError, ValueError, OverflowError):
            return ""
    if kind == "status":
        return str(attrs.get("text") or "")
    if kind in {"placeholder", "media", "mediaInline", "extension", "inlineExtension"}:
        return ""
    if kind in {"mediaSingle", "mediaGroup"}:
        return _blocks(_children(node), unknown)
    if kind == "table":
        return "\n".join(_render(row, unknown) for row in _children(node))
    if kind == "tableRow":
        cells = [_blocks(_children(cell), unknown, " ").replace("\n", " ") for cell in _children(node)]
        return "| " + " | ".join(cells) + " |"
    if kind in {"expand", "nestedExpand"}:
        title = str(attrs.get("title") or "")
        body = _blocks(_children(node), unknown)
        return f"{title}\n\n{body}" if title and body else title or body
    if kind in _BLOCK_CONTAINERS or kind == "caption":
        return _blocks(_children(node), unknown)
    # unknown node type: keep whatever text it carries, and report it
    unknown.add(kind or "<no type>")
    children = _children(node)
    if children:
        block = any(str(c.get("type")) not in {"text", "hardBreak", "mention", "emoji", "inlineCard", "date",
                                                "status"} for c in children)
        return _blocks(children, unknown) if block else _inline(node, unknown)
    return str(node.get("text") or "")

