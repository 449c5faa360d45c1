"""Letters and e-mails from Jinja2 templates: one HTML source gives the subject, the e-mail's
HTML and plain text, a short text-message version and, through WeasyPrint, the PDF letter.

Templates live in ``tasks/notify/templates/`` and share ``base.html``. Every template gets:
``council`` (``name``, ``phone``, ``email``; optional ``website``, ``address``,
``case_review_url``, ``complaints_url``), ``case_reference``, ``officer`` (``name``,
``phone``, ``email``), optional ``recipient_name``, ``date``, ``confidential``, and
``channel`` ("email", "letter" or "sms"; letters also get ``recipient_address``).
Per template:

- ``acknowledgement``: optional ``priority`` (1 or 2), ``first_contact_due``,
  ``case_review_threshold`` (default 3);
- ``update``: ``summary``; optional ``next_update_due``;
- ``major_development``: ``development``; optional ``next_steps``;
- ``closure``: ``closure_reason`` (a ``close_case`` form value); optional ``summary``,
  ``satisfaction_url``, ``reopen_days``, ``case_review_threshold``;
- ``warning_to_reported_person``: only ever from ``reported_person_context``.

A missing variable is an error (``LetterContextInvalid``), never a blank in a letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

LONDON = ZoneInfo("Europe/London")
_TAG = re.compile(r"<[^>]*>")
TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = (
    "acknowledgement",
    "update",
    "major_development",
    "closure",
    "warning_to_reported_person",
    *("case_review_acknowledgement", "case_review_decision", "case_review_not_met", "case_review_outcome", "case_review_information", "complaint_acknowledgement", "complaint_extension", "complaint_response", "complaint_final"),  # noqa: E501 - challenge
    *("legal_warning_sent", "legal_warning_reviewed", "legal_aba_signed", "legal_aba_ended", "legal_cpw_served", "legal_cpn_issued", "legal_cpn_ended"),  # noqa: E501 - legal_informal
    *("court_injunction", "court_witness", "court_closure", "court_possession"),  # legal_court
    *("evidence_request", "evidence_reminder", "evidence_thanks"),  # evidence_stage
    *("support_arranged", "partner_referral", "partner_reminder", "conference_invitation", "conference_action_reminder"),  # noqa: E501 - support
    "reporter_access",  # reporters' door (tasks/reporter_portal.py)
    *("partner_update", "partner_link"),  # partner door (issue 8)
)


# The close_case form's reasons, as the closure letter words them ("because ...").
CLOSURE_REASONS = {
    "resolved": "the problem has been resolved",
    "no_further_action": "we have decided that there is no further action we can take now",
    "insufficient_evidence": "there is not enough evidence for us to take further action",
    "reporter_withdrew": "you asked us to close the case",
    "referred_elsewhere": "the problem has been passed to another organisation that is better "
                          "placed to deal with it",
}


class LetterContextInvalid(ValueError):
    """A template cannot be rendered from the context given; the message names what is wrong."""


class ReporterDetailsInLetter(ValueError):
    """Text meant for the reported person contains something that identifies the reporter."""


@dataclass(frozen=True)
class RenderedLetter:
    """A rendered template: subject line, plain text, HTML and a short text-message version."""

    subject: str
    text: str
    html: str
    sms: str = ""


# ---------------------------------------------------------------------------------------
# Filters


def _as_local(value: datetime | date | str) -> datetime | date | str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise LetterContextInvalid("dates in letters must carry a time zone")
        return value.astimezone(LONDON)
    return value


def long_date(value: datetime | date | str) -> str:
    """Format a date the GOV.UK way, in London time: "Tuesday 29 December 2026"."""
    local = _as_local(value)
    if isinstance(local, date):
        return f"{local:%A} {local.day} {local:%B %Y}"
    return str(local)


def long_datetime(value: datetime | date | str) -> str:
    """Format a moment the GOV.UK way, in London time: "5pm on Tuesday 29 December 2026"."""
    local = _as_local(value)
    if not isinstance(local, datetime):
        return long_date(local)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"
    return f"{clock} on {long_date(local)}"


def address_lines(value: str | Iterable[str] | None) -> list[str]:
    """Split a postal address given as lines or as one comma- or newline-separated string."""
    if value is None:
        return []
    parts = re.split(r"[\n,]", value) if isinstance(value, str) else list(value)
    return [part.strip() for part in parts if part and part.strip()]


def paragraphs(value: str | None) -> list[str]:
    """Split free text into paragraphs at blank lines."""
    if not value:
        return []
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", value) if block.strip()]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(long_date=long_date, long_datetime=long_datetime,
                       address_lines=address_lines, paragraphs=paragraphs)
    env.globals["closure_reasons"] = CLOSURE_REASONS
    return env


# ---------------------------------------------------------------------------------------
# HTML to plain text


class _TextWriter(HTMLParser):
    """Turn the templates' simple HTML into readable plain text."""

    _SKIP = frozenset({"head", "style", "script"})
    _VOID = frozenset({"br", "img", "meta", "link", "hr", "input", "col", "wbr", "source"})
    _BLOCK = frozenset({"p", "div", "h1", "h2", "h3", "ul", "ol", "dl", "address", "section",
                        "header", "footer", "table", "tr", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._lists: list[list[Any]] = []
        self._links: list[tuple[str | None, int]] = []
        self._heading: tuple[str, int] | None = None

    def _text(self) -> str:
        return "".join(self.parts)

    def _ensure(self, newlines: int) -> None:
        text = self._text()
        if not text:
            return
        have = len(text) - len(text.rstrip("\n"))
        if have < newlines:
            self.parts.append("\n" * (newlines - have))

    def _skipping(self, tag: str) -> bool:
        if self._skip:
            if tag not in self._VOID:
                self._skip += 1
            return True
        if tag in self._SKIP:
            self._skip = 1
            return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping(tag):
            return
        if tag in self._BLOCK:
            self._ensure(2 if tag != "tr" and not self._lists else 1)
        if tag in ("h1", "h2", "h3"):
            self._heading = (tag, len(self.parts))
        elif tag == "br":
            self.parts.append("\n")
        elif tag in ("ul", "ol"):
            self._lists.append([tag, 0])
        elif tag == "li":
            self._start_item()
        elif tag in ("dt", "tr"):
            self._ensure(1)
        elif tag in ("dd", "td", "th"):
            text = self._text()
            if text and not text.endswith(("\n", " ")):
                self.parts.append(": " if tag == "dd" else " ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.parts)))

    def _start_item(self) -> None:
        self._ensure(1)
        kind = self._lists[-1] if self._lists else ["ul", 0]
        kind[1] += 1
        indent = "  " * max(len(self._lists) - 1, 0)
        self.parts.append(f"{indent}{kind[1]}. " if kind[0] == "ol" else f"{indent}- ")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= 1
            return
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            title = "".join(self.parts[self._heading[1]:]).strip()
            self.parts.append("\n" + ("=" if tag == "h1" else "-") * len(title))
            self._heading = None
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            target = href or ""
            # mailto: and tel: links show their address as the label already.
            if target and not target.startswith(("mailto:", "tel:")) and target not in label:
                self.parts.append(f" ({target})")
        if tag in self._BLOCK:
            self._ensure(2 if not self._lists else 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        text = re.sub(r"\s+", " ", data)
        current = self._text()
        if not current or current.endswith(("\n", " ")):
            text = text.lstrip()
        if text:
            self.parts.append(text)


def html_to_text(html: str) -> str:
    """Return a plain-text rendering of a letter's HTML (headings, lists, links kept)."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [line.rstrip() for line in writer._text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# ---------------------------------------------------------------------------------------
# Rendering


def _block_text(template: Any, name: str, context: Mapping[str, Any]) -> str:
    block = template.blocks.get(name)
    if block is None:
        return ""
    rendered = "".join(block(template.new_context(dict(context))))
    # The block is autoescaped HTML: drop tags, turn entities back into characters.
    return " ".join(unescape(_TAG.sub("", rendered)).split())


def render(template: str, context: Mapping[str, Any]) -> RenderedLetter:
    """Render ``template`` with ``context`` (autoescaped) into subject, text, HTML and SMS."""
    if template not in TEMPLATES:
        raise LetterContextInvalid(f"no template named {template!r}")
    if template == "closure" and context.get("closure_reason") not in CLOSURE_REASONS:
        raise LetterContextInvalid("closure: closure_reason must be one of the form's reasons")
    values = {"channel": "email", "confidential": False, **context}
    try:
        compiled = _environment().get_template(f"{template}.html")
        html = compiled.render(values)
        subject = _block_text(compiled, "subject", values)
        sms = _block_text(compiled, "sms", values)
    except TemplateError as exc:
        raise LetterContextInvalid(f"{template}: {exc.message}") from None
    text = html_to_text(html)
    return RenderedLetter(subject=subject, text=text, html=html, sms=sms or text)


def to_pdf(html: str) -> bytes:
    """Typeset ``html`` as an A4 PDF; only inline ``data:`` resources are ever fetched."""
    # Imported here: loading Pango and HarfBuzz is slow and only letters need it.
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())


# ---------------------------------------------------------------------------------------
# The letter to the reported person: an allow-list, never the reporter

# General descriptions of the behaviour, by category code; free text never reaches the
# letter through this list, and an unknown code becomes the most general wording.
BEHAVIOUR_DESCRIPTIONS = {
    "noise": "noise, such as loud music, shouting or banging",
    "verbal_abuse": "verbal abuse or threatening language",
    "intimidation": "intimidating or threatening behaviour",
    "harassment": "harassment of other people",
    "property_damage": "damage to property",
    "graffiti": "graffiti",
    "rubbish": "dumping rubbish or fly-tipping",
    "vehicles": "nuisance from vehicles, such as dangerous driving or obstructive parking",
    "animals": "nuisance from animals, such as barking or fouling",
    "gatherings": "rowdy or nuisance gatherings",
    "alcohol": "alcohol-related nuisance",
    "drugs": "drug-related activity",
    "other": "other anti-social behaviour",
}
_COUNCIL_FIELDS = ("name", "phone", "email", "website", "address", "complaints_url")
_OFFICER_FIELDS = ("name", "phone", "email")
_REPORTER_HINTS = ("reporter", "complainant", "victim", "witness")
# Keys under a reporter whose values say how to contact them, not who they are: skipped,
# since "email" or "09:00" in an officer's wording identifies nobody. All else is checked.
_NOT_IDENTIFYING = ("pref", "channel", "safe_time", "voicemail", "consent", "confidential")
_NOT_IDENTIFYING_KEYS = frozenset({"id", "role", "days", "from", "to", "priority"})
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr"})


def _strings(value: Any, key: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            yield from _strings(sub_value, f"{key}.{sub_key}")
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        yield key, str(value)


def _fragments_of(key: str, text: str) -> Iterable[re.Pattern[str]]:
    """Patterns that find one identifying reporter value inside other text."""
    normal = " ".join(text.split()).casefold()
    if len(normal) >= 3:
        yield re.compile(re.escape(normal))
    if "name" in key:
        for word in re.findall(r"[^\W\d_]{3,}", normal):
            if word not in _HONORIFICS:
                yield re.compile(rf"\b{re.escape(word)}\b")
    if "address" in key or "street" in key or "postcode" in key:
        # The first line (house and street) and any part with a digit (number, postcode);
        # a town name alone identifies nobody.
        parts = [" ".join(p.split()).casefold() for p in re.split(r"[\n,]", text)]
        parts = [p for p in parts if len(p) >= 3]
        for index, part in enumerate(parts):
            if index == 0 or re.search(r"\d", part):
                yield re.compile(re.escape(part))
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 6:
        yield re.compile(digits)


def _reporter_fragments(case_facts: Mapping[str, Any]) -> list[re.Pattern[str]]:
    """Patterns for every identifying value under a reporter-like key of the case facts."""
    patterns: list[re.Pattern[str]] = []
    for top_key, value in case_facts.items():
        if not any(hint in top_key.lower() for hint in _REPORTER_HINTS):
            continue
        for key, text in _strings(value, top_key):
            path = key.lower()
            segments = path.split(".")
            if any(hint in path for hint in _NOT_IDENTIFYING) or any(
                    segment in _NOT_IDENTIFYING_KEYS for segment in segments):
                continue
            patterns.extend(_fragments_of(path, text))
    return patterns


def _check_free_text(name: str, text: str, patterns: list[re.Pattern[str]]) -> str:
    normal = " ".join(text.split()).casefold()
    digits = re.sub(r"\D", "", text)
    for pattern in patterns:
        if pattern.search(normal) or (pattern.pattern.isdigit() and pattern.search(digits)):
            raise ReporterDetailsInLetter(
                f"{name} mentions something about the reporter; reword it in general terms")
    return text


def _pick(source: Any, fields: Iterable[str]) -> dict[str, str]:
    if not isinstance(source, Mapping):
        return {}
    return {f: str(source[f]) for f in fields if source.get(f) not in (None, "")}


def reported_person_context(case_facts: Mapping[str, Any]) -> dict[str, Any]:
    """Build the warning letter's context from an allow-list of case facts, never the reporter.

    Reads ``case_reference``, ``council``, ``officer``, ``reported_person`` (``name``,
    ``address``), ``behaviours`` (category codes), and the officer's own wording in
    ``behaviour_summary`` and ``period``, which must not mention the reporter (else
    ``ReporterDetailsInLetter``); optional ``date``. Nothing else is copied.
    """
    person = case_facts.get("reported_person")
    if not isinstance(person, Mapping) or not person.get("name"):
        raise LetterContextInvalid("the warning letter needs the reported person's name")
    reference = case_facts.get("case_reference")
    if not isinstance(reference, str) or not reference:
        raise LetterContextInvalid("the warning letter needs the case reference")
    patterns = _reporter_fragments(case_facts)
    codes = case_facts.get("behaviours") or ["other"]
    if isinstance(codes, str):
        codes = [codes]
    behaviours = list(dict.fromkeys(
        BEHAVIOUR_DESCRIPTIONS.get(str(code), BEHAVIOUR_DESCRIPTIONS["other"])
        for code in codes))
    council = _pick(case_facts.get("council"), _COUNCIL_FIELDS)
    # An officer with no phone or e-mail of their own is reached through the council's.
    officer = {**{f: council[f] for f in ("phone", "email") if f in council},
               **_pick(case_facts.get("officer"), _OFFICER_FIELDS)}
    context: dict[str, Any] = {
        "case_reference": reference,
        "council": council,
        "officer": officer,
        "recipient_name": str(person["name"]),
        "recipient_address": person.get("address") or "",
        "behaviours": behaviours,
        "confidential": True,
    }
    for field in ("behaviour_summary", "period"):
        text = case_facts.get(field)
        if isinstance(text, str) and text.strip():
            context[field] = _check_free_text(field, text.strip(), patterns)
    when = case_facts.get("date")
    if isinstance(when, datetime | date):
        context["date"] = when
    return context
