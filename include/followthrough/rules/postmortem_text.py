"""Postmortem text checks: which of the five sections a write-up has, and blame-first wording.

A complete postmortem has five sections (``SECTIONS``): summary, timeline, root_cause,
impact and actions. Real write-ups come as Markdown, HTML or plain text, so a section
is recognised by any of these headings:

* Markdown ATX (``## Impact``) and setext (``Impact`` underlined with ``===``/``---``)
  headings, including numbered ones (``## 3. Impact``, ``3) Impact``);
* HTML ``<h1>``..``<h6>`` (HTML input is first turned into Markdown-ish text by
  ``html_to_text``);
* bold pseudo-headings alone on a line (``**Root cause**``, ``__Impact:__``);
* inline labels that start a line (``Root cause: ...``, ``- **Impact:** ...``, Azure's
  ``Summary of impact: ...``), or that a text extraction ran into the previous sentence
  (``... mitigated at 08:30 UTC. Next steps: We ...``) when the label names a section;
* rows of a field/value table (``| **Impact** | 5% of logins failed |``; a column header row
  is not a section);
* in documents with at most one Markdown heading (plain-text reports), stand-alone
  ALL-CAPS or Title-Case lines such as Google Cloud's ``ISSUE SUMMARY`` or
  ``Root Cause:`` - except the first line, which is the report's title
  ("South Central US - Preliminary RCA").

Heading text is matched against per-section vocabularies (``_SECTION_PATTERNS``) built
from the usual postmortem templates (Google SRE, PagerDuty, Atlassian, cloud-provider
incident reports), not from one corpus. A heading may name several sections
("Summary of impact", "Root cause and remediation") and counts for each.
"Lessons learned"/"Takeaways" count as actions (they state what will change);
"Resolution"/"Recovery"/"Mitigation" alone do not (they tell how service came back).
Headings longer than twelve words (FAQ questions, sentences) are never section headings.

A section is *present* when a matching heading has a body that is not empty and not a
placeholder (TBD, TODO, N/A, "to be added", "unknown, under investigation", ``-``, ``...``,
an empty checkbox, a bracketed template hint such as ``[Describe the impact]``). An
explicit "None" is a statement ("Customer impact: None"), not a placeholder. A heading's
body runs to the next heading of the same or a higher level, or to the next heading that
names a different section, so ``## Remediation`` followed only by ``### Immediate actions``
subsections is not empty, while ``### Impact`` / ``TBD`` / ``**Follow-ups**`` is. When every
matching heading is empty the section is reported ``empty`` (and not present).

Two structural equivalents count without a heading (``heading`` is then ``None``):

* summary: the opening prose (before the first section heading, after a title,
  front matter and ``Key: value`` metadata lines) when it has at least
  ``LEAD_SUMMARY_MIN_WORDS`` words - a one-line subtitle is not a summary;
* timeline: at least ``TIMESTAMP_LINES_MIN`` lines, list items or table rows that
  start with a time or date, optionally after "At"/"around"/"~" (``14:05``,
  ``2022-06-12``, ``Jan 14, 10:18 AM``, ``[13:26]``, ``At 3:43 PM, ...``); hard-wrapped
  prose lines that happen to begin with a time are not counted.

An explicit but empty heading wins over these fallbacks: ``## Summary`` followed by
``TBD`` is reported empty even when the document opens with a paragraph.

Blame-first language (``find_blame``) is wording that pins the incident on a person's
failing or character. Choices, documented so reviewers can argue with them:

* "human error", "operator/engineer/developer error|mistake", careless, negligent,
  lazy/laziness, sloppy, incompetent, reckless, "didn't bother", "his/her fault" fire on
  their own;
* "forgot", "failed to", "neglected to", "should have", "made a mistake",
  "did not follow", "ignored the ...", "was at fault", "is to blame", "was responsible for
  the outage" fire only with an individual as subject: I/he/she, a role (engineer,
  operator, developer, on-call, admin, employee, user, someone, ...), an ``@handle`` or a
  capitalised name (names only with verbs only people do, so "Kubernetes failed to
  schedule" is not blame);
* "blame X", "the fault of X", "X's fault" fire only when X is an individual ("blame the
  DBA", "John's fault"; not "blamed on the network", "the disk's fault");
* "we"/"our team" as subject is collective ownership, not blame ("we failed to
  consider the case", "we should have posted sooner"); a system, process, tool or
  "it/which/this" as subject is not blame ("the system should have rejected the
  request", "it should have failed quickly");
* a negation, rejection or prevention cue before the phrase in the same sentence
  cancels it ("we don't attribute this to human error", "to reduce the risk of human
  error", "I don't want to blame our tools", "not due to carelessness"), as does
  "blameless", and so does a generic statement after it ("human error is not the root
  cause", "human errors happen", "blaming individuals is counterproductive");
* technical idioms and look-alikes are excluded: lazy loading/evaluation, sloppy quorum,
  "user error report", "human error rate", "forgot to mention" (about the write-up), a
  capitalised "Forget" inside a sentence (a surname);
* the same sentence repeated (a status page that shows the report twice) is one hit.

Each hit is reported with the sentence it occurs in (``quote``), cut to a window of at
most ``QUOTE_MAX_CHARS`` characters around the match.

Everything is stdlib, linear in the size of the text (1 MB takes well under a second),
and accepts ``None``/empty text and Windows line endings.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

SECTIONS = ("summary", "timeline", "root_cause", "impact", "actions")

LEAD_SUMMARY_MIN_WORDS = 20
TIMESTAMP_LINES_MIN = 3
QUOTE_MAX_CHARS = 200
MAX_QUOTES = 200  # evidence beyond this adds nothing; keeps pathological input linear
MAX_HEADING_WORDS = 12

_PSEUDO_LEVEL = 7  # bold pseudo-headings, stand-alone label lines, plain-text headings
_LABEL_LEVEL = 8  # "Label: inline text" lines


@dataclass(frozen=True)
class SectionStatus:
    """Whether one section is there: ``present`` (found with real content), ``heading``
    (the heading text that matched, ``None`` for a structural equivalent or when absent)
    and ``empty`` (a heading was found but its body is empty or a placeholder)."""

    present: bool
    heading: str | None
    empty: bool
    # what was judged, for the owner: the heading and the start of its body, the sentence that
    # states the content, or what was looked for when the section is missing
    evidence: str | None = field(default=None, compare=False)
    # "heading", "structure" (opening prose, timestamped lines) or "content" (prose cues)
    basis: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BlameQuote:
    """One blame-first phrase (``phrase``, as matched, lower-cased) and the sentence
    around it (``quote``, at most ``QUOTE_MAX_CHARS`` characters)."""

    phrase: str
    quote: str


# --------------------------------------------------------------------------- vocabulary

_SECTION_PATTERNS: dict[str, re.Pattern[str]] = {
    "summary": re.compile(
        r"\b(?:summary|summaries|overview|what\s+happened|background|introduction|tl\s*;?\s*dr|synopsis"
        r"|abstract|recap|incident\s+description|description\s+of\s+the\s+(?:incident|event|issue|outage)"
        r"|executive\s+summary|in\s+short)\b"
    ),
    "timeline": re.compile(
        r"\b(?:timelines?|time\s+line|chronolog\w*|sequence\s+of\s+events|order\s+of\s+events"
        r"|series\s+of\s+events|event\s+log|incident\s+log|play[\s-]by[\s-]play)\b"
    ),
    "root_cause": re.compile(
        r"\b(?:root[\s-]*caus\w*|caus(?:e|es|ed|ing)|causal\s+factors?|contributing\s+factors?"
        r"|how\s+did\s+(?:this|it|that)\s+happen|why\s+(?:did\s+)?(?:this|it|that)\s+happen(?:ed)?"
        r"|what\s+went\s+wrong|underlying\s+(?:issue|problem|reason)s?|triggers?|rca|(?:5|five)\s+whys)\b"
        r"|^why\b"
    ),
    "impact": re.compile(
        r"\b(?:impacts?|impacted|affected|data\s+loss|consequences|symptoms|blast\s+radius"
        r"|scope\s+of\s+(?:the\s+)?(?:incident|outage|issue|problem|event)"
        r"|(?:customer|user)[\s-]facing\s+effects?|what\s+(?:customers|users)\s+(?:saw|experienced))\b"
    ),
    "actions": re.compile(
        r"\b(?:action\s+items?|action\s+plan|actions?(?!\s+taken)|actionables?|follow[\s-]*ups?|next\s+steps"
        r"|remediations?|prevent\w*|corrective|correction|preventive|preventative"
        r"|improv(?:e|ed|es|ing|ements?)|what\s+we(?:'|\u2019)?re\s+(?:doing|changing)"
        r"|what\s+we\s+are\s+(?:doing|changing)|what\s+we\s+will\s+(?:do|change)|what\s+we(?:'|\u2019)ll\s+do"
        r"|changes\s+we(?:'|\u2019)?re\s+making|changes\s+we\s+(?:are|will\s+be)\s+making"
        r"|steps\s+we(?:'|\u2019)?re\s+taking|steps\s+we\s+are\s+taking|what(?:'|\u2019)?s\s+next"
        r"|how\s+we(?:'|\u2019)?(?:re|\s+are|\s+will|ll)\s+(?:fix|address|prevent|improv|chang)\w*|repair\s+items?"
        r"|(?:happen(?:s|ing)?|occur(?:s|ring)?)\s+again|recurrence|reoccurrence"
        r"|going\s+forward|moving\s+forward|future\s+work|commitments?|lessons?\s+learn(?:ed|t)|learnings"
        r"|takeaways?|recommendations?|what\s+we(?:'ve|\s+have)?\s+learn(?:ed|t))\b"
    ),
}


@functools.lru_cache(maxsize=4096)
def classify_heading(text: str) -> tuple[str, ...]:
    """The sections a heading's text names (several for combined headings), in SECTIONS order."""
    norm = _normalise_heading(text)
    if not norm or len(norm.split()) > MAX_HEADING_WORDS:
        return ()
    return tuple(s for s in SECTIONS if _SECTION_PATTERNS[s].search(norm))


_LEADING_JUNK_RE = re.compile(r"^[^\w(\[]+")
_NUMBERING_RE = re.compile(
    r"^(?:\d+(?:\.\d+)*[.):]\s+|\d+(?:\.\d+)+\s+|\d+\s{2,}|[ivxIVX]{1,4}[.)]\s+|[A-Za-z][.)]\s+)"
)
_CLOSING_HASHES_RE = re.compile(r"[ \t]+#+[ \t]*$")
_TABLE_SEPARATOR_RE = re.compile(r"[|:\-\s]+")
_LIST_MARKERS_RE = re.compile(r"^(?:[-*+\u2022>]\s*|\d+[.)]\s*)+")
_CHECKBOX_RE = re.compile(r"^\[[ xX]?\]\s*")
_BRACKETED_RE = re.compile(r"\[[^\]]*\]\.?")
_NO_WORDS_RE = re.compile(r"[\W_]*")
_URL_RE = re.compile(r"https?://\S+")


def _normalise_heading(text: str) -> str:
    text = _strip_inline_markup(text)
    text = _LEADING_JUNK_RE.sub("", text)  # emoji, bullets, punctuation in front
    text = _NUMBERING_RE.sub("", text)
    text = text.strip().rstrip(":").strip()
    return text.lower()


_PLACEHOLDER_RE = re.compile(
    r"^(?:tbd|tba|tbc|todo|to\s*do|to-do|n\s*/?\s*a|none\s+yet|nothing\s+yet|pending|unknown"
    r"|(?:still\s+)?(?:under|pending)\s+investigation|(?:being|still\s+being)\s+investigated"
    r"|investigation\s+(?:is\s+)?(?:ongoing|in\s+progress)"
    r"|wip|work\s+in\s+progress|coming\s+soon|placeholder|fill\s+(?:me\s+)?in|xxx+|\?+|\.+|\u2026"
    r"|to\s+be\s+(?:added|determined|defined|done|completed|written|filled(?:\s+in)?|confirmed|decided"
    r"|updated|provided|documented|investigated)(?:\s+later)?"
    r"|will\s+be\s+(?:added|updated|provided)(?:\s+later)?)$"
)

# --------------------------------------------------------------------------- text prep

_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.S)
_HTML_DOC_RE = re.compile(r"<(?:!doctype\s+html|html|body)\b", re.I)
_HTML_HEADING_OR_PARAGRAPH_RE = re.compile(r"<(?:h[1-6]|p|li|div|article|section)\b", re.I)
_FRONT_MATTER_KEY_RE = re.compile(r"[\w-]+\s*[:=]")
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+")
_BOLD_LINE_RE = re.compile(r"^\s{0,3}(?:\*\*|__)(?P<t>[^*_\n]{1,100}?)(?:\*\*|__)\s*:?\s*$")
_LABEL_RE = re.compile(
    r"^\s{0,3}(?:[-*+\u2022]\s+|\d+[.)]\s+)?(?:\*\*|__)?\s*"
    r"(?P<label>[A-Za-z][A-Za-z0-9 /&'\u2019()+,-]{0,60}?)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?(?P<rest>.*)$"
)
# "... was mitigated at 08:30 UTC. Next steps: We ..." - a label run into the previous paragraph
# by a text extraction; only labels that name a section count
_MIDLINE_LABEL_RE = re.compile(r"(?<=[.!?])\s+(?P<label>[A-Z][A-Za-z/&'\u2019 -]{2,40}?):\s+(?=\S)")
# "| **Impact** | 5% of logins failed |" - a row of a field/value table
_TABLE_LABEL_RE = re.compile(r"^\s*\|\s*(?P<label>[^|]{1,60}?)\s*:?\s*\|(?P<rest>.*)$")
_HAS_LETTER_RE = re.compile(r"[A-Za-z]")
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\u2019-]*")


def _prepare(text: str | None) -> str:
    """Normalised text: str, LF line endings, HTML turned into text, comments and front matter gone."""
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    if _looks_like_html(text):
        text = html_to_text(text)
    text = _COMMENT_RE.sub("", text)
    return _strip_front_matter(text)


def _looks_like_html(text: str) -> bool:
    """An HTML document or fragment, not Markdown with some inline tags (<img>, <br />, a <table>)."""
    sample = _COMMENT_RE.sub("", text[:200_000])
    if _HTML_DOC_RE.search(sample):
        return True
    if any(_ATX_RE.match(line) for line in sample.split("\n")):
        return False
    return len(_HTML_HEADING_OR_PARAGRAPH_RE.findall(sample)) >= 2


def _strip_front_matter(text: str) -> str:
    """Drop a leading YAML (``---``) or TOML (``+++``) front-matter block."""
    stripped = text.lstrip("\n \t")
    for fence in ("---", "+++"):
        if stripped.startswith(fence + "\n") and _FRONT_MATTER_KEY_RE.match(stripped, len(fence) + 1):
            end = stripped.find("\n" + fence, len(fence))
            if end != -1 and end < 20_000:
                after = stripped.find("\n", end + 1)
                return stripped[after + 1 :] if after != -1 else ""
    return text


_MD_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_REF_LINK_RE = re.compile(r"\[([^\]]*)\]\[[^\]]*\]")
_INLINE_TAG_RE = re.compile(r"<[^>\n]{1,200}>")
_EMPHASIS_RE = re.compile(r"\*\*|__|\*|`|~~")
_UNDERSCORE_RE = re.compile(r"(?<!\w)_(?=\S)|(?<=\S)_(?!\w)")
_MARKUP_CHARS = frozenset("[<*_`~")


def _strip_inline_markup(text: str) -> str:
    """Text without Markdown links/images/emphasis/code marks and inline HTML tags."""
    if not _MARKUP_CHARS.intersection(text):
        return text.strip()
    if "[" in text:
        text = _MD_IMAGE_RE.sub(r"\1", text)
        text = _MD_LINK_RE.sub(r"\1", text)
        text = _MD_REF_LINK_RE.sub(r"\1", text)
    if "<" in text:
        text = _INLINE_TAG_RE.sub("", text)
    text = _EMPHASIS_RE.sub("", text)
    if "_" in text:
        text = _UNDERSCORE_RE.sub("", text)
    return text.strip()


# --------------------------------------------------------------------------- HTML


class _HtmlToText(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "nav", "head", "button", "form"})
    _BLOCK = frozenset(
        {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
         "ul", "ol", "table", "thead", "tbody", "dl", "figure", "figcaption", "hr", "details", "summary"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("br", "tr"):
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag in ("dt", "dd"):
            self.out.append("\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag == "pre":
            self.pre_depth += 1
            self.out.append("\n\n```\n")
        elif tag in self._BLOCK:
            self.out.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self.skip_depth:
            self.out.append("\n")
        elif tag == "hr" and not self.skip_depth:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.out.append("\n\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
            self.out.append("\n```\n\n")
        elif tag in self._BLOCK or tag in ("li", "dd", "dt"):
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str | None) -> str:
    """Readable text from HTML; ``<h2>Impact</h2>`` becomes the Markdown line ``## Impact``,
    list items become ``- `` lines, ``<strong>`` becomes ``**``, ``<pre>`` a fenced block,
    and scripts, styles and navigation are dropped."""
    if not html:
        return ""
    html = str(html).replace("\r\n", "\n").replace("\r", "\n")
    parser = _HtmlToText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"\*\*\s*\*\*", "", text)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(line.lstrip() if not line.lstrip().startswith("|") else line.strip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n" if text.strip() else ""


# --------------------------------------------------------------------------- headings


@dataclass(frozen=True)
class _Heading:
    line: int
    level: int
    text: str
    sections: tuple[str, ...]
    inline: str  # text after a "Label:" on the same line


def _code_mask(lines: list[str]) -> list[bool]:
    """True for lines inside fenced code blocks (fence lines included)."""
    mask = [False] * len(lines)
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE_RE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                mask[i] = True
        else:
            mask[i] = True
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
                fence = None
    return mask


def _is_title_case(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", text)]
    if not words:
        return False
    if text.upper() == text:
        return True
    small = {"a", "an", "and", "the", "of", "to", "in", "on", "for", "or", "at", "by", "with", "we", "is"}
    capital = [w for w in words if w[0].isupper() or w.lower() in small]
    return words[0][0].isupper() and len(capital) == len(words)


def _find_headings(lines: list[str], code: list[bool]) -> list[_Heading]:
    markdown: list[_Heading] = []
    underlines: set[int] = set()
    for i, line in enumerate(lines):
        if code[i]:
            continue
        m = _ATX_RE.match(line)
        if m:
            text = _strip_inline_markup(_CLOSING_HASHES_RE.sub("", m.group(2) or ""))
            markdown.append(_Heading(i, len(m.group(1)), text, classify_heading(text), ""))
            continue
        if i > 0 and _SETEXT_RE.match(line) and not code[i - 1]:
            prev = lines[i - 1]
            if (
                prev.strip()
                and not _LIST_ITEM_RE.match(prev)
                and not _ATX_RE.match(prev)
                and not prev.lstrip().startswith(("|", ">", "<"))
                and not _SETEXT_RE.match(prev)
                and len(prev.split()) <= MAX_HEADING_WORDS
                and (i < 2 or not lines[i - 2].strip() or _ATX_RE.match(lines[i - 2]))
            ):
                text = _strip_inline_markup(prev)
                level = 1 if line.strip().startswith("=") else 2
                markdown.append(_Heading(i - 1, level, text, classify_heading(text), ""))
                underlines.add(i)
    plain_allowed = len(markdown) <= 1
    # the first line of a plain-text report is its title ("X - Preliminary RCA"), unless it is a
    # short heading set off by a blank line ("SUMMARY")
    first_text = next((i for i, line in enumerate(lines) if line.strip() and not code[i]), -1)
    if (
        first_text >= 0
        and first_text + 1 < len(lines)
        and not lines[first_text + 1].strip()
        and len(lines[first_text].split()) <= 4
    ):
        first_text = -1
    markdown_lines = {h.line for h in markdown} | underlines
    extra: list[_Heading] = []
    for i, line in enumerate(lines):
        if code[i] or i in markdown_lines or not _HAS_LETTER_RE.search(line):
            continue
        if line.lstrip().startswith("|"):
            row = _TABLE_LABEL_RE.match(line)
            header = i + 1 < len(lines) and bool(_TABLE_SEPARATOR_RE.fullmatch(lines[i + 1].strip()))
            if row and not header:
                name = _strip_inline_markup(row.group("label"))
                sections = classify_heading(name)
                rest = _strip_inline_markup(row.group("rest").replace("|", " "))
                if sections and len(name.split()) <= 4:
                    extra.append(_Heading(i, _LABEL_LEVEL, name, sections, rest))
            continue
        bold = _BOLD_LINE_RE.match(line)
        if bold:
            text = bold.group("t").strip().rstrip(":").strip()
            if text and len(text.split()) <= 8 and not text.endswith((".", "!", ",")):
                extra.append(_Heading(i, _PSEUDO_LEVEL, text, classify_heading(text), ""))
                continue
        label = _LABEL_RE.match(line)
        scan_from = 0
        if label and not label.group("rest").startswith("//"):
            name = _strip_inline_markup(label.group("label"))
            rest = label.group("rest").strip()
            rest = re.sub(r"^(?:\*\*|__)\s*", "", rest).strip()
            if name and name[0].isupper() and len(name.split()) <= 6:
                sections = classify_heading(name)
                # "Root cause:" alone on a line heads what follows; "Note:" alone is just a label
                level = _PSEUDO_LEVEL if sections and not rest else _LABEL_LEVEL
                extra.append(_Heading(i, level, name, sections, rest))
                scan_from = label.start("rest")
        if not scan_from and plain_allowed and i != first_text and _is_plain_heading(lines, i):
            text = _strip_inline_markup(line).rstrip(":").strip()
            extra.append(_Heading(i, _PSEUDO_LEVEL, text, classify_heading(text), ""))
            continue
        for mid in _MIDLINE_LABEL_RE.finditer(line, scan_from):
            name = mid.group("label")
            sections = classify_heading(name)
            if sections and len(name.split()) <= 4:
                extra.append(_Heading(i, _LABEL_LEVEL, name, sections, line[mid.end() :].strip()))
    return sorted(markdown + extra, key=lambda h: h.line)


def _is_plain_heading(lines: list[str], i: int) -> bool:
    """A stand-alone short ALL-CAPS/Title-Case line in a plain-text document."""
    if i > 0 and lines[i - 1].strip():
        return False
    line = lines[i].strip()
    if len(line) > 80 or line.startswith(("|", ">", "<", "!", "[", "#", "-", "*", "+", "\u2022")):
        return False
    if not (i + 1 < len(lines) and (lines[i + 1].strip() or (i + 2 < len(lines) and lines[i + 2].strip()))):
        return False
    return _plain_heading_text(_strip_inline_markup(line))


@functools.lru_cache(maxsize=4096)
def _plain_heading_text(text: str) -> bool:
    if not text or text.endswith((".", ",", ";", "!")) or len(text.split()) > 8:
        return False
    if not classify_heading(text):
        return False
    return _is_title_case(_PLAIN_NUMBER_RE.sub("", text)) or text.endswith(":")


_PLAIN_NUMBER_RE = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?\s+)")


def _body_lines(lines: list[str], headings: list[_Heading], index: int) -> list[str]:
    head = headings[index]
    if lines[head.line].lstrip().startswith("|"):  # a field/value table row is its own body
        return [head.inline] if head.inline else []
    end = len(lines)
    for k in range(index + 1, len(headings)):
        other = headings[k]
        if (
            other.level <= head.level
            or (head.level == _LABEL_LEVEL and other.level >= _PSEUDO_LEVEL)
            or (other.level <= _PSEUDO_LEVEL and other.sections and not set(other.sections) & set(head.sections))
        ):
            end = other.line
            break
    body = lines[head.line + 1 : end]
    if head.level <= 2 and head.line + 1 < len(lines) and _SETEXT_RE.match(lines[head.line + 1]):
        body = lines[head.line + 2 : end]
    return ([head.inline] if head.inline else []) + body


def _has_content(body: list[str]) -> bool:
    """True when a body has at least one line of real content (not a placeholder)."""
    for raw in body:
        line = raw.strip()
        if not line or _FENCE_RE.match(line) or _SETEXT_RE.match(line):
            continue
        if _TABLE_SEPARATOR_RE.fullmatch(line):
            continue
        line = _CHECKBOX_RE.sub("", _LIST_MARKERS_RE.sub("", line))
        if _BRACKETED_RE.fullmatch(line):  # "[Brief summary of the incident]", "[...]"
            continue
        line = _strip_inline_markup(line).lstrip("#").strip()
        if not line or _NO_WORDS_RE.fullmatch(line):
            continue
        if not _is_placeholder(line):
            return True
    return False


_NA_RE = re.compile(r"\s*n\s*/\s*a[\s.]*")
_TRAILING_PUNCT_RE = re.compile(r"[\s.:;!]+$")
_PLACEHOLDER_SPLIT_RE = re.compile(r"\s*[,;/\u2013\u2014]\s*|\s+-\s+|\s+\(|\)")


def _is_placeholder(line: str) -> bool:
    """'TBD', 'N/A', 'Unknown, under investigation', 'TODO - to be added' ..."""
    lowered = line.strip().lower()
    if _NA_RE.fullmatch(lowered):
        return True
    parts = [_TRAILING_PUNCT_RE.sub("", part).strip() for part in _PLACEHOLDER_SPLIT_RE.split(lowered)]
    parts = [part for part in parts if part]
    return bool(parts) and all(_PLACEHOLDER_RE.match(part) for part in parts)


# --------------------------------------------------------------------------- fallbacks

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?"
_TIMESTAMP_START_RE = re.compile(
    r"^(?:[-*+\u2022|]\s*)*(?:\d+[.)]\s+)?[*_`~\[(\s\u00b1]*(?:approx\.?\s*|around\s+|at\s+|~)?"
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2})?"
    r"|\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
    r"|\d{1,2}\s*[ap]\.?m\.?\b"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|" + _DAY + r",?\s+(?:" + _MONTH + r"\s+)?\d{1,2}"
    r"|" + _MONTH + r"\s+\d{1,2}\b"
    r"|\d{1,2}\s+" + _MONTH + r"(?:\s+\d{4})?"
    r"|[tT][+-]\d+)",
    re.I,
)


def _timestamp_lines(lines: list[str], code: list[bool]) -> tuple[int, str]:
    count = 0
    first = ""
    prev_blank = True
    for i, line in enumerate(lines):
        stripped = line.strip()
        if code[i]:
            prev_blank = True
            continue
        if not stripped:
            prev_blank = True
            continue
        starts_block = prev_blank or bool(_LIST_ITEM_RE.match(line)) or stripped.startswith("|")
        if starts_block and _TIMESTAMP_START_RE.match(stripped) and len(stripped.split()) >= 2:
            count += 1
            first = first or stripped
        elif i > 0 and _TIMESTAMP_START_RE.match(stripped) and _TIMESTAMP_START_RE.match(lines[i - 1].strip()):
            count += 1  # consecutive timestamp lines without blank lines between them
            first = first or stripped
        prev_blank = False
    return count, first


def _lead_words(lines: list[str], code: list[bool], headings: list[_Heading]) -> int:
    """Words of opening prose: before the first section heading or sub-title (level >= 2),
    skipping heading lines, a plain-text title line, ``Key: value`` metadata, tables and images."""
    end = len(lines)
    heading_lines = set()
    for head in headings:
        if head.level == _LABEL_LEVEL:
            continue
        if head.sections or head.level >= 2:
            end = head.line
            break
        heading_lines.add(head.line)
    words = 0
    paragraphs = 0
    prev_blank = True
    title_checked = bool(headings)
    for i in range(end):
        line = lines[i].strip()
        if code[i] or not line or i in heading_lines:
            prev_blank = True
            continue
        if prev_blank:
            paragraphs += 1
            if paragraphs > 6:
                break
        prev_blank = False
        if line.startswith(("|", "!", "<", ">")) or _SETEXT_RE.match(line):
            continue
        if _LABEL_RE.match(line) and len(line.split()) <= 12:
            continue  # "Created by: ...", "Last updated: ..." metadata
        plain = _strip_inline_markup(line)
        if not plain or _NO_WORDS_RE.fullmatch(plain) or _URL_RE.fullmatch(plain):
            continue
        if not title_checked:
            title_checked = True
            if len(plain.split()) <= 20 and not re.search(r"[.!?]$", plain):
                continue  # plain-text title line
        words += len(_WORD_RE.findall(plain))
    return words


# --------------------------------------------------------------------------- sections


def detect_sections(text: str | None, *, require_headings: bool = False) -> dict[str, SectionStatus]:
    """Which of SECTIONS the postmortem text has; see the module docstring for the rules.

    By default a section also counts when its content is there without a heading (opening
    prose, timestamped lines, a root cause or impact stated in prose, commitments in prose or
    as a list of changes). ``require_headings=True`` counts headings only (a template).
    """
    prepared = _prepare(text)
    lines = prepared.split("\n")
    code = _code_mask(lines)
    headings = _find_headings(lines, code)
    found: dict[str, list[tuple[str, bool, str]]] = {s: [] for s in SECTIONS}
    filled: set[str] = set()
    for index, head in enumerate(headings):
        if not head.sections:
            continue
        if filled.issuperset(head.sections):
            continue  # these sections already have a filled heading
        body = _body_lines(lines, headings, index)
        full = _has_content(body)
        for section in head.sections:
            if len(found[section]) < 2 or full:
                found[section].append((head.text, full, _heading_evidence(head.text, body)))
            if full:
                filled.add(section)
    result: dict[str, SectionStatus] = {}
    for section in SECTIONS:
        hits = found[section]
        good = [(h, ev) for h, full, ev in hits if full]
        if good:
            result[section] = SectionStatus(True, good[0][0], False, good[0][1], "heading")
        elif hits:
            result[section] = SectionStatus(False, hits[0][0], True, hits[0][2], "heading")
        else:
            result[section] = SectionStatus(False, None, False, _looked_for(section, headings, require_headings))
    if require_headings:
        return result
    if not found["summary"]:
        words = _lead_words(lines, code, headings)
        if words >= LEAD_SUMMARY_MIN_WORDS:
            result["summary"] = SectionStatus(True, None, False, f"opening prose ({words} words)", "structure")
    if not found["timeline"]:
        count, first = _timestamp_lines(lines, code)
        if count >= TIMESTAMP_LINES_MIN:
            result["timeline"] = SectionStatus(
                True, None, False, f"{count} timestamped lines, first: \u201c{_clip(first)}\u201d", "structure"
            )
    wanted = [s for s in ("root_cause", "impact", "actions") if not found[s]]
    if wanted:
        for section, sentence in _content_cues(prepared, lines, code, wanted).items():
            result[section] = SectionStatus(True, None, False, f"\u201c{_clip(sentence)}\u201d", "content")
    return result


EVIDENCE_MAX_CHARS = 160


def _clip(text: str, limit: int = EVIDENCE_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _heading_evidence(heading: str, body: list[str]) -> str:
    first = next((_strip_inline_markup(b.strip()) for b in body if b.strip() and not _SETEXT_RE.match(b)), "")
    return f"heading \u201c{_clip(heading, 60)}\u201d: \u201c{_clip(first, 100)}\u201d" if first else (
        f"heading \u201c{_clip(heading, 60)}\u201d with no text under it"
    )


def _looked_for(section: str, headings: list[_Heading], require_headings: bool) -> str:
    names = [h.text for h in headings if h.level != _LABEL_LEVEL][:8]
    seen = ", ".join(f"\u201c{_clip(n, 40)}\u201d" for n in names) or "none"
    what = "no heading naming it" if require_headings else f"no heading naming it and {_CONTENT_WANTED[section]}"
    return f"{what}; headings judged: {seen}"


_CONTENT_WANTED = {
    "summary": "no opening paragraph of at least 20 words",
    "timeline": "fewer than 3 lines starting with a time or date",
    "root_cause": "no sentence explaining why it happened (\u201ccaused by\u201d, \u201cdue to\u201d, "
    "\u201cbecause\u201d, \u201cthe root cause\u201d ...)",
    "impact": "no sentence saying who or what was affected and how (\u201cusers were unable to\u201d, "
    "\u201cunavailable for 2 hours\u201d, \u201c5% of requests failed\u201d ...)",
    "actions": "no list of changes and no sentences committing to them (\u201cwe will\u201d, "
    "\u201cto prevent this\u201d ...)",
}

# ---- content cues (prose), used when no heading names the section --------------------
_CAUSE_RE = re.compile(
    r"\b(?:root[\s-]?caus\w*|caused\s+by|(?:main|primary|underlying|direct|proximate|ultimate|real|actual)\s+"
    r"(?:\w+\s+)?(?:cause|reason|problem|issue)|the\s+(?:cause|reason)\s+(?:of|for|was|is|why)|due\s+to"
    r"|because|as\s+a\s+result\s+of|triggered\s+by|(?:resulted|stemmed|arose|originated)\s+from"
    r"|(?:this|which|that|it|these)\s+(?:\w+\s+)?(?:caused|led\s+to|resulted\s+in|triggered|broke)"
    r"|the\s+(?:problem|issue|culprit|trigger|bug)\s+(?:was|is)|(?:a|the)\s+(?:\w+\s+)?bug\s+in"
    r"|traced\s+(?:back\s+)?to|was\s+the\s+result\s+of|this\s+happened\s+(?:because|when))\b",
    re.I,
)
# "the root cause is still unknown" states that the cause was *not* found
_CAUSE_UNKNOWN_RE = re.compile(
    r"\b(?:root\s+)?cause\s+(?:is|was|remains|has)\s+(?:still\s+|not\s+yet\s+|yet\s+to\s+be\s+)?"
    r"(?:unknown|unclear|not\s+(?:yet\s+)?(?:known|clear|identified|determined|found)|been\s+identified\s+yet"
    r"|under\s+investigation|being\s+investigated|to\s+be\s+determined)",
    re.I,
)
_AFFECTED = (
    r"(?:users?|customers?|clients?|visitors?|people|players?|farmers?|validators?|developers?|tenants?|members?"
    r"|requests?|calls?|queries|builds?|launches|deploy(?:ment)?s?|pages?|(?:web)?sites?|services?|apis?|endpoints?"
    r"|applications?|apps?|instances?|nodes?|transactions?|jobs?|pipelines?|traffic|logins?|sign[\s-]?ins?|everyone"
    r"|accounts?|clusters?|regions?|databases?|vms?|workloads?|emails?|notifications?|packages?|chain|network"
    r"|dashboards?|uploads?|downloads?|scans?|operations)"
)
_EFFECT = (
    r"(?:unable|could\s*n[o\u2019']t|could\s+not|cannot|can[\u2019']t|were\s+not\s+able|was\s+not\s+able|failed|failing"
    r"|unavailable|went\s+down|were\s+down|was\s+down|degraded|slow(?:er|ed)?|delayed|timed?\s*out|timing\s+out"
    r"|errors?|blocked|lost|stuck|affected|impacted|disrupted|broken|offline|inaccessible|unreachable|halted"
    r"|stopped|returned\s+(?:\w+\s+)?errors?|received\s+(?:\w+\s+)?errors?|experienced|saw|got|getting|receiving"
    r"|did\s*n[o\u2019']t\s+(?:run|work|load|start|receive)|did\s+not\s+(?:run|work|load|start|receive)|missing|exposed|leaked"
    r"|compromised|(?:not\s+)?distributed|liquidated)"
)
_IMPACT_RE = re.compile(
    r"\b(?:" + _AFFECTED + r"\b(?:\W+\w+){0,8}?\W+" + _EFFECT + r"|" + _EFFECT + r"\b(?:\W+\w+){0,4}?\W+"
    + _AFFECTED + r"|(?:outage|downtime|disruption|unavailab\w*|degradation|degraded|down|failures?|errors?|delays?)"
    r"\b(?:\W+\w+){0,6}?\W+(?:for|of|lasting|lasted|over)\s+(?:about\s+|approximately\s+|around\s+|roughly\s+"
    r"|almost\s+|nearly\s+|over\s+|more\s+than\s+|~\s*)?\d+(?:[.,]\d+)?\s*(?:minutes?|mins?|hours?|hrs?|h|days?|seconds?|secs?)"
    r"|\d+(?:[.,]\d+)?\s*%\s+(?:of\s+)?(?:\w+\s+){0,3}?" + _AFFECTED + r"|(?:total|complete|partial|full|major|minor"
    r"|brief|significant|global|regional|widespread)\s+(?:outage|downtime|disruption|degradation|service\s+loss)"
    r"|(?:no|minimal|limited)\s+(?:customer\s+|user\s+)?impact|impact(?:ed)?\s+(?:was|were|on|to)"
    r"|data\s+loss|lost\s+data|(?:customer|user)[\s-]facing)\b",
    re.I,
)
_COMMIT_RE = re.compile(
    r"\b(?:we(?:\s+will|\u2019ll|'ll|\s+are\s+going\s+to|\s+plan\s+to|\s+intend\s+to|\s+are\s+(?:now\s+|also\s+)?"
    r"(?:adding|implementing|changing|introducing|building|working\s+on|moving|improving|updating|deploying|"
    r"rolling\s+out|enforcing|requiring|reviewing|auditing|rotating|migrating|fixing|extending|increasing|reducing|"
    r"removing|replacing|creating|developing|investing|prioriti[sz]ing|adopting|automating|enabling|disabling|making)"
    r"|\s+have\s+(?:since\s+|now\s+|already\s+|also\s+)?(?:added|implemented|changed|introduced|updated|deployed|fixed|"
    r"enabled|disabled|moved|migrated|rotated|removed|created|built|increased|reduced|made|put\s+in\s+place|begun|started))"
    r"|(?:going|moving)\s+forward|to\s+prevent\s+(?:this|a\s+recurrence|recurrence|similar|such|future|further|it|the\s+same)"
    r"|(?:will|shall)\s+(?:also\s+)?be\s+(?:added|implemented|changed|introduced|updated|deployed|rolled\s+out|enforced|"
    r"required|reviewed|fixed|extended|increased|reduced|removed|replaced|created|improved|migrated|automated|monitored)"
    r"|(?:are|is)\s+being\s+(?:added|implemented|changed|introduced|updated|deployed|rolled\s+out|developed|built|fixed|"
    r"engineered|improved|reviewed|migrated))\b",
    re.I,
)
_PREVENTION_RE = re.compile(
    r"\b(?:prevent\w*|recurr\w*|reoccur\w*|in\s+the\s+future|going\s+forward|moving\s+forward|from\s+now\s+on"
    r"|never\s+again|happen(?:s|ing)?\s+again|similar\s+(?:incidents?|issues?|events?|outages?))\b",
    re.I,
)
_IMPERATIVE_ITEM_RE = re.compile(
    r"^\s*(?:[-*+\u2022]|\d+[.)])\s+(?:\[[ xX]?\]\s*)?(?:\*\*)?(?:add|fix|create|implement|update|document|remove|enable"
    r"|disable|set\s+up|setup|introduce|automate|monitor|alert|investigate|review|improve|ensure|make\s+sure|move|migrate"
    r"|upgrade|rotate|replace|increase|reduce|write|deploy|change|schedule|train|build|audit|enforce|require|pin|limit"
    r"|restrict|split|separate|refactor|revise|extend|rewrite|clean\s+up|switch|adopt|publish|block|validate|test)\b",
    re.I,
)
LIST_COMMITMENTS_MIN = 2
CUE_SENTENCE_MAX_CHARS = 600
COMMITMENT_SENTENCES_MIN = 2


def _content_cues(prepared: str, lines: list[str], code: list[bool], wanted: list[str]) -> dict[str, str]:
    """The first sentence stating each wanted section (root_cause, impact, actions) in prose."""
    out: dict[str, str] = {}
    prose = _blame_text(prepared)
    commitments: list[str] = []
    for raw in _SENTENCE_SPLIT_RE.split(prose):
        sentence = raw.strip()[:CUE_SENTENCE_MAX_CHARS]  # longer runs are not prose sentences
        if len(sentence) < 12 or sentence.startswith("#"):
            continue
        wants_cause = "root_cause" in wanted and "root_cause" not in out
        if wants_cause and _CAUSE_RE.search(sentence) and not _CAUSE_UNKNOWN_RE.search(sentence):
            out["root_cause"] = sentence
        if "impact" in wanted and "impact" not in out and _IMPACT_RE.search(sentence):
            out["impact"] = sentence
        if "actions" in wanted and "actions" not in out and _COMMIT_RE.search(sentence):
            # each commitment counts: "we will add X, and we are moving Y" is two
            commitments.extend([sentence] * len(_COMMIT_RE.findall(sentence)))
            if len(commitments) >= COMMITMENT_SENTENCES_MIN or _PREVENTION_RE.search(sentence):
                out["actions"] = commitments[0] if len(commitments) > 1 else sentence
        if len(out) == len(wanted):
            return out
    if "actions" in wanted and "actions" not in out:
        items = [line for i, line in enumerate(lines) if not code[i] and _IMPERATIVE_ITEM_RE.match(line)]
        if len(items) >= LIST_COMMITMENTS_MIN:
            out["actions"] = _strip_inline_markup(_LIST_MARKERS_RE.sub("", items[0].strip()))
    return out


_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\u201c])|\n\s*\n")


# --------------------------------------------------------------------------- blame

_INDIVIDUAL = (
    r"(?:i|he|she|him|her|someone|somebody|"
    r"(?:the|an?|our|one\s+of\s+(?:the|our)|that|this|their|his|her|responsible|primary|on[\s-]?call)\s+"
    r"(?:[\w-]+\s+){0,2}?"
    r"(?:engineers?|operators?|developers?|devs?|admins?|administrators?|sysadmins?|sres?|on[\s-]?call(?:ers?)?"
    r"|oncall(?:ers?)?|employees?|contractors?|technicians?|staff(?:\s+members?)?|team[\s-]members?|interns?"
    r"|users?|customers?|person|individual|reviewers?|deployers?|author|dba|manager|lead|analyst|member)"
    r"|team[\s-]member[\s-]?\d*|@[\w-]+)"
)
# verbs only people do: with a capitalised name as subject ("Alice failed to escalate") the
# name is taken for a person; "Shinken fails to notify", "Puppet should have run" are tools
_NAME_VERBS = (
    r"(?:follow|notice|noticed|escalate|escalated|communicate|communicated|ask|asked|realise|realised|realize"
    r"|realized|double[\s-]check|remember|remembered|understand|understood|pay\s+attention|tell|told|warn|warned"
    r"|coordinate|announce|know|known|knew|think|thought|review|reviewed)\b"
)
_COMMON_WORDS = (
    """the a an this that these those it its we our us they them their there here then when while after
    before during since until because although though however but and or so if as at on in of for to by
    with from into onto about above below over under again once all any both each few more most other
    some such no nor not only own same than too very can will just should now also finally first second
    third next later later unfortunately fortunately instead meanwhile additionally furthermore
    moreover therefore thus hence still yet even already initially eventually previously currently
    today yesterday what which who whom whose why how where one two three ten"""
)
_COMMON = frozenset(_COMMON_WORDS.split())
_SYSTEM_NOUNS = (
    """system systems service services server servers process processes tool tools tooling script scripts job
    jobs pipeline pipelines deploy deployment deployments automation code config configuration alert alerts
    alerting monitoring check checks test tests database db cluster node nodes pod pods api request requests
    client clients library software application app build builds controller scheduler proxy loadbalancer
    network router switch backup backups cron migration release change changes update"""
)
_SYSTEM_WORDS = frozenset(_SYSTEM_NOUNS.split())

# fire on their own (unless negated)
_STANDALONE = [
    r"\bhuman[\s-]errors?\b(?!\s+(?:rates?|budgets?))",
    r"\b(?:operator|engineer|engineering|developer|admin|administrator|technician|staff|employee|user"
    r"|personnel|pilot|individual|people|person)(?:'s|s'|s)?\s+(?:errors?|mistakes?|faults?|negligence"
    r"|carelessness|incompetence|oversights?)\b(?!\s+(?:reports?|messages?|rates?|codes?|logs?|pages?|handling"
    r"|budgets?|responses?|tracking))",
    r"\bcareless(?:ly|ness)?\b",
    r"\bnegligen(?:t|tly|ce)\b",
    r"\blaz(?:y|iness|ily)\b(?![\s-]*(?:load|loaded|loading|loads|eval|evaluat|init|instantiat|delet|bind|seq"
    r"|val|import|compil|fetch|render|propagat|mount|hydrat|extension|migration|sync))",
    r"\bsloppy\b(?!\s+quorum)|\bsloppiness\b",
    r"\bincompeten(?:t|ce|cy)\b",
    r"\breckless(?:ly|ness)?\b",
    r"\b(?:didn[\u2019']?t|did\s+not|couldn[\u2019']?t\s+be|could\s+not\s+be)\s+bother(?:ed)?\b",
    r"\b(?:his|her|my|your)\s+fault\b",
    # character judgements of a person
    r"\bwithout\s+(?:being|getting)\s+(?:thorough|careful|diligent)\b",
    r"\binexperienced\s+(?:\w+\s+)?(?:engineers?|managers?|management|staff|developers?|operators?|admins?|people"
    r"|team|employees?|leadership|person|individuals?|hires?)\b",
    r"\b(?:unprofessional|clueless|inattentive|irresponsible)\b",
    r"\b(?:my|his|her)\s+(?:own\s+)?lack\s+of\s+(?:understanding|knowledge|experience|care|attention|diligence|skill"
    r"|competence|foresight|judgement|judgment)\b",
    r"\b(?:stupid|dumb|foolish|idiotic|boneheaded|rookie)\s+(?:mistakes?|errors?|blunders?|moves?)\b",
    r"\b(?:user|operator|engineer|human)\s+error\s+(?:was|were)\s+made\b",
]
# need an individual as subject ("the on-call engineer failed to ...")
_SUBJECT_VERBS = [
    # "I initially forgot to mention ..." is about the write-up, not the incident
    r"\b(?:forgot|forgotten|forgets?\s+to)\b(?!\s+(?:to\s+)?(?:mention|say|add|note|include|thank|link|credit))",
    r"\bfail(?:ed|s)?\s+to\b",
    r"\bneglect(?:ed|s)?\s+to\b",
    # "should have been paged/told" is something that should have happened to them, not blame
    r"\bshould(?:\s+have|[\u2019']ve)\b(?!\s+been\s+(?:\w+(?:ed|en)|told|caught|sent|made|given|shown|taught)\b)",
    r"\bought\s+to\s+have\b",
    r"\bmade\s+(?:a|an|the)\s+(?:mistake|error|blunder)\b|\bmessed\s+up\b|\bscrewed\s+up\b|\bdropped\s+the\s+ball\b",
    r"\b(?:did\s+not|didn[\u2019']?t|failed\s+to)\s+follow\b",
    r"\bignored\s+(?:the\s+)?(?:runbook|playbook|procedure|process|alerts?|warnings?|instructions?|page)\b",
    r"\b(?:was|were|is|are)\s+(?:to\s+blame|at\s+fault|responsible\s+for\s+(?:the|this)\s+(?:outage|incident|failure))\b",
    # a person or role as the subject of a failure ("X didn't check", "the on-call ignored ...")
    r"\b(?:did\s+not|didn[\u2019']?t|never)\s+(?:check|verify|test|read|notice|double[\s-]check|review|escalate"
    r"|look\s+at|pay\s+attention|ask|wait|communicate|tell|warn|think)\b",
    r"\bignored\s+(?:the|an?|their|his|her|all|several|multiple|repeated)?\s*(?:\w+\s+)?(?:alerts?|warnings?|pages?"
    r"|alarms?|messages?|advice|errors?|signs?|reports?|requests?|guidance|checklist|policy|rules?)\b",
    r"\b(?:was|were)\s+(?:not|n[\u2019']t)\s+(?:careful|thorough|diligent|attentive|paying\s+attention|cautious)\b",
    r"\b(?:was|were)\s+(?:too\s+)?(?:careless|hasty|rushed|sloppy|lazy|negligent)\b",
    # a character judgement of a person's competence ("he wasn't a strong engineer")
    r"\b(?:was|is)(?:\s+not|n[\u2019']?t)\s+(?:an?\s+)?(?:very\s+)?(?:strong|good|competent|experienced|skilled|capable)"
    r"\s+(?:[\w-]+\s+)?(?:engineers?|developers?|programmers?|operators?|admins?|administrators?|sysadmins?|sres?)\b",
    # hindsight judgements about a person
    r"\b(?:should|could|would)\s+(?:easily\s+|obviously\s+|clearly\s+)?have\s+(?:known|seen|spotted|noticed|caught"
    r"|avoided|prevented)\b",
    r"\b(?:obviously|clearly)\s+(?:should|ought)\b",
]
# need an individual as object ("blame the DBA", "the fault of the contractor", "John's fault")
_OBJECT_PHRASES = [
    r"\bblam(?:e|ed|es|ing)\b(?![\s-]*(?:less|free))",
    r"\bfault\s+of\b",
    r"(?<=\w[\u2019'])s\s+fault\b",
]
_TRIGGER_RE = re.compile(
    r"\b(?=[a-z@])(?:"
    + "|".join(f"(?P<s{i}>{p})" for i, p in enumerate(_STANDALONE))
    + "|"
    + "|".join(f"(?P<v{i}>{p})" for i, p in enumerate(_SUBJECT_VERBS))
    + "|"
    + "|".join(f"(?P<o{i}>{p})" for i, p in enumerate(_OBJECT_PHRASES))
    + ")",
    re.I,
)
_TRIGGER_STEMS = (
    "human", "error", "mistake", "fault", "oversight", "careless", "negligen", "laz", "slopp", "incompeten",
    "reckless", "bother", "blam", "forg", "fail", "neglect", "should", "ought", "made", "messed", "screwed",
    "dropped", "follow", "ignored", "without being", "without getting", "inexperienc", "unprofessional", "clueless",
    "inattentive", "irresponsible", "did not", "didn", "never", "careful", "thorough", "diligent", "attentive",
    "paying attention", "cautious", "hasty", "rushed", "have known", "have seen", "have spotted", "have noticed",
    "have caught", "have avoided", "have prevented", "obviously", "clearly", "error was made", "error were made",
    "lack of", "strong", "competent", "experienced", "skilled", "capable", "good",
)
_NEGATION_RE = re.compile(
    r"n[\u2019']t\b|\b(?:not|no|never|nor|without|rather\s+than|instead\s+of|beyond|avoid\w*|reduc\w*|prevent\w*"
    r"|mitigat\w*|minimi[sz]\w*|eliminat\w*|against|prone\s+to|risk\s+of|possibility\s+of|chance\s+of"
    r"|regardless\s+of|blameless\w*|isn[\u2019']t|wasn[\u2019']t|nothing|nobody|no\s+one|rule\s+out|ruled\s+out"
    r"|attribut\w+)\b",
    re.I,
)
_INDIVIDUAL_RE = re.compile(r"(?:^|\b|(?<=\s))" + _INDIVIDUAL + r"\b", re.I)
_COLLECTIVE_RE = re.compile(r"\b(?:we|us|our\s+(?:team|teams|company|organi[sz]ation|process|processes))\b", re.I)
_NAME_VERB_RE = re.compile(r"^\s*(?:to\s+)?" + _NAME_VERBS, re.I)
_SENTENCE_END_RE = re.compile(r"[.!?](?=\s)|\n\s*\n|\n(?=\s*(?:[-*+\u2022]|\d+[.)])\s)|\n(?=#)")


def _blame_text(text: str | None) -> str:
    """Prose for sentence splitting: no code, links as text, hard-wrapped lines joined."""
    prepared = _prepare(text)
    lines = prepared.split("\n")
    code = _code_mask(lines)
    paragraphs: list[list[str]] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            paragraphs.append(list(current))
            current.clear()

    for i, line in enumerate(lines):
        stripped = line.strip()
        if code[i] or not stripped:
            flush()
            continue
        heading = _ATX_RE.match(line)
        if heading:
            flush()
            paragraphs.append(["# " + _strip_inline_markup(heading.group(2) or "") + "."])
            continue
        if _LIST_ITEM_RE.match(line) or stripped.startswith("|"):
            flush()
        current.append(_strip_inline_markup(stripped))
    flush()
    return "\n\n".join(" ".join(p) for p in paragraphs)


def _sentence_starts_ends(text: str) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for m in _SENTENCE_END_RE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


def _sentence_bounds(starts: list[int], ends: list[int], size: int, start: int, end: int) -> tuple[int, int]:
    """The sentence around [start, end): after the last boundary before it, up to the next one."""
    k = bisect.bisect_left(starts, start) - 1
    left = ends[k] if k >= 0 else 0
    j = bisect.bisect_left(starts, end)
    right = starts[j] + 1 if j < len(starts) else size
    return left, right


_LINKING_ADVERBS = frozenset(["then", "also", "later", "still", "again", "soon", "even"])
# the text before a coordinated predicate: "<subject> <verb> ...; and then, crucially," (adverbs and commas last)
_COORDINATED_RE = re.compile(
    r"^(?P<first>.*?)[,;]?\s*\b(?:and|but)\b(?:[\s,]+(?:" + "|".join(sorted(_LINKING_ADVERBS)) + r"|\w+ly))*[\s,]*$",
    re.I | re.S,
)
# a system brought in as a new subject after the person ("the engineer ran it, the deploy hung, and then failed")
_SYSTEM_SUBJECT_RE = re.compile(r"[;,]\s*(?:the|a|an)\s+(?:\w+\s+)?(?:" + "|".join(sorted(_SYSTEM_WORDS)) + r")\b", re.I)


def _coordinated_subject_is_individual(before: str) -> bool:
    """A predicate with no subject of its own, after "and"/"but" ("the admin restored X; and then,
    crucially, forgot to ..."): its subject is the nearest one before, which must be a person."""
    match = _COORDINATED_RE.match(before)
    if not match:
        return False
    first = match.group("first")
    subjects = list(_INDIVIDUAL_RE.finditer(first))
    if not subjects:
        return False
    # whatever comes after that person must not bring in another subject ("the job", "it", "we")
    rest = first[subjects[-1].end():]
    rest_words = [w.strip(".,;'\"").lower() for w in rest.split()]
    if _COLLECTIVE_RE.search(rest) or any(w in {"it", "they", "this", "which", "there"} for w in rest_words):
        return False
    return not _SYSTEM_SUBJECT_RE.search(rest)


def _subject_is_individual(before: str, verb_text: str, after: str) -> bool:
    clause = re.split(r"[,;:()\u2014\u2013]|\b(?:and|but|because|which|that|so|although|while)\b", before)[-1]
    words = clause.strip().split()
    if not words or all(w.lower() in _LINKING_ADVERBS or w.lower().endswith("ly") for w in words):
        return _coordinated_subject_is_individual(before)
    lowered_all = [w.strip(".,'\"").lower() for w in words]
    if "who" in lowered_all[-8:]:  # "the engineer who deployed the change forgot ..."
        cut = len(words) - 1 - lowered_all[::-1].index("who")
        words = words[:cut] or words
    window = " ".join(words[-6:])
    if _COLLECTIVE_RE.search(window):
        return False
    lowered = [w.strip(".,'\"").lower() for w in words[-6:]]
    # "the release manager": a role noun last makes the subject a person, whatever precedes it
    role_last = bool(_INDIVIDUAL_RE.fullmatch("the " + lowered[-1])) and lowered[-1] not in _SYSTEM_WORDS
    if not role_last and any(w in _SYSTEM_WORDS or w in {"it", "which", "this", "that", "there"} for w in lowered[-2:]):
        return False
    if lowered[-1].endswith("ed") and len(lowered[-1]) > 4:  # "the system which the engineer deployed failed to"
        return False
    if _INDIVIDUAL_RE.search(window):
        return True
    # a capitalised name right before the verb ("Bob forgot", "Alice failed to check")
    last = words[-1].strip(".,'\"")
    is_name = bool(re.fullmatch(r"[A-Z][a-z]{1,20}", last)) and last.lower() not in _COMMON
    if not is_name:
        return False
    if re.match(r"(?:forg|made|messed|screwed|dropped|ignored|did|didn|never|was|were|neglect)", verb_text, re.I):
        return True
    if re.search(r"\b(?:known|seen|spotted|noticed|caught|avoided|prevented)\b", verb_text, re.I):  # hindsight
        return True
    return bool(_NAME_VERB_RE.match(after))


def _quote(text: str, left: int, right: int, start: int, end: int) -> str:
    left = max(left, start - 600)
    right = min(right, end + 600)
    head = re.sub(r"\s+", " ", text[left:start]).lstrip()
    head = re.sub(r"^#\s+", "", head)
    match = re.sub(r"\s+", " ", text[start:end])
    tail = re.sub(r"\s+", " ", text[end:right]).rstrip()
    sentence = head + match + tail
    if len(sentence) <= QUOTE_MAX_CHARS:
        return sentence.strip()
    room = QUOTE_MAX_CHARS - 2  # two ellipses
    lo = max(0, len(head) - (room - len(match)) // 2)
    hi = min(len(sentence), lo + room)
    lo = max(0, hi - room)
    piece = sentence[lo:hi].strip()
    return ("\u2026" if lo > 0 else "") + piece + ("\u2026" if hi < len(sentence) else "")


def _candidate_positions(prose: str) -> list[int]:
    lowered = prose.lower()
    positions: list[int] = []
    for stem in _TRIGGER_STEMS:
        i = lowered.find(stem)
        while i != -1:
            positions.append(i)
            i = lowered.find(stem, i + 1)
    positions.sort()
    return positions


def find_blame(text: str | None) -> list[BlameQuote]:
    """Blame-first phrases with the sentence they occur in, in document order (see module docstring)."""
    prose = _blame_text(text)
    if not prose.strip():
        return []
    starts, ends = _sentence_starts_ends(prose)
    quotes: list[BlameQuote] = []
    seen: set[tuple[str, int]] = set()
    quoted_sentences: set[str] = set()
    done_until = -1
    for position in _candidate_positions(prose):
        if position < done_until:
            continue
        left, right = _sentence_bounds(starts, ends, len(prose), position, position + 1)
        done_until = right
        for m in _TRIGGER_RE.finditer(prose, left, right):
            if len(quotes) >= MAX_QUOTES:
                return quotes
            quote = _check_trigger(prose, m, left, right, seen)
            # one quote per sentence: several phrases in it (or a repeated copy of it) are one hit
            if quote is not None and quote.quote not in quoted_sentences:
                quoted_sentences.add(quote.quote)
                quotes.append(quote)
    return quotes


_CLAUSE_SPLIT_RE = re.compile(r"[,;:()\u2014\u2013]")


def _check_trigger(prose: str, m: re.Match[str], left: int, right: int, seen: set[tuple[str, int]]) -> BlameQuote | None:
    start, end = m.span()
    phrase = re.sub(r"\s+", " ", m.group(0)).lower()
    key = (phrase, left)
    if key in seen:
        return None
    before = prose[max(left, start - 300) : start]
    after = prose[end : min(right, end + 300)]
    kind = (m.lastgroup or "s")[0]
    negated_after = re.match(
        r"^[^.;]{0,40}?\b(?:is|was|are|were)\s+(?:not|never|rarely|only\s+a\s+symptom|a\s+symptom|counterproductive)\b"
        r"|^\s*(?:\w+\s+){0,3}(?:is|was)\s+(?:counterproductive|unhelpful|pointless|not\s+the\s+goal)"
        r"|^\s*(?:will\s+|do\s+|can\s+)?(?:happen|happens|occur|are\s+inevitable|is\s+inevitable|are\s+normal|is\s+normal)\b",
        after,
        re.I,
    )
    if kind == "v":
        if m.group(0)[0].isupper() and before.strip() and not before.rstrip().endswith((".", "!", "?", "#")):
            return None  # "community member Yann Forget reopened the bug": a proper noun
        clause = before.split(",")[-1]
        if _NEGATION_RE.search(clause) and not re.search(r"\bfollow\b", m.group(0), re.I):
            return None
        if not _subject_is_individual(before, m.group(0), after):
            return None
    elif (
        _NEGATION_RE.search(_CLAUSE_SPLIT_RE.split(before)[-1][-80:])
        or negated_after
        or (kind == "o" and not _object_is_individual(before, m.group(0), after))
    ):
        return None
    seen.add(key)
    if kind == "o" and phrase.startswith("s"):
        phrase = (before.rstrip().split()[-1:] or [""])[0].lower() + "s fault"
    return BlameQuote(phrase, _quote(prose, left, right, start, end))


def _object_is_individual(before: str, matched: str, after: str) -> bool:
    if matched.lower().startswith("s"):  # "<possessor>'s fault"
        possessor = before.rstrip("'\u2019").split()[-1:] or [""]
        word = possessor[0]
        return bool(_INDIVIDUAL_RE.fullmatch(word) or re.fullmatch(r"[A-Z][a-z]{1,20}", word)) and (
            word.lower() not in _COMMON and word.lower() not in _SYSTEM_WORDS
        )
    target = re.sub(r"^\s*(?:(?:it|this|the\s+(?:outage|incident|failure))\s+)?(?:on|onto|upon|with)?\s*", " ", after)
    if re.match(r"^\s*(?:lies|lay|rests|falls)\s+(?:with|on)\s+", target, re.I):
        target = re.sub(r"^\s*\w+\s+\w+\s+", " ", target)
    head = " ".join(target.split()[:4])
    if _INDIVIDUAL_RE.match(head):
        return True
    first = head.split()[0].strip(".,") if head else ""
    return bool(re.fullmatch(r"[A-Z][a-z]{1,20}", first)) and first.lower() not in _COMMON | _SYSTEM_WORDS


# --------------------------------------------------------------------------- action items


@dataclass(frozen=True)
class ListedAction:
    """An action item listed in a postmortem: its text (markup and check boxes removed), the
    owner it names (``@handle``, ``owner: name``, an Owner column, or ``None``) and its line."""

    text: str
    owner: str | None
    line: int


_OWNER_INLINE_RE = re.compile(
    r"(?:\((?:owner|assignee|dri|owned\s+by)\s*[:=]?\s*(?P<a>[^)]+)\)|\b(?:owner|assignee|dri)\s*[:=]\s*(?P<b>@?[\w.-]+(?:\s[A-Z][\w-]+)?)"
    r"|(?P<c>@[A-Za-z0-9][\w-]*))",
    re.I,
)


_ACTION_LIST_HEADING_RE = re.compile(
    r"\b(?:action|actions|follow[\s-]*ups?|next\s+steps|remediation|corrective|correction|preventi\w*|preventative|"
    r"to[\s-]?do|improvements?|recommendations?|what\s+we(?:'|\u2019)?(?:re|\s+are|\s+will)?\s+(?:do|doing|chang)\w*"
    r"|repair\s+items?|going\s+forward|future\s+work|changes)\b",
    re.I,
)
_NOT_ACTIONS_HEADING_RE = re.compile(r"\b(?:went\s+well|went\s+wrong|lucky|what\s+happened|timeline)\b", re.I)


def listed_actions(text: str | None) -> list[ListedAction]:
    """The action items a postmortem lists under its action headings (Action items,
    Follow-ups, Next steps, Corrective measures ...): list items and table rows."""
    prepared = _prepare(text)
    lines = prepared.split("\n")
    code = _code_mask(lines)
    headings = _find_headings(lines, code)
    out: list[ListedAction] = []
    seen: set[int] = set()
    for index, head in enumerate(headings):
        if "actions" not in head.sections or head.level == _LABEL_LEVEL or not _ACTION_LIST_HEADING_RE.search(head.text):
            continue
        start = head.line + 1
        end = len(lines)
        for other in headings[index + 1 :]:
            if (other.level <= head.level or (other.sections and "actions" not in other.sections)
                    or _NOT_ACTIONS_HEADING_RE.search(other.text)):
                end = other.line
                break
        owner_column: int | None = None
        for i in range(start, end):
            if code[i] or i in seen:
                continue
            line = lines[i].strip()
            if line.startswith("|"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                lowered = [_strip_inline_markup(c).lower() for c in cells]
                if any(c in {"owner", "owners", "assignee", "dri", "who"} for c in lowered):
                    owner_column = next(k for k, c in enumerate(lowered) if c in {"owner", "owners", "assignee", "dri", "who"})
                    continue
                if _TABLE_SEPARATOR_RE.fullmatch(line) or not cells or not cells[0]:
                    continue
                item = _strip_inline_markup(cells[0])
                owner = cells[owner_column] if owner_column is not None and owner_column < len(cells) else None
                if item and not _is_placeholder(item):
                    seen.add(i)
                    out.append(ListedAction(item, _strip_inline_markup(owner) or None if owner else None, i + 1))
                continue
            if not _LIST_ITEM_RE.match(lines[i]):
                continue
            body = _CHECKBOX_RE.sub("", _LIST_MARKERS_RE.sub("", line))
            # hard-wrapped continuation lines belong to the item
            k = i + 1
            while k < end and lines[k].strip() and lines[k].startswith((" ", "\t")) and not _LIST_ITEM_RE.match(lines[k]):
                body += " " + lines[k].strip()
                k += 1
            item = _strip_inline_markup(body)
            if not item or _NO_WORDS_RE.fullmatch(item):
                continue
            m = _OWNER_INLINE_RE.search(item)
            owner = next((g for g in m.groups() if g), None) if m else None
            seen.add(i)
            out.append(ListedAction(item, owner.strip() if owner else None, i + 1))
    return out
