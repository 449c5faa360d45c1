"""Letters and e-mails: what each template must say, the PDF, and the reported person's letter."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, date, datetime

import pytest

from tasks.notify.letters import (
    BEHAVIOUR_DESCRIPTIONS,
    TEMPLATES,
    LetterContextInvalid,
    RenderedLetter,
    ReporterDetailsInLetter,
    html_to_text,
    long_date,
    long_datetime,
    render,
    reported_person_context,
    to_pdf,
)

COUNCIL = {
    "name": "Chesterfield Borough Council",
    "phone": "01246 345345",
    "email": "asb@chesterfield.example.org",
    "case_review_url": "https://www.chesterfield.example.org/asb-case-review",
    "complaints_url": "https://www.chesterfield.example.org/complaints",
    "address": "Town Hall, Rose Hill, Chesterfield, S40 1LP",
}
OFFICER = {"name": "Priya Officer", "phone": "01246 959595",
           "email": "priya.officer@chesterfield.example.org"}


def base_context(**extra):
    context = {"council": COUNCIL, "case_reference": "ASB-2026-000123", "officer": OFFICER,
               "recipient_name": "Ms Example", "date": datetime(2026, 12, 24, 10, tzinfo=UTC)}
    context.update(extra)
    return context


def pdf_text(html: str, pdf: bytes) -> str:
    """The PDF's text: pypdf when installed, else the text WeasyPrint typeset on its pages."""
    try:
        import pypdf
    except ImportError:
        from weasyprint import HTML
        from weasyprint.formatting_structure import boxes

        document = HTML(string=html).render()
        return " ".join(box.text for page in document.pages
                        for box in page._page_box.descendants()
                        if isinstance(box, boxes.TextBox))
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(page.extract_text() for page in reader.pages)


def pdf_raw(pdf: bytes) -> bytes:
    """The PDF's bytes with every compressed stream inflated (metadata, links, attachments)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def squash(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------
# The acknowledgement (promise 3)


def test_acknowledgement_says_everything_promise_3_asks_for():
    letter = render("acknowledgement", base_context(
        priority=1, first_contact_due=datetime(2026, 12, 29, 17, tzinfo=UTC)))
    assert isinstance(letter, RenderedLetter)
    assert "ASB-2026-000123" in letter.subject
    for body in (squash(letter.text), letter.html):
        assert "ASB-2026-000123" in body
        assert "Priya Officer" in body
        assert "01246 959595" in body
        assert "priya.officer@chesterfield.example.org" in body
    text = squash(letter.text)
    # What happens at each stage.
    assert "What happens next" in text
    for stage in ("We assess your report", "Your case officer contacts you",
                  "We agree an action plan", "We take action", "We close the case"):
        assert stage in text
    assert "within one working day" in text
    assert "5pm on Tuesday 29 December 2026" in text
    # Evidence, and why.
    assert "Evidence we may ask for, and why" in text
    for kind in ("Diary sheets", "Recordings", "Photographs"):
        assert kind in text
    assert "show the pattern of the behaviour" in text
    assert "do not confront" in text
    # The right to challenge, and how.
    assert "ASB Case Review" in text
    assert COUNCIL["case_review_url"] in text
    assert "formal complaint" in text
    assert COUNCIL["complaints_url"] in text
    assert "Ombudsman" in text
    assert "We will not share your details with the person you are reporting" in text


def test_priority_two_promises_five_working_days_and_sms_is_short():
    letter = render("acknowledgement", base_context(priority=2))
    assert "within five working days" in squash(letter.text)
    assert "5 working days" in letter.sms
    assert "ASB-2026-000123" in letter.sms and "01246 959595" in letter.sms
    assert len(letter.sms) < 918  # GOV.UK Notify's limit for one text message
    assert "\n" not in letter.sms


def test_acknowledgement_pdf_is_a_pdf_with_the_letter_in_it():
    letter = render("acknowledgement", base_context(
        channel="letter", recipient_address="1 Example Road\nChesterfield\nS40 9ZZ",
        confidential=True))
    pdf = to_pdf(letter.html)
    assert pdf.startswith(b"%PDF")
    text = squash(pdf_text(letter.html, pdf))
    for expected in ("ASB-2026-000123", "Priya Officer", "01246 959595",
                     "Private and confidential", "1 Example Road", "Diary sheets",
                     "Case Review", "formal complaint"):
        assert expected.lower() in text.lower()


def test_letter_layout_only_on_letters():
    email = render("acknowledgement", base_context())
    letter = render("acknowledgement", base_context(channel="letter",
                                                    recipient_address="1 Example Road"))
    assert "1 Example Road" not in email.html
    assert "Kind regards" in email.text and "Yours sincerely" in letter.text
    assert "Town Hall" in letter.text and "Town Hall" not in email.text


# ---------------------------------------------------------------------------------------
# The other reporter templates


def test_update_and_major_development():
    update = render("update", base_context(
        summary="We visited the street.\n\nThe police joined us.",
        next_update_due=datetime(2027, 1, 5, 17, tzinfo=UTC)))
    text = squash(update.text)
    assert "We visited the street." in text and "The police joined us." in text
    assert "Tuesday 5 January 2027" in text
    assert "ASB Case Review" in text
    major = render("major_development", base_context(
        development="We have applied to the county court for an injunction.",
        next_steps="The hearing is in March."))
    assert "applied to the county court" in major.sms
    assert "The hearing is in March." in major.text
    assert major.subject.startswith("Important news")
    long_summary = render("update", base_context(summary="word " * 1000))
    assert len(long_summary.sms) < 918 and "01246 959595" in long_summary.sms


@pytest.mark.parametrize("reason", ["resolved", "no_further_action", "insufficient_evidence",
                                    "reporter_withdrew", "referred_elsewhere"])
def test_closure_gives_reason_satisfaction_question_and_rights(reason):
    letter = render("closure", base_context(closure_reason=reason, reopen_days=28,
                                            satisfaction_url="https://survey.example.org/x"))
    text = squash(letter.text)
    assert "We have closed your case because" in text
    assert "How satisfied are you" in text and "https://survey.example.org/x" in text
    assert "ASB Case Review" in text and "formal complaint" in text
    assert "within 28 days" in text
    assert "How satisfied" in letter.sms and "Case Review" in letter.sms


def test_closure_refuses_an_unknown_reason():
    with pytest.raises(LetterContextInvalid, match="closure_reason"):
        render("closure", base_context(closure_reason="bored"))


def test_a_missing_variable_is_an_error_not_a_blank():
    context = base_context()
    del context["officer"]
    with pytest.raises(LetterContextInvalid, match="officer"):
        render("acknowledgement", context)
    with pytest.raises(LetterContextInvalid, match="no template"):
        render("../base", base_context())


def test_autoescape_keeps_markup_out_of_html_but_readable_in_text():
    letter = render("update", base_context(
        summary='<script>alert(1)</script> Tom & Jerry "quoted"',
        recipient_name="<b>Ms</b> O'Neil"))
    assert "<script>" not in letter.html
    assert "&lt;script&gt;" in letter.html
    assert "<b>Ms</b>" not in letter.html
    assert '<script>alert(1)</script> Tom & Jerry "quoted"' in letter.text
    assert "Dear <b>Ms</b> O'Neil," in letter.text


def test_templates_all_render():
    extras = {"update": {"summary": "x"}, "major_development": {"development": "x"},
              "closure": {"closure_reason": "resolved"},
              "warning_to_reported_person": {"behaviours": ["noise"]}}
    for name in TEMPLATES:
        letter = render(name, base_context(**extras.get(name, {})))
        assert letter.subject and letter.text and letter.html.startswith("<!DOCTYPE html>")


def test_date_formats_are_in_london_time():
    assert long_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "Wednesday 1 July 2026"
    assert long_datetime(datetime(2026, 6, 30, 16, tzinfo=UTC)) == "5pm on Tuesday 30 June 2026"
    morning = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert long_datetime(morning) == "9:30am on Monday 5 January 2026"
    assert long_date(date(2026, 12, 25)) == "Friday 25 December 2026"
    with pytest.raises(LetterContextInvalid):
        long_date(datetime(2026, 1, 1))


def test_html_to_text_keeps_structure():
    text = html_to_text("<head><title>T</title><style>p{}</style></head><h1>Head</h1>"
                        "<p>One <a href='https://x.example'>link</a></p>"
                        "<ol><li>first</li><li>second</li></ol><ul><li>dot</li></ul>")
    assert text == ("Head\n====\n\nOne link (https://x.example)\n\n1. first\n2. second\n\n"
                    "- dot\n")


# ---------------------------------------------------------------------------------------
# Promise 5: nothing about the reporter in anything addressed to the reported person

MARKERS = {
    "name": "Zebedee QXNAME Marchbanks",
    "address": "QXADDR 42 Hidden Lane, Chesterfield, S40 7QX",
    "phone": "07700 900417",
    "email": "qxmail.reporter@example.net",
    "description": "QXDESC elderly neighbour who walks a grey whippet",
}


def case_facts_with_every_reporter_field():
    return {
        "case_reference": "ASB-2026-000123",
        "council": COUNCIL,
        "officer": OFFICER,
        "reported_person": {"name": "Mr Reported Person", "address": "7 Other Street, S41 1AA",
                            "date_of_birth": "1990-01-01"},
        "behaviours": ["noise", "verbal_abuse", "something the officer typed"],
        "behaviour_summary": "Loud music late at night, most weekends.",
        "period": "since March 2026",
        "date": datetime(2027, 2, 1, 9, tzinfo=UTC),
        "reporter": dict(MARKERS),
        "reporter_name": MARKERS["name"],
        "reporter_address": MARKERS["address"],
        "reporter_phone": MARKERS["phone"],
        "reporter_email": MARKERS["email"],
        "reporter_description": MARKERS["description"],
        "reporter_contact_preferences": {"channels": ["email"], "no_voicemail": True},
        "incidents": [{"reported_by": MARKERS["name"],
                       "description": f"{MARKERS['description']} heard shouting"}],
        "location": MARKERS["address"],
        "notes": f"Reporter {MARKERS['name']} is scared; call {MARKERS['phone']}",
    }


def marker_strings():
    strings = set()
    for value in MARKERS.values():
        strings.add(value)
        strings.update(part for part in re.split(r"[ ,]+", value) if part.startswith("QX"))
    strings.update({"QXNAME", "QXADDR", "QXDESC", "qxmail", "Zebedee", "Marchbanks",
                    "Hidden Lane", "900417", "whippet"})
    return strings


@pytest.mark.parametrize("channel", ["letter", "email"])
def test_reported_person_letter_carries_nothing_about_the_reporter(channel):
    context = reported_person_context(case_facts_with_every_reporter_field())
    context["channel"] = channel
    letter = render("warning_to_reported_person", context)
    pdf = to_pdf(letter.html)
    assert pdf.startswith(b"%PDF")
    typeset = pdf_text(letter.html, pdf)
    raw = pdf_raw(pdf)
    # It is the right letter, to the right person, about the behaviour in general terms.
    assert "Mr Reported Person" in letter.text
    assert BEHAVIOUR_DESCRIPTIONS["noise"] in letter.text
    assert "Loud music late at night" in squash(typeset)
    assert "something the officer typed" not in letter.html
    for marker in marker_strings():
        for where, body in (("subject", letter.subject), ("text", letter.text),
                            ("html", letter.html), ("sms", letter.sms),
                            ("pdf text", typeset)):
            assert marker.lower() not in body.lower(), f"{marker!r} leaked into the {where}"
        for encoded in (marker.encode(), marker.encode("utf-16-be")):
            assert encoded not in raw, f"{marker!r} leaked into the PDF bytes"
    digits = re.sub(r"\D", "", MARKERS["phone"])
    assert digits not in re.sub(r"\D", "", letter.text)


def test_reported_person_context_is_an_allow_list():
    context = reported_person_context(case_facts_with_every_reporter_field())
    assert set(context) == {"case_reference", "council", "officer", "recipient_name",
                            "recipient_address", "behaviours", "confidential",
                            "behaviour_summary", "period", "date"}
    assert context["behaviours"] == [BEHAVIOUR_DESCRIPTIONS["noise"],
                                     BEHAVIOUR_DESCRIPTIONS["verbal_abuse"],
                                     BEHAVIOUR_DESCRIPTIONS["other"]]
    assert "date_of_birth" not in str(context)


@pytest.mark.parametrize("wording", [
    "Zebedee says the music is too loud",
    "The neighbour at QXADDR 42 Hidden Lane hears it",
    "Loud music heard near S40 7QX",
    "Call 07700900417 to apologise",
    "Noise upsets the qxdesc elderly neighbour who walks a grey whippet",
])
def test_officer_wording_that_points_at_the_reporter_is_refused(wording):
    facts = case_facts_with_every_reporter_field()
    facts["behaviour_summary"] = wording
    with pytest.raises(ReporterDetailsInLetter, match="behaviour_summary"):
        reported_person_context(facts)


def test_reported_person_context_needs_a_name_and_reference():
    facts = case_facts_with_every_reporter_field()
    del facts["reported_person"]
    with pytest.raises(LetterContextInvalid):
        reported_person_context(facts)


def test_a_warning_letter_from_an_officer_without_a_phone_gives_the_councils():
    facts = case_facts_with_every_reporter_field()
    facts["officer"] = {"name": OFFICER["name"]}  # a new starter: no direct line, no e-mail
    letter = render("warning_to_reported_person", reported_person_context(facts))
    assert f"contact {OFFICER['name']} on {COUNCIL['phone']}" in " ".join(letter.text.split())
    assert COUNCIL["email"] in letter.text
