"""AI-VAGUE: is a post-incident action item too vague to know when it is done?

An action item is vague when it names no concrete failure mode, target or measurable
outcome ("Improve monitoring", "Look into the DB issue", "TBD"). This module is an
explainable detector built from linguistic features, not a learned model: every verdict
carries stable reason codes and a detail that quotes the words that triggered it.

How a summary is read
---------------------
1. Clean-up: URLs, ticket references (``#123``, ``OPS-123``, ``T123456``), check boxes,
   bullets and emoji are removed; they say nothing about what the work is.
2. The *head* is found by stripping lead-ins that carry no action ("TODO:", "We need to",
   "The SRE team should", "Create a ticket to") and, for ``Heading: body`` items, by also
   reading the body after a short heading. The *object span* is the head's first clause,
   up to a purpose or subordinate clause ("... to make X faster", "..., so that ...").
3. *Anchors* make an item concrete:
   - strong anchors: numbers and measurements, code-like identifiers (``snake_case``,
     ``camelCase``, ``dotted.names``, ``checkout-api``), paths, CLI flags, quoted literals,
     product and service names (capitalised words that are not common English words,
     technical acronyms, well-known infrastructure product names);
   - artefact anchors: nouns for things an engineer can point at when the work is done
     (alert, runbook, dashboard, test, timeout, quota, certificate, replica, index, ...).
     Capability words ("monitoring", "observability", "process", "documentation") are
     deliberately *not* anchors: "Improve monitoring" names no target;
   - a repair of a defect ("fix the bug that caused ...", "deploy the fix for the
     regression", "a code fix"): the defect is what must be gone afterwards.
4. *Vagueness markers*: vague head verbs, unmeasurable goals, placeholders, hedges and
   open wh-questions.

Reasons (stable codes)
----------------------
``placeholder``         a placeholder stands in for the content: TBD, TODO, n/a, misc, a bare
                        "?" anywhere in the head; filler words (stuff, things, something,
                        everything, various) inside the object span; open lists and unnamed
                        referents (etc, "similar issues", "these kinds of failures", "all our
                        services", "any other X") unless a concrete verb acts on a named target
                        and they sit outside its object span.
``too_short``           fewer than 4 meaningful words and no anchor, fewer than 3 and no
                        strong anchor, or fewer than 2 at all (so empty summaries too).
``no_concrete_target``  no anchor at all: no system, component, artefact, number or name.
``vague_verb``          a vague head verb whose object is not bounded. Exploratory verbs
                        (investigate, look into, review, consider, ...) are bounded by a
                        named system or number in the object, or by a why/whether/if
                        question about an artefact, but never when they seek a method
                        ("figure out how", "find a way"). Improvement verbs (improve,
                        enhance, optimise, ...) are bounded only by a number/threshold, by
                        a concrete means ("... with a synthetic check") or by a checkable
                        end state ("... so that the on-call is paged", "... to reject Y"). Deliberative verbs
                        (discuss, reflect, follow up, continue, agree, ...) have no
                        deliverable. "Define/establish a strategy/process/way" has an
                        abstract object. Nominal forms count too ("an analysis is needed",
                        "a complete review of ...", "the analysis continues").
``unmeasurable_goal``   a comparative or evaluative goal with no number ("better",
                        "more robust", "faster", "too slow", "appropriate", "properly"), or an
                        unbarred amount of a capability in the first clause ("additional
                        validation", "improved monitoring") unless the item tells the end state
                        it must reach or spells out what it consists of ("specifically ..."). For
                        items headed by a concrete verb only the object span counts, and an
                        evaluative adjective is ignored when that object names an artefact of
                        a named system ("add comprehensive tests for the fetch wrapper").
``hedged``              the commitment is hedged ("maybe", "might", "if possible",
                        "potential") and no name or number pins the item down.
``open_question``       the item is an open wh-question ("How do we ...", "What ...") or a
                        string of questions ("Could we ...? Should we ...?").

An item is vague when at least one reason fires.

Tuning note: the word lists are general English and operations vocabulary, not phrases
copied from the labelled development set (``tests/data/action_items_labelled.csv``); the
rules were adjusted by looking at error *classes* on that set. On a source collected after
the first round of tuning the detector scored F1 0.66 before it was adjusted, against 0.86
on the data it had been tuned on; after the second round of issue 12 (F1 0.81 on the 833
development items) it scored F1 0.667 on 285 items from five organisations labelled before it
was run on them (0.59 to 0.75 by organisation). Round 4 raised the figure on its 1118
development items from 0.772 to 0.796 and scored F1 0.735 on 182 items from five more
organisations labelled before it ran on them (the rules before round 4: 0.750): expect unseen
data to score well below the development set
(``scripts/eval_vague.py``, ``tests/data/README.md``).

Performance: summaries are held as Arrow strings and every feature is one vectorised RE2
regex kernel over the column (the kernels behind pandas' ``.str`` methods for Arrow
strings, called directly; every pattern avoids look-arounds and back-references), run once
per distinct summary and, for large inputs, on two halves in two threads. The per-row
Python work is only the assembly of the reason lists. About 1 s for a million summaries
drawn from the development set, under 10 s for a million distinct ones, on 2 cores; a single
``assess_summary`` call costs a few tens of milliseconds, so assess batches with
``assess_summaries``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REASON_CODES",
    "Reason",
    "VagueVerdict",
    "assess_summaries",
    "assess_summary",
]

REASON_CODES = (
    "placeholder",
    "too_short",
    "no_concrete_target",
    "vague_verb",
    "unmeasurable_goal",
    "hedged",
    "open_question",
)

MIN_MEANINGFUL_WORDS = 4
# an investigation whose object span (verb included) has at most this many words names only a component
INVESTIGATION_OBJECT_MAX_WORDS = 6  # the verb (one or two words) and up to four words of object
# Word counts are computed for items shorter than this; 80 characters hold far more than
# MIN_MEANINGFUL_WORDS words, so longer items are never too short.
SHORT_ITEM_CHARS = 80


@dataclass(frozen=True)
class Reason:
    """Why a summary was judged vague: a stable code and a detail quoting the words."""

    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class VagueVerdict:
    """The verdict on one summary: vague or not, and every reason that fired."""

    vague: bool
    reasons: tuple[Reason, ...] = ()
    verdict: str = "judged"  # or "empty", "not judged: language", "not judged: too long (...)"

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


# --------------------------------------------------------------------------------------
# Vocabulary. General English and operations words, not phrases from the development set.
# Every pattern is RE2-compatible (no look-arounds, no back-references).
# --------------------------------------------------------------------------------------


def _alt(words: Iterable[str]) -> str:
    """A non-capturing alternation, longest first so multi-word phrases win."""
    return "(?:" + "|".join(sorted(set(words), key=lambda w: (-len(w), w))) + ")"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STOPWORDS = _words(
    "a an the and or but nor so yet of to in on at by for from with without into onto over under "
    "about as than then that this these those there here it its it's is are was were be been being "
    "am do does did done doing have has had having will would shall should can could may might must "
    "we us our ours i me my you your they them their he she his her who whom which what when where why "
    "how if whether not no any some all each every both either neither other such same own just also "
    "too very more most less least up down out off again once only even still already etc e.g i.e "
    "via per vs"
)

# ---- lead-ins stripped before the head verb -------------------------------------------
_LEAD_MARKER = (
    r"(?:to-?do|action items?|action|ai|next steps?|follow[- ]?ups?|task|note|recommendation)"
    r"\s*[:\-]\s*"
)
_LEAD_SUBJECT = (
    r"(?:(?:we're|we'll|we've|we|i'll|i|you|they're|they'll|they|someone|somebody|everyone|the team|our team|team|teams|engineering|"
    r"engineers|ops|devops|sre|owners?|[a-z]+ team)\s+)"
)
# A named subject and its modal ("the alert needs to", "Besu is going to"); stripped only
# from items that do not start with a verb ("Discuss whether we need to ..." keeps its head).
SUBJECT_LEAD = (
    r"^(?:[a-z][\w'-]*\s+){1,4}(?:will|shall|should|must|needs? to|has to|have to|"
    r"is going to|are going to|plans? to|is to|are to)\s+"
)
_LEAD_MODAL = (
    r"(?:(?:will|shall|should|must|need|needs|needed|want|wants|plan|plans|planning|going|have|"
    r"has|had|can|could|would|may|might|to|also|then|please|further|first|probably|definitely|"
    r"really|are|is|be|able|now|still|let's|lets|will need|in addition|actively|currently)\s+)"
)
_LEAD_TICKET = (
    r"(?:(?:create|created|raise|raised|open|opened|file|filed|log|logged|add|added)\s+"
    r"(?:a\s+|an\s+)?(?:new\s+)?(?:ticket|issue|task|jira|story|card|backlog (?:item|task))\s+"
    r"(?:to|for|about)\s+)"
)
# Discourse markers that open a narrative sentence ("First, we will ...", "In the meantime, we
# will continue to ..."): they order or time the commitment, the head verb comes after them.
_LEAD_DISCOURSE = (
    r"(?:(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|finally|lastly|additionally|in\s+addition|also|"
    r"furthermore|moreover|similarly|likewise|relatedly|meanwhile|in\s+the\s+mean\s*time|in\s+the\s+interim|"
    r"going\s+forward|moving\s+forward|from\s+now\s+on|in\s+the\s+future|as\s+a\s+result|to\s+that\s+end|"
    r"(?:longer|shorter|long|short|medium|near)[ -]term|in\s+the\s+(?:long|short|medium|near)\s+term|"
    r"since\s+this\s+incident|after\s+this\s+incident|following\s+this\s+incident|immediately)\s*,?\s+)"
)
# A leading purpose clause ("To prevent a recurrence, we will ..."): why, not what; the commitment
# follows the comma.
_LEAD_PURPOSE = r"(?:(?:in\s+order\s+)?to\s+[^,]{3,160},\s+)"
# One or more lead-in parts ("we" + "need" + "to"); never empty, so rows without a lead-in
# are left alone.
LEAD_IN = rf"^(?:{_LEAD_PURPOSE}|{_LEAD_DISCOURSE}|{_LEAD_MARKER}|{_LEAD_SUBJECT}|{_LEAD_MODAL}|{_LEAD_TICKET})+"
# A short heading before a colon ("Redis isolation: investigate ..."), at most eight words.
HEADING = r"^(?:[^\s:]+\s+){0,7}[^\s:]+:\s+"
# A coordinated first verb may precede the head verb ("review and update", "document and think").
COORDINATED = r"^(?:[a-z][a-z-]*\s+(?:and|&|/|or)\s+)?"
# The object span ends at the first purpose or subordinate clause.
SPAN = (
    r"^(.*?)(?:\s(?:to|so|with|by|when|which|that|because|after|before|until|while|via|"
    r"using|in case|in order|once|unless|since|as)\s|[,;:(]|\s-+\s|$)"
)

# ---- vague head verbs, by what it takes to bound them ----------------------------------
EXPLORATORY_VERBS = (
    r"investigat\w*", r"look(?:s|ed|ing)?\s+(?:in\s*to|at)", r"explor\w*", r"evaluat\w*",
    r"re-?evaluat\w*", r"assess\w*", r"re-?assess\w*", r"review\w*", r"consider\w*",
    r"understand\w*", r"check(?:s|ed|ing)?", r"figur\w*\s+out", r"find(?:s|ing)?\s+out",
    r"find(?:s|ing)?\s+(?:a\s+)?ways?", r"find(?:s|ing)?\s+(?:where|how|what)", r"analy[sz]\w*",
    r"research\w*", r"spik(?:e|es|ed|ing)", r"dig(?:s|ging)?\s+into", r"diagnos\w*",
    r"determin\w*", r"identif\w*", r"clarif\w*", r"teach\w*", r"train(?:s|ed|ing)?", r"educat\w*",
    r"audit\w*", r"scope\s+out", r"prioriti[sz]\w*", r"reach(?:es|ing)?\s+out",
    r"get\s+in\s+touch", r"talk(?:s|ed|ing)?\s+(?:to|with)", r"speak\w*\s+(?:to|with)",
    r"communicat\w*", r"verify\s+whether", r"confirm\s+whether",
)
# Exploration that seeks a method is never bounded by naming the system it is about.
# "Explore migration options", "explore paths to ...": the options are what is sought.
METHOD_SEEKING = r"^(?:[a-z-]+\s+){1,3}(?:how|what|where|a\s+way|ways|options|paths|alternatives|possibilities)\b"
# ... but "how many", "how often" ask for a count or a rate, a measurable answer, not a method.
QUANTITY_QUESTION = r"^(?:[a-z-]+\s+){1,3}how\s+(?:many|much|often|long|far|frequently|large|big)\b"
IMPROVEMENT_VERBS = (
    r"improv\w*", r"enhanc\w*", r"optimi[sz]\w*", r"strengthen\w*", r"harden\w*",
    r"streamlin\w*", r"rethink\w*", r"re-?work\w*", r"refin\w*", r"revamp\w*", r"overhaul\w*",
    r"better", r"bring(?:s|ing)?\s+down", r"mature\w*", r"moderni[sz]\w*", r"polish\w*",
    r"tidy\s+up", r"clean(?:s|ed|ing)?\s+up",
)
# An improvement is bounded by a concrete means: "enhance X with a synthetic check".
MEANS = r"\b(?:with|by adding|by|via|using|through)\s+(?:an?\s+|the\s+)?(?:new\s+)?\w"
# ... or by the end state it must reach, told as a checkable behaviour in a purpose or result
# clause: "improve the alerting so that the on-call is paged", "harden X to reject Y",
# "... to no longer queue operations indefinitely".
END_STATE = (
    r"\b(?:so\s+that|such\s+that|so|to)\s+(?:no\s+longer|automatically|auto-?\w+|detect|reject|refuse|block|"
    r"trigger|page|notify|alert|fail\s+over|roll\s+back|take\s+\w+\s+out|drain|stop|prevent\s+\w+\s+from)\b"
    r"|\bso\s+that\s+(?:[a-z-]+\s+){1,8}(?:is|are|gets?|will\s+be)\s+(?:notified|paged|alerted|blocked|rejected|"
    r"rolled\s+back|considered\s+an?\s+error)\b"
    r"|\b(?:for|by)\s+detecting\b"
)
# An item that spells out what its capability consists of.
ELABORATED = r"\b(?:specifically|such\s+as|including|will\s+include|in\s+the\s+form\s+of|namely)\b"
DELIBERATIVE_VERBS = (
    r"discuss\w*", r"talk(?:s|ed|ing)?\s+(?:about|through)", r"reflect\w*", r"brainstorm\w*",
    r"revisit\w*", r"re-?visit\w*", r"follow(?:s|ed|ing)?[ -]?up", r"agree\w*", r"align\w*",
    r"re-?consider\w*", r"re-?affirm\w*", r"plan(?:s|ned|ning)?\s+for",
    r"sync(?:s|ed)?\s+(?:up|with)", r"meet(?:s|ing)?\s+(?:with|to)", r"continu\w*",
    r"try(?:ing)?\s+to", r"tries\s+to", r"tried\s+to", r"attempt\w*",
    r"think(?:s|ing)?\s+(?:about|through)",
    r"keep(?:s|ing)?\s+(?:an\s+eye|monitoring|track|watching)", r"watch(?:es|ing)?\s+(?:out|for)",
    r"be(?:\s+more)?\s+(?:careful|mindful|aware|vigilant|cautious|diligent)",
    r"pay(?:ing)?(?:\s+more)?\s+attention", r"learn\w*", r"raise\s+awareness", r"socialis\w*",
    r"socializ\w*", r"remind\w*", r"work(?:s|ing)?\s+on", r"address\w*", r"deal(?:s|ing)?\s+with",
    r"tackl\w*", r"schedul\w*\s+(?:a\s+)?(?:discussion|meeting|call|session|chat|sync|workshop)",
    # narrative commitments with no end state: "make changes to ...", "take steps to ..."
    r"(?:mak(?:e|es|ing)|implement(?:s|ed|ing)?)\s+(?:some\s+|several\s+|further\s+|additional\s+|the\s+necessary\s+|"
    r"necessary\s+|a\s+number\s+of\s+|a\s+few\s+|a\s+series\s+of\s+|various\s+|many\s+)?"
    r"(?:changes|improvements|adjustments|enhancements)",
    # working with someone to deal with it: "working with our provider to address this"
    r"work(?:s|ed|ing)?\s+(?:closely\s+)?with\s+(?:[a-z0-9'.-]+\s+){1,5}to\s+(?:(?:address|resolve|fix|prevent|avoid|"
    r"mitigate)\s+(?:this|these|that|it|them|the\s+(?:issues?|problems?))|ensure\s+(?:this|that|it))\b",
    r"tak(?:e|es|ing)\s+(?:\w+\s+)?(?:steps|measures|actions?)", r"focus\w*\s+on", r"invest\w*\s+in",
    r"(?:stress|emphasi[sz]|reinforc|underlin|highlight|reiterat|underscor)\w*\s+(?:the\s+)?(?:importance|need|value)",
    r"do\s+(?:more|better)", r"strive\w*", r"aim\w*\s+(?:to|for)",
)
# Nominal exploration: "a drift analysis is needed", "a chaos session should be performed".
NOMINAL_EXPLORATION = (
    r"\b(analysis|review|investigation|assessment|evaluation|audit|discussion|session|"
    r"retrospective|study|deep[ -]dive|exploration|brainstorm(?:ing)?|conversation)\s+"
    r"(?:is|are|was|were|should be|must be|will be|to be|needs to be|has to be)\s+"
    r"(?:needed|required|necessary|performed|done|held|conducted|carried out|scheduled|planned)\b"
)
# ... and an exploration as the item's head noun, or one said to be under way: "A complete review
# of the maintenance processes ...", "Maintenance analysis continues with ... to identify ...".
NOMINAL_HEAD = (
    r"^(?:an?|the)\s+(?:[a-z-]+\s+){0,2}(review|analysis|investigation|assessment|evaluation|audit|study)\s+of\b"
)
NOMINAL_UNDER_WAY = (
    r"\b(analysis|review|investigation|assessment|evaluation|audit)\s+(?:continues|is\s+(?:under\s*way|ongoing|"
    r"in\s+progress)|has\s+started|have\s+started)\b"
)
# Verbs that turn an abstract object (a strategy, a process, a way) into an item.
ABSTRACT_VERBS = (
    r"defin\w*", r"establish\w*", r"creat\w*", r"develop\w*", r"set(?:ting)?\s+up", r"setup",
    r"implement\w*", r"introduc\w*", r"build\w*", r"come\s+up\s+with", r"put\s+in\s+place",
    r"formali[sz]\w*", r"devis\w*", r"design\w*", r"draft\w*", r"propos\w*", r"recommend\w*", r"plan",
    r"agree\w*", r"identif\w*", r"find", r"adopt\w*", r"need",
)
ABSTRACT_NOUNS = (
    "strategy", "strategies", "approach", "approaches", "plan", "plans", "process", "processes",
    "procedure", "procedures", "framework", "frameworks", "culture", "mindset", "posture", "way",
    "ways", "path", "vision", "roadmap", "best practice", "best practices", "governance",
    "ownership", "initiative", "program", "programme", "learning path", "mechanism", "mechanisms",
    "solution", "solutions", "options", "baseline", "standards", "principles", "philosophy",
    "capability", "capabilities", "policy for", "policies for", "policy around", "policies around", "policy on", "policies on",
    "policy regarding", "guideline", "guidelines", "criteria",
    "rules for", "procedure for", "procedures for", "standard for", "standards for",
)
# Verbs with a concrete end state when their object is concrete.
CONCRETE_VERBS = (
    r"add\w*", r"creat\w*", r"set", r"sets", r"setting", r"set\s+up", r"setup", r"configur\w*",
    r"enabl\w*", r"disabl\w*", r"remov\w*", r"delet\w*", r"drop\w*", r"replac\w*", r"migrat\w*",
    r"mov(?:e|es|ed|ing)", r"upgrad\w*", r"downgrad\w*", r"updat\w*", r"pin\w*", r"lock\w*",
    r"revert\w*", r"roll(?:s|ed|ing)?\s+back", r"rollback", r"rotat\w*", r"revok\w*",
    r"document\w*", r"writ\w*", r"wrote", r"automat\w*", r"deploy\w*", r"implement\w*",
    r"install\w*", r"uninstall\w*", r"increas\w*", r"decreas\w*", r"reduc\w*", r"rais\w*",
    r"lower\w*", r"limit\w*", r"cap", r"capp\w*", r"restrict\w*", r"block\w*", r"allow\w*",
    r"split\w*", r"separat\w*", r"scal\w*", r"assign\w*", r"schedul\w*", r"page", r"alert\w*",
    r"monitor\w*", r"test\w*", r"validat\w*", r"verif\w*", r"switch\w*", r"renam\w*",
    r"expos\w*", r"publish\w*", r"backfill\w*", r"purg\w*", r"patch\w*", r"bump\w*",
    r"chang\w*", r"modif\w*", r"adjust\w*", r"tweak\w*", r"build\w*", r"built",
    r"introduc\w*", r"run", r"runs", r"use", r"uses", r"using", r"fix\w*", r"ensur\w*",
    r"make\s+sure", r"requir\w*", r"enforc\w*", r"restart\w*", r"reboot\w*", r"provision\w*",
    r"tag\w*", r"archiv\w*", r"expir\w*", r"throttl\w*", r"encrypt\w*", r"mount\w*", r"send\w*",
    r"notif\w*", r"announc\w*", r"ask\w*", r"contact\w*", r"seed\w*", r"convert\w*",
    r"isolat\w*", r"decoupl\w*", r"merg\w*", r"releas\w*", r"ship\w*", r"replicat\w*",
    r"snapshot\w*", r"back\s+up", r"restor\w*", r"stop\w*", r"start\w*", r"trigger\w*",
    r"filter\w*", r"ignor\w*", r"exclud\w*", r"includ\w*", r"captur\w*", r"collect\w*",
    r"export\w*", r"import\w*", r"push\w*", r"link\w*", r"map\w*", r"tighten\w*", r"extend\w*",
    r"shorten\w*", r"lengthen\w*", r"split", r"consolidat\w*", r"standardi[sz]\w*", r"version",
    r"confirm\w*", r"disband\w*", r"retir\w*", r"deprecat\w*", r"instrument\w*", r"emit\w*", r"log",
)

# ---- unmeasurable goals -------------------------------------------------------------
# Comparatives and unspecified quantities: never bounded without a number.
COMPARATIVES = (
    r"better", r"even\s+more", r"more\s+[a-z][a-z-]*", r"less\s+[a-z][a-z-]*",
    r"fewer\s+[a-z][a-z-]*", r"faster", r"quicker", r"sooner", r"earlier", r"easier", r"simpler",
    r"clearer", r"stronger", r"smoother", r"harder", r"safer", r"tighter", r"cheaper",
    r"too\s+(?:big|large|long|slow|small|short|high|low|much|many|often|noisy|late)",
    r"some\s+[a-z][a-z-]*", r"as\s+much\s+as\s+possible",
    # unspecified times and frequencies
    r"in\s+a\s+while", r"for\s+a\s+while", r"for\s+some\s+time", r"soon", r"asap",
    r"as\s+soon\s+as\s+possible", r"regularly", r"periodically", r"from\s+time\s+to\s+time",
    r"regular", r"periodic", r"routine(?:ly)?", r"frequent(?:ly)?", r"continuous(?:ly)?", r"ongoing",
    r"occasionally", r"every\s+so\s+often", r"in\s+a\s+timely\s+manner",
    r"(?:add\w*|creat\w*|fill\w*\s+in|document\w*|writ\w*|set\s*up)\s+(?:the\s+|any\s+|all\s+)?missing\s+[a-z]+",
)
# An unbarred amount of a capability: "additional validation", "improved monitoring", "extra
# safeguards" (more of it, but how much, and of what?). Waived when the item tells the end state
# the capability must reach ("additional alerting ... to alert the on-call when ...").
CAPABILITY_AMOUNT = (
    r"\b((?:additional|improved|further|deeper|enhanced|extra|increased|greater)\s+"
    r"(?:[a-z-]+\s+)?(?:validation|validations|protections?|safeguards?|observability|monitoring|alerting|"
    r"partitioning|redundancy|resilien(?:ce|cy)|checks|testing|scrutiny|rigou?r|isolation|detection|visibility|"
    r"telemetry|hardening|review|reviews|fail[ -]?safes?))\b"
)
# Evaluative words: no bar is set; ignored when a concrete verb acts on a named artefact.
EVALUATIVES = (
    r"robustness", r"resilien(?:ce|cy|t)", r"robust", r"reliab(?:ility|le)", r"stability",
    r"sustainabl[ey]", r"appropriate(?:ly)?", r"proper(?:ly)?", r"adequate(?:ly)?",
    r"sufficient(?:ly)?", r"correctly", r"reasonabl[ey]", r"sane", r"sensible",
    r"comprehensive(?:ly)?", r"thorough(?:ly)?", r"holistic(?:ally)?", r"as\s+needed",
    r"when\s+needed", r"best\s+practices?", r"visibility", r"awareness", r"in\s+general",
    r"overall", r"clear", r"fault[ -]tolerant", r"seamless(?:ly)?", r"efficient(?:ly)?",
    r"easy", r"improvements?", r"enhancements?", r"actionable", r"meaningful", r"useful",
    r"helpful", r"effective(?:ly)?", r"relevant",
)

# Directional change verbs set no target on their own: "increase test coverage" (to what?).
DIRECTIONAL_VERBS = (
    r"increas\w*", r"decreas\w*", r"reduc\w*", r"rais(?:e|es|ed|ing)", r"lower(?:s|ed|ing)?",
    r"extend\w*", r"shorten\w*", r"minimi[sz]\w*", r"maximi[sz]\w*", r"speed\w*\s+up",
    r"expand\w*", r"boost\w*", r"lessen\w*", r"grow(?:s|ing)?",
)

HEDGES = (
    r"maybe", r"perhaps", r"possibly", r"might", r"if\s+possible", r"where\s+possible",
    r"when\s+possible", r"if\s+feasible", r"if\s+needed", r"if\s+necessary",
    r"if\s+time\s+permits", r"at\s+some\s+point", r"eventually", r"some\s+day", r"someday",
    r"nice\s+to\s+have", r"could\s+be\s+an\s+option", r"potential(?:ly)?", r"ideally",
    r"hopefully", r"in\s+the\s+(?:near|distant)\s+future",
)

# ---- placeholders -------------------------------------------------------------------
HARD_PLACEHOLDERS = (
    r"tbd", r"tbc", r"tba", r"todo", r"to-do", r"fixme", r"xxx", r"wip", r"placeholder",
    r"lorem\s+ipsum", r"misc", r"miscellaneous", r"fix\s+it", r"fix\s+this", r"fix\s+that",
)
# Generic filler words: vague when they are (part of) the object, harmless in an
# explanatory clause ("..., so the things users notice are covered").
GENERIC_PLACEHOLDERS = (
    r"various", r"stuff", r"things", r"something", r"somehow", r"whatever", r"everything",
    r"anything",
)
# Open lists and unnamed referents stand in for the targets or the failure mode wherever they
# are, unless a concrete action on a named target keeps them out of its object.
SOFT_PLACEHOLDERS = (
    r"etc", r"and\s+so\s+on", r"and\s+the\s+like",  # an open-ended list
    r"related\s+(?:scenarios|cases|issues|areas)",
    r"any\s+other\s+[a-z]+",
    r"(?:these|those|such)\s+(?:issues|problems|failures|incidents|errors)",
    # unspecified sets: "all our services", "core systems", "critical components"
    r"(?:all|core|critical|key|important|relevant|affected|certain)\s+(?:of\s+)?(?:our\s+|the\s+)?"
    r"(?:deployed\s+)?(?:components|resources|services|systems|applications|apps|repositories|repos|"
    r"teams|workloads|infrastructure|environments|dependencies|parts)",
    r"similar\s+(?:issues|failures|problems|incidents|cases|outages|events)",
    r"(?:these|those|such)\s+(?:kinds?|types?|sorts?)\s+of\s+(?:issues|failures|problems|incidents)",
    r"(?:this|the|these)\s+(?:kinds?|types?|sorts?)\s+of\s+(?:issues|failures|problems|incidents)",
)
WHOLE_PLACEHOLDER = (
    r"^(?:n/?a|none|nil|null|same|see\s+above|see\s+ticket|see\s+doc|later|follow[- ]?up|"
    r"\?+|-+|\.+|x+|tbd|tbc|todo|misc|various|etc\.?|stuff|things|fix\s+it|fix)[.!]*$"
)

# ---- anchors ------------------------------------------------------------------------
# Things an engineer can point at when the work is done (not capabilities).
ARTEFACT_NOUNS = (
    # alerting and dashboards
    "alert", "alerts", "alarm", "alarms", "page", "pages", "paging", "pager", "dashboard",
    "dashboards", "panel", "panels", "graph", "graphs", "slo", "slos", "sli", "slis",
    "error budget", "burn rate", "threshold", "thresholds", "synthetic", "canary", "canaries",
    "status page", "notification", "notifications", "webhook", "webhooks",
    # documentation artefacts
    "runbook", "runbooks", "playbook", "playbooks", "troubleshooting guide", "troubleshooting guides",
    "guide", "guides", "wiki page", "wiki article", "article",
    "user guide", "checklist", "readme", "changelog", "template", "templates", "blog post",
    "announcement", "comms", "email",
    # tests and checks
    "test", "tests", "unit test", "integration test", "smoke test", "smoketest", "e2e",
    "test suite", "test case", "regression test", "load test", "health check", "healthcheck",
    "health checks", "healthchecks", "probe", "probes", "readiness", "liveness", "assertion",
    "linter", "lint rule", "pre-commit", "precommit", "hook", "hooks", "fixture", "fixtures",
    # limits and resilience settings
    "timeout", "timeouts", "retry", "retries", "backoff", "circuit breaker", "circuit breakers",
    "rate limit", "rate limits", "rate limiting", "rate-limit", "limit", "limits", "quota",
    "quotas", "requests and limits", "ttl", "deadline", "autoscaling", "autoscaler", "hpa",
    "replica", "replicas", "shard", "shards", "priority class", "priority classes",
    # data and storage
    "database", "databases", "db", "table", "tables", "column", "columns", "index", "indexes",
    "schema", "migration", "migrations", "query", "queries", "backup", "backups", "snapshot",
    "snapshots", "restore", "replication", "failover", "primary", "standby", "cache", "caches",
    "bucket", "buckets", "volume", "volumes", "disk", "disks", "partition", "partitions", "topic",
    "topics", "queue", "queues", "consumer", "consumers", "consumer group", "consumer groups",
    "data store", "data stores", "datastore",
    # compute and network
    "cluster", "clusters", "node", "nodes", "node group", "node pool", "pod", "pods", "container",
    "containers", "image", "images", "namespace", "namespaces", "statefulset", "daemonset",
    "cronjob", "cronjobs", "load balancer", "ingress", "egress", "dns", "tls", "ssl", "cdn",
    "vpc", "subnet", "subnets", "route", "routes", "route table", "firewall", "proxy", "proxies",
    "gateway", "endpoint", "endpoints", "port", "ports", "header", "headers", "cookie", "cookies",
    "host", "hosts", "server", "servers", "instance", "instances", "vm", "vms", "region",
    "availability zone", "memory", "cpu", "latency", "throughput", "error rate", "status code",
    "status codes", "connection", "connections", "connection pool", "pool", "pools", "socket",
    "sockets", "bandwidth", "iops", "contexts", "vpn", "production", "prod", "provisioner",
    "deploy", "switch", "switches", "router", "routers", "link", "links", "nameserver", "nameservers",
    "driver", "drivers", "thread", "threads", "metadata",
    "website", "websites", "site", "sites", "domains", "subdomain", "subdomains", "uplink", "uplinks", "firmware",
    "account", "accounts", "report", "reports", "support team",
    # code, config and delivery
    "config", "configuration", "configmap", "setting", "settings", "flag", "flags",
    "feature flag", "parameter", "parameters", "variable", "variables", "env var", "field",
    "fields", "label", "labels", "annotation", "annotations", "script", "scripts", "cli", "api",
    "sdk", "library", "libraries", "dependency", "dependencies", "package", "packages", "module",
    "modules", "plugin", "plugins", "extension", "repo", "repository", "branch", "pull request",
    "pull requests", "pr", "prs", "pipeline", "pipelines", "workflow", "workflows", "job", "jobs",
    "release", "releases", "version", "versions", "rollback", "rollout", "deploys", "staging",
    "staging environment", "helm chart", "chart", "manifest", "gitignore", "code owners",
    "codeowners", "provider", "resource", "resources", "data source",
    # identity and secrets
    "token", "tokens", "secret", "secrets", "certificate", "certificates", "cert", "certs", "key",
    "keys", "password", "passwords", "credential", "credentials", "service account",
    "service accounts", "role", "roles", "permission", "permissions", "acl", "acls", "policy",
    "policies", "rule", "rules", "owner", "owners", "dri",
    # telemetry units
    "log", "logs", "metric", "metrics", "trace", "traces", "exception", "exceptions",
    "exporter", "agent", "agents", "scheduler", "controller", "operator", "worker", "workers",
    "file", "files", "directory",
)
# Well-known infrastructure products, often written in lower case in tickets.
TECH_NAMES = _words(
    "kubernetes k8s kubectl kubelet kubeconfig kube helm docker containerd podman prometheus "
    "alertmanager grafana loki thanos mimir jaeger zipkin opentelemetry otel datadog newrelic "
    "pagerduty opsgenie sentry splunk honeycomb elasticsearch opensearch kibana logstash fluentd "
    "fluent-bit fluentbit postgres postgresql psql pgbouncer mysql mariadb redis memcached "
    "kafka rabbitmq zookeeper etcd consul nomad terraform pulumi ansible jenkins "
    "circleci travis travisci github gitlab bitbucket argocd argo flux spinnaker tekton nginx haproxy "
    "envoy istio linkerd traefik caddy cloudflare fastly akamai aws gcp gce gke eks aks azure s3 ec2 "
    "rds aurora dynamodb lambda cloudwatch cloudfront route53 iam sqs sns kinesis bigquery pubsub "
    "spanner mongodb cassandra scylla clickhouse snowflake elasticache letsencrypt cert-manager "
    "openssl libssl openssh ssh ldap okta auth0 keycloak oauth saml jwt django rails flask fastapi "
    "celery sidekiq airflow dagster hadoop dbt jvm nodejs npm pnpm yarn pip pypi maven "
    "gradle slack jira confluence statuspage zoom heroku papertrail signalfx nagios icinga zabbix "
    "graphite statsd influxdb pingdom velero kuberhealthy goldpinger kiam kyverno "
    "gatekeeper opa falco trivy snyk dependabot renovate crontab systemd nfs ebs efs zfs lvm wal-e "
    "wal-g barman pgbackrest patroni stolon vitess haproxy keepalived coredns kube-dns external-dns"
)

# Common words: capitalised they are sentence starts or Title Case, not product names.
COMMON_WORDS = STOPWORDS + _words(
    # verbs typical at the head of an item
    "add added adding create created creating set setup implement implemented implementing update "
    "updated updating upgrade upgraded move moved migrate migrated document documented documenting "
    "write wrote remove removed delete deleted replace replaced enable enabled disable disabled "
    "configure configured configuring introduce establish build built deploy deployed automate "
    "automated fix fixed change changed increase increased decrease reduce reduced raise lower "
    "limit restrict ensure make use using run test schedule assign define provide allow prevent "
    "avoid stop start switch split separate scale monitor alert track verify validate check "
    "investigate look explore evaluate assess review consider understand improve improved enhance "
    "discuss reflect revisit follow agree align identify clarify determine ask get give keep let "
    "put take send share tell talk speak teach train plan prepare publish announce communicate "
    "notify inform escalate declare contact reach find figure spike research analyse analyze audit "
    "bring continue try attempt work handle address need needs want tweak tweaked adjust adjusted "
    "advise advised switched drafted modified enhanced reworked tightened scaled reverted revert "
    "rollback roll back pin lock bump patch rotate revoke purge clean cleanup block filter drop "
    "require request approve merge release ship launch drill exercise spend spent invest hold ran "
    "seed harden hardening exploring investigating reviewing evaluating discussing defining "
    "establishing building developing prioritize prioritise"
    # generic nouns and adjectives that often appear in Title Case
    " team teams process processes procedure monitoring alerting observability logging "
    "documentation docs doc system systems service services infrastructure platform application "
    "applications app apps tooling tool tools incident incidents outage outages issue issues "
    "problem problems bug bugs fixes changes improvement improvements strategy approach guidelines "
    "guideline policy security reliability performance stability resilience availability capacity "
    "quality customer customers user users engineer engineers engineering developer developers "
    "product owner owners manager management lead leads oncall on-call support operations ops "
    "business data code feature features deployment deployments testing tests alerts new old "
    "current existing future next previous first last short long short-term long-term medium-term "
    "term immediate immediately high low critical major minor main core key important internal "
    "external public private better good bad clear proper appropriate additional extra further "
    "missing specific general common standard automatic manual manually regular daily weekly "
    "monthly quarterly yearly annual hourly completed done progress open closed status priority "
    "action actions item items follow-up followup task tasks ticket tickets note notes summary root "
    "cause lessons learned learnings went well poorly yes ok okay please thanks friday monday "
    "tuesday wednesday thursday saturday sunday january february march april june july august "
    "september october november december q1 q2 q3 q4 we've we'll we're i'll don't doesn't didn't "
    "isn't aren't can't won't shouldn't let's everything everyone anything nothing someone anyone "
    "strike formation isolation separation evolution optimization optimisation implementation "
    "investigation analysis reviews comprehensive overall various misc miscellaneous tbd todo etc "
    "n/a medium immediate"
    # organisational acronyms: not technical targets
    " sre sres soc sla slas sla's qa po pos pm pms hr it asap fyi eod eow ooh rca rcas kpi kpis "
    "okr okrs roi eta tbc tba wip ai uk us eu ceo cto vp ic pir pirs"
    # generic technical acronyms: artefact classes (see ARTEFACT_NOUNS), not names
    " db dbs api apis ui ux ci cd cpu cpus ram os vm vms dns tls ssl cdn http https url urls sdk "
    "cli pr prs iops ip ips tcp udp json yaml sql io"
)

_NUMBER = (
    r"(?:^|[^A-Za-z0-9_])\d"  # a number not glued to a word ("e2e" and "v2" are not numbers)
    r"|\bp(?:50|90|95|99|999)\b"  # latency percentiles
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|sixty|"
    r"hundred|thousand)\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|percent|times|"
    r"replicas?|nodes?|pods?|connections?|requests?|retries|attempts|versions?|releases?)\b"
)
_IDENTIFIER = (
    r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b"  # snake_case / SCREAMING_CASE
    r"|\b[a-z]+[A-Z][A-Za-z0-9]*\b"  # camelCase
    r"|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b"  # PascalCase with 2+ humps (PostgreSQL, GitHub)
    r"|\b[A-Za-z0-9_-]{2,}\.[A-Za-z][A-Za-z0-9_-]+\b"  # dotted.name, file.ext, host.name
    r"|(?:^|\s)/[A-Za-z0-9_.{}-]+"  # /path
    r"|\b[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+"  # multi/segment/path
    r"|(?:^|\s)\*\.[A-Za-z0-9]+"  # glob *.out
    r"|(?:^|\s)--?[a-z][a-z0-9]+(?:-[a-z0-9]+)*"  # CLI flag
    r"|`[^`]+`"  # code span
    r"|\b\w+(?:-\w+)*-(?:api|db|svc|service|server|proxy|agent|controller|operator|exporter|cli|"
    r"dns|cluster|pool|worker|job|bot|app|ui|web|gateway|lb|cache|queue|manager|sidecar|plugin|"
    r"modules?|provider|creator|runner|daemon|scheduler|client|sdk|bucket|topic|stack|infra|"
    r"environments?|classes|class)\b"  # kebab-case component names
    r"|\b[a-z0-9]+-[a-z0-9]+-[a-z0-9]+(?:-[a-z0-9]+)*\b"  # three-part kebab names
)
_QUOTED = r"\"[^\"]{2,}\"|(?:^|[\s(])'[^'\s][^']{0,60}'(?:$|[\s,.;:)])"
# Capitalised words left once common words and sentence starts are removed: product names.
_PROPER = r"\b[A-Z][A-Za-z0-9]*[a-z0-9][A-Za-z0-9]*\b|\b[A-Z][A-Z0-9]{1,7}s?\b"
_SENTENCE_START = r"(?:^|[.!?:;]\s+|\s-+\s+)\S+"
_WORD = r"\b[a-z][a-z0-9'-]*"
_EXPLICIT_BOUND = (
    r"\b(?:within|at\s+least|at\s+most|no\s+more\s+than|rather\s+than|instead\s+of|below|above|"
    r"as\s+soon\s+as|no\s+later\s+than)\b"
)


# A repair of a defect names its target: the defect is what must be gone afterwards ("fix the bug
# that caused ...", "repair the code defect", "deploy the fix for the regression", "a code fix").
_DEFECT_FIX = (
    r"\b(?:fix|fixes|fixed|fixing|repair\w*|correct(?:s|ed|ing)?|remediat\w*|resolv\w*|hotfix\w*|patch\w*|"
    r"eliminat\w*)\s+(?:[a-z-]+\s+){0,3}(?:bugs?|defects?|errors?|issues?|regressions?|misconfigurations?|"
    r"flaws?|race\s+conditions?|leaks?)\b"
    r"|\b(?:the|a|an)\s+(?:code\s+|software\s+|configuration\s+)?(?:hot)?fix\b"
)


# A written procedure is a document one can point at: "document the escalation procedures", "update the
# decommission documentation", "recovery steps are documented".
_WRITTEN_PROCEDURE = (
    r"\b(?:document(?:s|ed|ing)?|writ(?:e|es|ing)|wrote)\s+(?:[a-z-]+\s+){1,4}(?:procedures?|process(?:es)?|steps)\b"
    r"|\b(?:updat(?:e|es|ed|ing)|revis(?:e|es|ed|ing))\s+(?:[a-z-]+\s+){1,4}(?:procedures|documentation|docs)\b"
    r"|\b(?:procedures?|process(?:es)?|steps)\s+(?:are|is|must\s+be|get|gets)\s+documented\b"
)


def _patterns() -> dict[str, str]:
    verb = r"\b"
    return {
        "lead_in": LEAD_IN,
        "subject_lead": SUBJECT_LEAD,
        "any_verb": r"^(?:"
        + _alt(
            (*EXPLORATORY_VERBS, *IMPROVEMENT_VERBS, *DELIBERATIVE_VERBS, *ABSTRACT_VERBS,
             *CONCRETE_VERBS, *DIRECTIONAL_VERBS)
        )
        + r")\b",
        "check_for": r"^check(?:s|ed|ing)?\s+for\s",
        "owner_tag": r"^(?:\([^)]{1,40}\)|\[[^\]]{1,40}\])\s+",
        "heading": HEADING,
        "span": SPAN,
        "word": _WORD,
        "stopword": r"\b" + _alt(STOPWORDS) + r"\b",
        "whole_placeholder": WHOLE_PLACEHOLDER,
        "hard_placeholder": r"(?:^|[^a-z0-9])(" + _alt((*HARD_PLACEHOLDERS, r"n/a", r"\?+"))
        + r")(?:$|[^a-z0-9])",
        # not a path segment ("/etc/motd"); RE2 has no lookbehind, so the boundaries are characters
        "soft_placeholder": r"(?:^|[^/a-z0-9_])(" + _alt(SOFT_PLACEHOLDERS) + r")(?:$|[^/a-z0-9_])",
        "generic_placeholder": r"\b(" + _alt(GENERIC_PLACEHOLDERS) + r")\b",
        "number": _NUMBER,
        "identifier": _IDENTIFIER,
        "quoted": _QUOTED,
        "proper": _PROPER,
        "tech": r"\b(" + _alt(w.replace(".", r"\.") for w in TECH_NAMES) + r")\b",
        "sentence_start": _SENTENCE_START,
        # only capitalised spellings matter: a product name must start with a capital
        "common": r"\b"
        + _alt(v.replace(".", r"\.") for w in COMMON_WORDS for v in (w.capitalize(), w.upper()))
        + r"\b",
        "artefact": r"\b(" + _alt(ARTEFACT_NOUNS) + r")\b",
        "defect_fix": _DEFECT_FIX,
        "written_procedure": _WRITTEN_PROCEDURE,
        "abstract": r"\b(" + _alt(ABSTRACT_NOUNS) + r")\b",
        "exploratory": COORDINATED + "(" + _alt(EXPLORATORY_VERBS) + ")" + verb,
        "method_seeking": METHOD_SEEKING,
        "quantity_question": QUANTITY_QUESTION,
        "improvement": COORDINATED + "(" + _alt(IMPROVEMENT_VERBS) + ")" + verb,
        "means": MEANS,
        "end_state": END_STATE,
        "capability_amount": CAPABILITY_AMOUNT,
        "elaborated": ELABORATED,
        "deliberative": COORDINATED + "(" + _alt(DELIBERATIVE_VERBS) + ")" + verb,
        "nominal": NOMINAL_EXPLORATION,
        "nominal_head": NOMINAL_HEAD,
        "nominal_under_way": NOMINAL_UNDER_WAY,
        "abstract_verb": COORDINATED + "(" + _alt(ABSTRACT_VERBS) + ")" + verb,
        "concrete_verb": r"^(?:" + _alt(CONCRETE_VERBS) + r")\b",
        "comparative": r"\b(" + _alt(COMPARATIVES) + r")\b",
        "directional": COORDINATED + "(" + _alt(DIRECTIONAL_VERBS) + ")" + verb,
        "evaluative": r"\b(" + _alt(EVALUATIVES) + r")\b",
        "hedge": r"\b(" + _alt(HEDGES) + r")\b",
        "specific_question": r"\b(?:why|whether|if)\b",
        "investigation": r"^(?:investigat\w*|look(?:s|ed|ing)?\s+(?:in\s*to|at)|dig(?:s|ging)?\s+into|analy[sz]\w*"
        r"|diagnos\w*|research\w*|debug\w*|troubleshoot\w*)\b",
        # features for the learned combination (see model_features)
        "narrative": r"^(?:we|engineers|the\s+team|our\s+team|teams|microsoft|google|aws|azure|they)\s+(?:will|are|have|"
        r"plan|intend|'ll|'re|continue|shall)\b",
        "capability": r"\b(?:monitoring|alerting|observability|detection|visibility|telemetry|resilien\w*|hardening|"
        r"redundancy|validation|safeguards?|protections?|processes|procedures|tooling|automation|reliability|robustness|"
        r"capabilit\w*|mechanisms?|communications?|awareness|coverage)\b",
        "done": r"^[a-z]+ed\b",
        "future_passive": r"\b(?:will\s+be|is\s+being|are\s+being|to\s+be)\s+[a-z]+(?:ed|en)\b",
        "nominal_improvement": r"^(?:improv\w*|enhanc\w*|additional|further|better|more|increased|greater|stronger|"
        r"refin\w*|augment\w*|expan\w*)\b",
        "failure_class": r"\b(?:this\s+class|class\s+of|such\s+(?:issues|incidents|failures|problems|events|scenarios)|"
        r"similar\s+(?:issues|incidents|failures|problems|events|scenarios)|these\s+types?|this\s+type|future\s+occurrences?|"
        r"recurrence|re-?occurrence|in\s+the\s+future|going\s+forward)\b",
        # "investigate and fix the memory leak": the fix is the end state
        "fix_coordinated": r"^[a-z-]+(?:\s+[a-z-]+)?\s+(?:and|&)\s+(?:then\s+)?(?:fix|remov|replac|resolv|patch|repair|"
        r"correct|eliminat|mitigat|remediat|drop|deploy|disabl|revert|roll\s+back|rollback|restart|rotat|upgrad)\w*\b",
        # what bounds an investigation of a named thing: a purpose, a comparison or a fix
        "bounded_exploration": r"\b(?:for|as|using|instead|between|versus|vs|against|and\s+(?:then\s+)?(?:fix|remov|replac|"
        r"disabl|enabl|add|implement|updat|resolv|document|patch|rotat|upgrad|revert|drop|set|configur|mitigat|"
        r"eliminat|correct|repair|deploy|tun|adjust|clean)\w*)\b",
        "wh_question": r"^(?:how|what|which|who|where|when)\b",
        # "Where possible, pin ...": a hedge, not a question
        "hedged_wh": r"^(?:where|when|if)\s+(?:possible|needed|necessary|applicable|appropriate|feasible|required)\b",
        "questions": r"\?[^?]*\?",
        "explicit_bound": _EXPLICIT_BOUND,
        "copula": r"\b(?:needs?|has|have|ought|is going|are going|wants?)\s+to\s+be\b",
        "more_than": r"\bmore\s+than\b",
        # "come up with X": one verb, whose "with" must not end the object span
        "come_up_with": r"\bcom(?:e|es|ing)\s+up\s+with\b",
        # not raw strings: the characters themselves, since pandas hands escaped "\\u" patterns
        # to Python's re instead of pyarrow
        "fold_single_quote": "[\u2018\u2019\u201b\u2032`]",
        "fold_double_quote": "[\u201c\u201d\u201e\u2033]",
        "fold_dash": "[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]",
        "fold_bullet": "[\u2022\u00b7\u25aa\u25e6\u2023]",
        "non_ascii": "[^\x00-\x7f]+",
        "whitespace": "[\t\n\r\f\v]+",
        "standard_id": r"\b(CVE|EIP|RFC|PEP|KEP|ERC|BIP|GHSA|ISO|IEC|NIST|OWASP|CWE)-(\d)",
        # URLs and ticket references (#123, OPS-123, T123456)
        "noise": r"https?://\S+|www\.\S+|#\d+\b|\b[A-Z][A-Z0-9]{1,9}-\d+\b|\bT\d{5,}\b",
        # a code span is a name, not prose: "`safer-runner-action`" holds no comparative
        "code_span": r"`[^`]+`",
        "raise_filing": r"^rais(?:e|es|ed|ing)\s+(?:an?\s+|the\s+|new\s+)*(?:issues?|tickets?|bugs?|bug\s+reports?|cases?|"
        r"concerns?|questions?|prs?|pull\s+requests?|alerts?|alarms?|incidents?)\b",
        "checkbox": r"^\s*(?:[-*]\s*)?\[[ xX]?\]\s*|^\s*(?:[-*]+|\d+[.)])\s+",
        "empty_brackets": r"\[\s*\]|\(\s*\)",
        "space": r"\s\s+",
    }


def _for_arrow(pattern: str) -> str:
    """Text is ASCII with single spaces once cleaned, so ``\\s`` is a plain space.

    pandas sends a pattern to pyarrow's RE2 unless it uses ``\\s``/``\\S`` (RE2 misses some
    Unicode spaces) or ``\\b``/``\\w``/``\\d`` on non-ASCII data; then it falls back to
    Python's ``re`` row by row, about a hundred times slower. Cleaning folds the text to ASCII
    and single spaces, and this rewrite keeps every later pattern on the RE2 path.
    """
    return pattern.replace(r"\S", "[^ ]").replace(r"\s", " ")


PATTERNS = {name: _for_arrow(pattern) for name, pattern in _patterns().items()}


# --------------------------------------------------------------------------------------
# Feature extraction (vectorised)
# --------------------------------------------------------------------------------------


def _as_text(summaries: pd.Series) -> pd.Series:
    """Summaries as Arrow strings; None, NaN, pd.NA and non-strings handled."""
    import pandas as pd

    values = summaries.astype("string[pyarrow]").fillna("")
    return pd.Series(values.array, dtype="string[pyarrow]")


def _clean(text: pd.Series) -> pd.Series:
    """ASCII text with single spaces, without URLs, ticket references and list markers."""
    import pyarrow.compute as pc

    p = PATTERNS
    out = _replace_where(text, p["code_span"], "`code`")
    if not pc.all(pc.string_is_ascii(out.array.__arrow_array__())).as_py():
        out = _replace(out, p["fold_single_quote"], "'")
        out = _replace(out, p["fold_double_quote"], '"')
        out = _replace(out, p["fold_dash"], "-")
        out = _replace(out, p["fold_bullet"], "-")
        out = _replace(out, p["non_ascii"], " ")
    out = _replace_where(out, p["whitespace"], " ")
    # standard identifiers (CVE-2021-44228, EIP-6110) are names, not ticket references
    out = _replace_where(out, p["standard_id"], r"\1_\2")
    out = _replace_where(out, p["noise"], " ")
    out = _replace_where(out, p["checkbox"], "")
    out = _replace_where(out, p["owner_tag"], "")
    out = _replace_where(out, p["empty_brackets"], " ")
    out = _replace_where(out, p["space"], " ")
    return out.str.strip()


def _contains(series: pd.Series, pattern: str) -> pd.Series:
    """``series.str.contains(pattern)`` as a bool Series, run by pyarrow's RE2 directly.

    On Arrow strings pandas runs ``.str`` regex methods with these same pyarrow kernels,
    but first re-parses every pattern with ``re`` to decide whether RE2 can take it, a fixed
    cost of up to a few milliseconds per big pattern and call. The text here is cleaned to
    ASCII with single spaces and every pattern is RE2-safe, so the kernels are called as is.
    """
    import pandas as pd
    import pyarrow.compute as pc

    hits = pc.fill_null(pc.match_substring_regex(series.array.__arrow_array__(), pattern), False)
    return pd.Series(hits.to_numpy(), index=series.index, dtype=bool)


def _replace(series: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """``series.str.replace(pattern, replacement, regex=True)``, run by pyarrow's RE2 directly."""
    import pandas as pd
    import pyarrow.compute as pc

    out = pc.replace_substring_regex(series.array.__arrow_array__(), pattern, replacement)
    return pd.Series(pd.arrays.ArrowStringArray(out), index=series.index)


def _count(series: pd.Series, pattern: str) -> pd.Series:
    """``series.str.count(pattern)`` as an int64 Series, run by pyarrow's RE2 directly."""
    import pandas as pd
    import pyarrow.compute as pc

    counts = pc.fill_null(pc.count_substring_regex(series.array.__arrow_array__(), pattern), 0)
    return pd.Series(counts.to_numpy(), index=series.index, dtype="int64")


def _replace_where(series: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """``str.replace`` on the rows that match only: a scan is cheaper than a rewrite."""
    import pandas as pd

    if len(series) == 0:
        return series
    hits = _contains(series, _uncaptured(pattern))
    if not hits.any():
        return series
    if hits.all():
        return _replace(series, pattern, replacement)
    out = series.copy()
    out[hits] = _replace(series[hits], pattern, replacement)
    return pd.Series(out, dtype=series.dtype)


def _uncaptured(pattern: str) -> str:
    """The pattern with its capture groups made non-capturing (for ``str.contains``)."""
    import re

    return re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)


def _extract(series: pd.Series, pattern: str) -> pd.Series:
    """The pattern's single capture group (or <NA>) per row, with pyarrow's RE2.

    ``Series.str.extract`` always runs Python's ``re`` row by row; ``extract_regex`` is the
    same operation, vectorised, on the Arrow array behind the Series.
    """
    import pandas as pd
    import pyarrow.compute as pc

    found = pc.extract_regex(series.array.__arrow_array__(), _named_group(pattern))
    return pd.Series(pd.arrays.ArrowStringArray(pc.struct_field(found, [0])), index=series.index)


def _extract_where(series: pd.Series, pattern: str) -> pd.Series:
    """``_extract`` on the rows that match only (a scan is cheaper than an extraction)."""
    import pandas as pd

    hits = _contains(series, _uncaptured(pattern))
    out = pd.Series(pd.NA, index=series.index, dtype="string[pyarrow]")
    if hits.any():
        out[hits] = _extract(series[hits], pattern)
    return out


def _named_group(pattern: str) -> str:
    """The pattern with its (single) capture group named, as ``extract_regex`` requires."""
    import re

    return re.sub(r"(?<!\\)\((?!\?)", "(?P<m>", pattern, count=1)


def _anchors(text: pd.Series, lower: pd.Series) -> pd.DataFrame:
    """Strong anchors of a (case-preserving) text and its lower-case copy."""
    import pandas as pd

    p = PATTERNS
    names = _replace(text, p["sentence_start"], " ")
    names = _replace(names, p["common"], " ")
    return pd.DataFrame(
        {
            "number": _contains(text, p["number"]),
            "identifier": _contains(text, p["identifier"]),
            "quoted": _contains(text, p["quoted"]),
            "proper": _contains(names, p["proper"]),
            "tech": _contains(lower, _uncaptured(p["tech"])),
        }
    ).fillna(False).astype(bool)


def _strip_lead_in(lower: pd.Series) -> pd.Series:
    """Lower-case summaries without their lead-in ("we need to", "TODO:", "Besu will")."""
    p = PATTERNS
    head = _replace_where(lower, p["lead_in"], "")
    named = _contains(head, p["subject_lead"])
    named &= ~_contains(head, p["any_verb"])
    if named.any():
        head = head.copy()
        head[named] = _replace_where(_replace(head[named], p["subject_lead"], ""), p["lead_in"], "")
    return head


def _features(raw: pd.Series) -> pd.DataFrame:
    """One row of features per summary (positional index)."""
    import pandas as pd

    p = PATTERNS
    text = _clean(_as_text(raw))
    # the head: lead-ins stripped, from the start and (body_head) after a short heading;
    # rows without a heading or a lead-in are not scanned twice
    plain = text.str.lower()
    plain_head = _strip_lead_in(plain)
    stripped = (plain_head.str.len() != plain.str.len()).fillna(False).astype(bool)

    def normalise(series: pd.Series) -> pd.Series:
        series = _replace_where(series, p["copula"], "must be")
        series = _replace_where(series, p["come_up_with"], "devise")
        return _replace_where(series, p["more_than"], "over")

    lower = normalise(plain)
    head = normalise(plain_head)
    has_heading = _contains(lower, p["heading"])
    body_head = head.copy()
    if has_heading.any():
        with_heading = _replace(lower[has_heading], p["heading"], "")
        body_head[has_heading] = _strip_lead_in(with_heading)
    span = _extract(body_head, p["span"]).fillna("")

    def head_match(pattern: str) -> pd.Series:
        found = _extract_where(head, "^" + pattern)
        retry = found.isna() & has_heading
        if retry.any():
            found[retry] = _extract(body_head[retry], "^" + pattern)
        return found

    def head_contains(pattern: str) -> pd.Series:
        found = _contains(head, pattern)
        retry = ~found & has_heading
        if retry.any():
            found[retry] = _contains(body_head[retry], pattern)
        return found

    # word counts only matter for short items: longer ones get a count past the bar
    length = lower.str.len().fillna(0).astype("int64")
    n_words = pd.Series(SHORT_ITEM_CHARS, index=lower.index, dtype="int64")
    n_stop = pd.Series(0, index=lower.index, dtype="int64")
    short = length < SHORT_ITEM_CHARS
    if short.any():
        n_words[short] = _count(lower[short], p["word"])
        n_stop[short] = _count(lower[short], p["stopword"])
    anchors = _anchors(text, lower)
    # the object side differs from the whole text only where a lead-in was stripped; there it
    # is the same-length suffix of the (ASCII) text, case preserved
    object_anchors = anchors.copy()
    if stripped.any():
        head_cs = pd.Series(
            [t[len(t) - len(h) :] for t, h in zip(text[stripped].tolist(), plain_head[stripped].tolist(), strict=True)],
            index=text.index[stripped],
            dtype="string[pyarrow]",
        )
        object_anchors.loc[stripped.to_numpy()] = _anchors(head_cs, head[stripped]).to_numpy()
    object_anchors = object_anchors.add_prefix("object_")

    frame = pd.DataFrame(
        {
            "empty": length.eq(0),
            "meaningful": (n_words - n_stop).clip(lower=0),
            "whole_placeholder": _contains(lower, p["whole_placeholder"]),
            "hard_placeholder": _extract_where(head, p["hard_placeholder"]),
            "soft_placeholder": _extract_where(head, p["soft_placeholder"]),
            "soft_in_span": _contains(span, _uncaptured(p["soft_placeholder"])),
            "generic_in_span": _extract_where(span, p["generic_placeholder"]),
            "artefact": _contains(lower, _uncaptured(p["artefact"])) | _contains(lower, p["defect_fix"])
            | _contains(lower, p["written_procedure"]),
            "abstract": _extract_where(span, p["abstract"]),
            # "check for X" is a detection job, not an open-ended check
            "exploratory": head_match(p["exploratory"]).where(~head_contains(p["check_for"])),
            "method_seeking": head_contains(p["method_seeking"]) & ~head_contains(p["quantity_question"]),
            "improvement": head_match(p["improvement"]),
            "means": _contains(lower, p["means"]),
            "end_state": _contains(lower, p["end_state"]),
            "capability_amount": _extract_where(span, p["capability_amount"]),
            "elaborated": _contains(lower, p["elaborated"]),
            "deliberative": head_match(p["deliberative"]),
            "nominal": _extract_where(lower, p["nominal"])
            .fillna(_extract_where(lower, p["nominal_head"])).fillna(_extract_where(lower, p["nominal_under_way"])),
            "abstract_verb": head_match(p["abstract_verb"]),
            "concrete_verb": head_contains(p["concrete_verb"]),
            "comparative": _extract_where(lower, p["comparative"]),
            "comparative_in_span": _extract_where(span, p["comparative"]),
            "evaluative": _extract_where(lower, p["evaluative"]),
            "evaluative_in_span": _extract_where(span, p["evaluative"]),
            "hedge": _extract_where(lower, p["hedge"]),
            # "raise an issue with X" files something; it raises no level
            "directional": head_match(p["directional"]).where(~head_contains(p["raise_filing"])),
            "specific_question": _contains(lower, p["specific_question"]),
            "bounded_exploration": _contains(head, p["bounded_exploration"]),
            "investigation": head_contains(p["investigation"]),
            "narrative": _contains(plain, p["narrative"]),
            "capability": _contains(lower, p["capability"]),
            "done": _contains(head, p["done"]),
            "future_passive": _contains(lower, p["future_passive"]),
            "nominal_improvement": _contains(head, p["nominal_improvement"]),
            "failure_class": _contains(lower, p["failure_class"]),
            "length": length,
            "fix_coordinated": head_contains(p["fix_coordinated"]),
            "span_words": _count(span, p["word"]),
            "wh_question": (_contains(lower, p["wh_question"]) | _contains(head, p["wh_question"]))
            & ~_contains(lower, p["hedged_wh"]),
            "questions": _contains(lower, p["questions"]),
            "explicit_bound": _contains(lower, p["explicit_bound"]),
        }
    )
    for anchor_frame in (anchors, object_anchors):
        for column in anchor_frame.columns:
            frame[column] = anchor_frame[column].to_numpy()
    flags = [
        "empty", "whole_placeholder", "soft_in_span", "artefact", "method_seeking", "means", "concrete_verb",
        "specific_question", "wh_question", "questions", "explicit_bound", "bounded_exploration", "investigation", "end_state",
        "elaborated",
        "fix_coordinated", "narrative", "capability", "done", "future_passive", "nominal_improvement", "failure_class",
    ]
    frame[flags] = frame[flags].fillna(False).astype(bool)
    return frame


def _reason_columns(f: pd.DataFrame) -> dict[str, pd.Series]:
    """Per reason code: the detail where the reason fires, else <NA>."""
    import pandas as pd

    strong = f["number"] | f["identifier"] | f["quoted"] | f["proper"] | f["tech"]
    # what bounds a verb must be on the object side ("Besu will review X": Besu bounds nothing)
    object_strong = (
        f["object_number"] | f["object_identifier"] | f["object_quoted"] | f["object_proper"] | f["object_tech"]
    )
    artefact = f["artefact"]
    anchored = strong | artefact
    measurable = f["number"] | f["explicit_bound"]
    concrete_action = f["concrete_verb"] & anchored
    not_whole = ~f["whole_placeholder"]

    def detail(mask: pd.Series, template: str, words: pd.Series | None = None) -> pd.Series:
        out = pd.Series(pd.NA, index=f.index, dtype="object")
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return out
        if words is None:
            out[mask] = template
        else:
            out[mask] = [template.format(w) for w in words[mask].astype(str)]
        return out

    # placeholder: hard ones anywhere, soft ones unless a concrete action on a named target
    # keeps them outside its object span
    soft = f["soft_placeholder"].where(~(concrete_action & strong & ~f["soft_in_span"]))
    word = f["hard_placeholder"].fillna(f["generic_in_span"]).fillna(soft)
    placeholder = detail(f["whole_placeholder"] & ~f["empty"], "the whole item is a placeholder").combine_first(
        detail(word.notna() & not_whole, 'placeholder "{}" stands in for the content', word)
    )

    too_short = not_whole & (
        (f["meaningful"] < 2)
        | ((f["meaningful"] < 3) & ~strong)
        | ((f["meaningful"] < MIN_MEANINGFUL_WORDS) & ~anchored)
    )
    no_target = not_whole & ~anchored

    # vague head verbs, by what bounds them
    explore = f["exploratory"].where(
        f["exploratory"].notna()
        & (
            f["method_seeking"]
            | ~(object_strong | ((f["specific_question"] | f["fix_coordinated"]) & artefact))
            # an investigation whose only object is a component ("Look into search-api",
            # "Investigate the cache errors") says what to look at, not what must be true afterwards
            | (f["investigation"] & (f["span_words"] <= INVESTIGATION_OBJECT_MAX_WORDS)
               & ~f["bounded_exploration"] & ~f["specific_question"])
        )
    )
    improve = f["improvement"].where(
        f["improvement"].notna() & ~(measurable | (f["means"] & anchored) | f["end_state"])
    )
    nominal = f["nominal"].where(f["nominal"].notna() & ~object_strong)
    verb = f["deliberative"].fillna(explore).fillna(improve).fillna(nominal)
    abstract = f["abstract_verb"].notna() & f["abstract"].notna() & ~(f["number"] | f["identifier"] | f["quoted"])
    vague_verb = detail(verb.notna(), 'vague verb "{}" with no bounded object', verb).combine_first(
        detail(
            abstract,
            'vague verb "{}" with an abstract object',
            f["abstract_verb"].astype(str) + '" + "' + f["abstract"].astype(str),
        )
    )

    # unmeasurable goals: in the object span for concrete actions, anywhere otherwise
    comparative = f["comparative_in_span"].where(concrete_action, f["comparative"])
    evaluative = f["evaluative_in_span"].where(concrete_action, f["evaluative"])
    evaluative = evaluative.where(~(concrete_action & strong & artefact))
    amount = f["capability_amount"].where(~(f["end_state"] | f["elaborated"]))
    goal = f["directional"].fillna(comparative).fillna(evaluative).fillna(amount).where(~measurable)

    hedged = f["hedge"].where(~strong)

    return {
        "placeholder": placeholder,
        "too_short": detail(too_short, "too short to act on ({} meaningful words)", f["meaningful"]),
        "no_concrete_target": detail(no_target, "names no system, component, artefact, number or name"),
        "vague_verb": vague_verb,
        "unmeasurable_goal": detail(
            goal.notna() & not_whole, 'unmeasurable goal "{}" with no number or threshold', goal
        ),
        "hedged": detail(hedged.notna() & not_whole, 'hedged commitment "{}"', hedged),
        "open_question": detail(f["wh_question"] & not_whole, "an open question, not an action").combine_first(
            detail(f["questions"] & not_whole, "a list of questions, not an action")
        ),
    }


# --------------------------------------------------------------------------------------
# Inputs for a learned combination. scripts/eval_vague.py and scripts/eval_vague_learned.py
# fit logistic regressions over these interpretable features (and, in the second, over words,
# word pairs and length) leave-one-organisation-out, with hyperparameters chosen inside each
# training fold, and compare them with the rules. None beat them (tests/data/README.md), so
# no model ships and the rules decide.
# --------------------------------------------------------------------------------------

# what each model input means, in words
MODEL_FEATURES: dict[str, str] = {
    "reason_placeholder": "a placeholder stands in for the content",
    "reason_too_short": "too short to act on",
    "reason_no_concrete_target": "names no system, component, artefact, number or name",
    "reason_vague_verb": "a vague verb with no bounded object",
    "reason_unmeasurable_goal": "an unmeasurable goal",
    "reason_hedged": "a hedged commitment",
    "reason_open_question": "an open question",
    "number": "a number or measurement",
    "identifier": "a code-like identifier",
    "quoted": "a quoted literal",
    "proper": "a product or service name",
    "tech": "a well-known infrastructure product",
    "object_strong": "a named target in the object",
    "artefact": "an artefact an engineer can point at",
    "concrete_verb": "a verb with a concrete end state",
    "exploratory": "an exploratory verb (investigate, review, ...)",
    "improvement": "an improvement verb (improve, enhance, ...)",
    "deliberative": "a deliberative verb (discuss, continue, work on, ...)",
    "abstract": "an abstract deliverable (a strategy, a process, a policy)",
    "comparative": "a comparative with no bar (better, more, faster, regular)",
    "evaluative": "an evaluative word with no bar (robust, proper, comprehensive)",
    "hedge": "a hedge (maybe, potential, if possible)",
    "specific_question": "a specific why/whether question",
    "means": "a concrete means (with, by, using ...)",
    "explicit_bound": "an explicit bound (within, at least, instead of ...)",
    "investigation": "an investigation verb",
    "narrative": "a narrative commitment (we will ..., engineers are ...)",
    "capability": "a capability word (monitoring, resiliency, validation ...)",
    "done": "reports work already done",
    "future_passive": "a passive future (will be added, is being fixed)",
    "nominal_improvement": "starts with an improvement noun (improved, additional, further ...)",
    "failure_class": "an unnamed class of failures (similar issues, in the future)",
    "long": "a long item (over 120 characters)",
}


def model_features(summaries: pd.Series) -> pd.DataFrame:
    """The learned model's inputs (0/1 columns named as in MODEL_FEATURES), one row per summary."""
    import pandas as pd

    values = pd.Series(list(summaries), dtype=object)
    features = _features(values)
    return _model_inputs(features, _reason_columns(features))


def _model_inputs(f: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    import pandas as pd

    out = {f"reason_{code}": columns[code].notna() for code in REASON_CODES}
    for name in ("number", "identifier", "quoted", "proper", "tech", "artefact", "concrete_verb", "specific_question",
                 "means", "explicit_bound", "investigation", "narrative", "capability", "done", "future_passive",
                 "nominal_improvement", "failure_class"):
        out[name] = f[name].astype(bool)
    out["object_strong"] = (f["object_number"] | f["object_identifier"] | f["object_quoted"] | f["object_proper"]
                            | f["object_tech"]).astype(bool)
    for name in ("exploratory", "improvement", "deliberative", "hedge"):
        out[name] = f[name].notna()
    out["abstract"] = f["abstract_verb"].notna() & f["abstract"].notna()
    out["comparative"] = f["comparative"].notna()
    out["evaluative"] = f["evaluative"].notna()
    out["long"] = f["length"] > LONG_ITEM_CHARS
    frame = pd.DataFrame(out, index=f.index).fillna(False).astype("int8")
    return frame[list(MODEL_FEATURES)]


LONG_ITEM_CHARS = 120


def _assess_unique(values: pd.Series) -> list[list[dict[str, str]]]:
    """The reasons for each summary of a positional series (usually distinct values)."""
    import pandas as pd

    columns = _reason_columns(_features(values))
    reasons: list[list[dict[str, str]]] = [[] for _ in range(len(values))]
    for code in REASON_CODES:
        details = columns[code].to_numpy(dtype=object)
        for i in pd.notna(details).nonzero()[0]:
            reasons[i].append({"code": code, "detail": str(details[i])})
    return reasons


PARALLEL_MIN_ROWS = 50_000


def _assess_parallel(values: Any) -> list[list[dict[str, str]]]:
    """``_assess_unique`` over two halves in two threads when there are many values.

    The regex kernels run in pyarrow, which releases the GIL, so two threads use two cores.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    workers = min(2, os.cpu_count() or 1)
    if len(values) < PARALLEL_MIN_ROWS or workers < 2:
        return _assess_unique(pd.Series(values, dtype=object))
    middle = len(values) // 2
    halves = [pd.Series(values[:middle], dtype=object), pd.Series(values[middle:], dtype=object)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        first, second = pool.map(_assess_unique, halves)
    return first + second


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def assess_summaries(summaries: pd.Series) -> pd.DataFrame:
    """Assess many action-item summaries at once.

    Returns a frame with the same index and three columns: ``vague`` (bool), ``reasons``
    (a list of ``{"code", "detail"}`` dicts, empty when the item is concrete) and
    ``verdict`` (``judgements``). None, NaN and empty strings are handled: an empty summary
    is vague (``too_short`` and ``no_concrete_target``, verdict ``empty``). A summary in
    another language or longer than LONGEST_ITEM_CHARS is not judged: not vague, no
    reasons, and the verdict says why. Each distinct summary is assessed once; every row
    still gets its own reasons list.
    """
    import numpy as np
    import pandas as pd

    if len(summaries) == 0:
        return pd.DataFrame(
            {"vague": pd.Series(dtype=bool), "reasons": pd.Series(dtype=object), "verdict": pd.Series(dtype=object)},
            index=summaries.index,
        )
    codes, uniques = pd.factorize(_as_text(summaries), use_na_sentinel=False)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="string[pyarrow]")
    verdicts = judgements(distinct).to_numpy(dtype=object)
    judged = np.flatnonzero((verdicts == JUDGED) | (verdicts == EMPTY))
    per_unique: list[list[dict[str, str]]] = [[] for _ in range(len(verdicts))]
    if len(judged):
        for i, found in zip(judged.tolist(), _assess_parallel(np.asarray(uniques, dtype=object)[judged]), strict=True):
            per_unique[i] = found
    vague = np.fromiter((bool(r) for r in per_unique), dtype=bool, count=len(per_unique))[codes]
    reasons = pd.Series([[dict(r) for r in per_unique[c]] for c in codes.tolist()], index=summaries.index, dtype=object)
    return pd.DataFrame({"vague": vague, "reasons": reasons, "verdict": verdicts[codes]}, index=summaries.index)


# What was done with a summary: judged; empty (vague: nothing to act on); or not judged at all
# because it is not English (the vocabulary is English) or too long to be one action item.
JUDGED = "judged"
EMPTY = "empty"
NOT_ENGLISH = "not judged: language"
LONGEST_ITEM_CHARS = 1500
_NON_LATIN = "[\u0370-\u03ff\u0400-\u052f\u0590-\u06ff\u0900-\u0dff\u0e00-\u0eff\u1100-\u11ff\u3040-\uffef]"
_LATIN = "[A-Za-z\u00c0-\u024f]"
_ENGLISH_WORDS = (
    r"\b(?:the|and|to|of|for|with|on|in|is|are|be|we|should|will|that|this|from|when|add|fix|update|"
    r"remove|create|ensure|make|set|use|all|not|by|an?)\b"
)
# function words of the other common languages of engineering write-ups (de, fr, es, pt, nl, it)
_FOREIGN_WORDS = (
    r"\b(?:und|nicht|f\x{00fc}r|mit|ist|wir|eine|einen|einem|auf|bei|werden|wird|sollte|sollten|m\x{00fc}ssen|der|das|"
    r"dem|des|zur|zum|pour|avec|nous|dans|les|une|sont|\x{00ea}tre|doit|faut|sur|lors|para|con|una|los|las|del|por|"
    r"debe|hay|n\x{00e3}o|s\x{00e3}o|uma|com|het|een|niet|voor|wij|moet|zijn|della|sono|deve|nel|alla|degli|le|du|et)\b"
)


def judgements(summaries: pd.Series) -> pd.Series:
    """Per summary: JUDGED, EMPTY, NOT_ENGLISH or "not judged: too long (N characters)".

    Vectorised over Arrow strings. A summary is taken for another language when most of
    its letters are in a non-Latin script, or when it has at least two function words of
    another European language and more of them than English ones.
    """
    import numpy as np
    import pandas as pd

    text = _as_text(summaries)
    stripped = text.str.strip()
    length = stripped.str.len().fillna(0).astype("int64").to_numpy()
    lower = stripped.str.lower()
    non_latin = _count(stripped, _NON_LATIN).to_numpy()
    latin = _count(stripped, _LATIN).to_numpy()
    foreign = _count(lower, _FOREIGN_WORDS).to_numpy()
    english = _count(lower, _ENGLISH_WORDS).to_numpy()
    other_language = (non_latin > latin) | ((foreign >= 2) & (foreign > english))
    out = np.full(len(text), JUDGED, dtype=object)
    out[other_language] = NOT_ENGLISH
    too_long = length > LONGEST_ITEM_CHARS
    out[too_long] = [f"not judged: too long ({n} characters; one action item is a sentence or two)"
                     for n in length[too_long]]
    out[length == 0] = EMPTY
    return pd.Series(out, index=summaries.index, dtype=object)


def assess_summary(text: str | None) -> VagueVerdict:
    """Assess one action-item summary. See the module docstring for the reasons."""
    import pandas as pd

    row = assess_summaries(pd.Series([text], dtype=object)).iloc[0]
    return VagueVerdict(
        vague=bool(row["vague"]),
        reasons=tuple(Reason(r["code"], r["detail"]) for r in _reasons_of(row["reasons"])),
        verdict=str(row["verdict"]),
    )


def _reasons_of(value: Any) -> list[dict[str, str]]:
    return list(value) if isinstance(value, list) else []
