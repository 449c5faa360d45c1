"""The process owner's workspace in real Chromium: edit a diagram, check it, publish it.

pat.owner opens the first-contact process in the editor, renames a task through the
properties panel and saves a draft; breaks the deadline timer and sees the problem marked on
its element and listed; fixes it from the list with the keyboard; sees the draft's changes
on its own page, listed and marked on the diagram; is refused publishing without a reason,
then publishes with one. axe-core runs on every page type; no console error or CSP
violation anywhere.

Also: every MIWG reference file opens in the editor with no import warning but those that
name a defect of the file itself (C.7.0 draws an edge that names no flow, C.8.1 refers to
a message it does not define; the test checks each defect is really in the file) and saves
back without losing an element, attribute or layout (but for bpmn-moddle's rewrites, listed
exactly); every shipped diagram opens with no warning, no problem, and saves back whole; the
decision table editor (dmn-js) saves a draft.

The live server is shared by the whole browser session: publishing a new first-contact
version does not change what the other tests' cases run (a case runs the set of diagrams
its asb_case version bundled).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cases.audit import AuditEvent
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import DefinitionVersion
from tests.browser.conftest import LiveServer
from tests.browser.support import check_accessibility, screenshot, sign_in
from tests.interchange import compare_definitions, miwg_files
from web import BPMN_DIR

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""
BROKEN_TIMER = "due_after_working_days(received_at, 1"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"


def _rows(live_server: LiveServer, *where: object) -> list[DefinitionVersion]:
    engine = make_engine(live_server.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            rows = list(
                session.scalars(
                    select(DefinitionVersion).where(*where).order_by(DefinitionVersion.id)
                )
            )
            for row in rows:
                _ = row.sources, row.spec_json  # load the deferred columns before closing
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def _clean(page: Page, console) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("window.__cspViolations") == []
    assert console.unexpected() == []


def _ready(page: Page) -> None:
    expect(page.locator("#editor-status")).to_contain_text(
        re.compile("Ready|Checked"), timeout=20_000
    )


def _checked(page: Page, words: str | re.Pattern[str]) -> None:
    expect(page.locator("#editor-status")).to_contain_text(words, timeout=15_000)


def test_a_process_owner_edits_checks_and_publishes_the_first_contact_process(
    page: Page, live_server: LiveServer, artifacts, console
):
    page.add_init_script(WATCH_CSP)
    sign_in(page, "pat.owner")
    expect(page).to_have_url(re.compile(r"/diagrams$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Process diagrams")
    row = page.locator("#processes tr", has_text="asb_first_contact")
    expect(row).to_contain_text("Version 1")
    check_accessibility(page, "owner-1-processes", artifacts)
    screenshot(page, "owner-1-processes", artifacts)

    # 1. The editor opens on the version in use; the panel follows the element list.
    row.get_by_role("link", name=re.compile("^Edit")).click()
    _ready(page)
    expect(page.locator("#server-summary")).to_have_text(
        "No problems: the engine can run this diagram."
    )
    page.get_by_label("Element", exact=True).select_option("first_contact")
    panel = page.locator("#owner-panel")
    expect(panel.locator(".owner-panel__title")).to_have_text("Make first contact")
    expect(panel.get_by_label("Form", exact=True)).to_have_value("first_contact")
    check_accessibility(page, "owner-2-editor", artifacts)

    # 2. A new name through the properties panel, drawn at once, saved as a draft.
    name = panel.get_by_label("Name", exact=True)
    name.fill("Make first contact with the reporter")
    name.press("Tab")
    task = page.locator('#owner-canvas g.djs-element[data-element-id="first_contact"]')
    expect(task).to_contain_text(re.compile(r"Make first contact with\s*the\s*reporter"))
    expect(page.locator('#element-picker option[value="first_contact"]')).to_have_text(
        "Make first contact with the reporter (user task)"
    )
    page.get_by_role("button", name="Save as draft").click()
    _checked(page, re.compile(r"Saved as draft version \d+: no problems found\."))
    expect(page).to_have_url(re.compile(r"/diagrams/versions/\d+/edit$"))

    # 3. A user task without a form is a problem on that task; choosing the form again
    # clears it (each change is checked as it is made).
    form = panel.get_by_label("Form", exact=True)
    form.select_option("")
    _checked(page, re.compile(r"Checked: \d+ problems? to fix before publishing\."))
    expect(page.locator('#server-problems li[data-element-id="first_contact"]')).not_to_have_count(
        0
    )
    form.select_option("first_contact")
    _checked(page, "Checked: no problems found.")

    # 4. A broken deadline: the problem is on the timer, on the diagram and in the list.
    page.get_by_label("Element", exact=True).select_option("first_contact_deadline")
    timer = panel.get_by_label("Timer expression")
    expect(timer).to_have_value("first_contact_due")
    timer.fill(BROKEN_TIMER)
    timer.press("Tab")
    _checked(page, re.compile(r"Checked: \d+ problems? to fix before publishing\."))
    problem = page.locator("#server-problems li", has_text="The timer cannot be used")
    expect(problem).to_contain_text("this is not valid Python")
    expect(problem).to_have_attribute("data-element-id", "first_contact_deadline")
    listed = page.locator("#server-problems li")
    count = listed.count()
    assert count >= 1 and all(  # every problem is on the broken timer, none elsewhere
        listed.nth(i).get_attribute("data-element-id") == "first_contact_deadline"
        for i in range(count)
    )
    deadline = page.locator('#owner-canvas g.djs-element[data-element-id="first_contact_deadline"]')
    expect(deadline).to_have_class(re.compile(r"\bowner-problem\b"))
    expect(page.locator(".djs-overlay .owner-badge--problem")).to_have_text(str(count))
    check_accessibility(page, "owner-3-editor-problem", artifacts)
    screenshot(page, "owner-3-editor-problem", artifacts)

    # 5. Fixed from the list with the keyboard: the link selects the element.
    page.get_by_label("Element", exact=True).select_option("")
    problem.get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(panel.locator(".owner-panel__title")).to_be_focused()
    expect(panel.locator(".owner-panel__title")).to_have_text("First-contact deadline passed")
    timer.fill("first_contact_due")
    timer.press("Tab")
    _checked(page, "Checked: no problems found.")
    expect(page.locator("#server-problems li")).to_have_count(0)
    expect(deadline).not_to_have_class(re.compile(r"\bowner-problem\b"))
    page.get_by_role("button", name="Save as draft").click()
    _checked(page, re.compile(r"Saved as draft version \d+: no problems found\."))
    version = re.search(r"version (\d+)", page.locator("#editor-status").inner_text())[1]
    _clean(page, console)

    # 6. The draft's changes, listed and marked on the diagram.
    page.get_by_role("link", name=f"Review the changes and publish draft version {version}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Version {version}")
    change = page.locator('#changes tr[data-element-id="first_contact"]')
    expect(change).to_contain_text("Changed")
    expect(change).to_contain_text("Make first contact with the reporter")
    expect(page.locator("#changes tbody tr")).to_have_count(1)
    marked = page.locator('#owner-diagram g.djs-element[data-element-id="first_contact"]')
    expect(marked).to_have_class(re.compile(r"\bowner-changed\b"))
    page.get_by_role("button", name="Version in use").click()
    expect(page.get_by_role("button", name="Version in use")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(marked).to_have_class(re.compile(r"\bowner-changed\b"))
    check_accessibility(page, "owner-4-changes", artifacts)
    screenshot(page, "owner-4-changes", artifacts)

    # 7. Publishing asks why; without a reason it is refused and says so.
    page.get_by_role("button", name="Publish this version").click()
    page.get_by_role("button", name=f"Publish version {version}").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter why you are doing this")
    check_accessibility(page, "owner-5-publish-refused", artifacts)
    screenshot(page, "owner-5-publish-refused", artifacts)
    page.get_by_label("Why are you publishing this version?").fill(
        "Reporters asked for the officer to say who they are"
    )
    page.get_by_role("button", name=f"Publish version {version}").click()

    # 8. The history: the draft in use, published by pat.owner with the reason.
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is published")
    published = page.locator(f'#versions tr[data-version="{version}"]')
    expect(published).to_contain_text("In use")
    expect(published).to_contain_text("pat.owner")
    expect(published).to_contain_text("Reporters asked for the officer to say who they are")
    expect(page.locator('#versions tr[data-version="1"]')).to_contain_text("Published earlier")
    check_accessibility(page, "owner-6-history", artifacts)
    screenshot(page, "owner-6-history", artifacts)
    _clean(page, console)
    (live,) = [
        r
        for r in _rows(live_server, DefinitionVersion.process_id == "asb_first_contact")
        if r.version == int(version)
    ]
    assert live.published and live.created_by == "pat.owner"
    # New cases start asb_case bundled with the new first contact; running ones keep theirs.
    *_earlier, running, newest = [
        r for r in _rows(live_server, DefinitionVersion.process_id == "asb_case") if r.published]
    assert "Make first contact with the reporter" in newest.spec_json
    assert "Make first contact with the reporter" not in running.spec_json
    assert newest.created_by == "pat.owner"


TRISO = "http://www.trisotech.com/2015/triso/modeling"
ITEM = f"{TRISO}:itemDefinitions[1]/{TRISO}:itemDefinition"
# What bpmn-js (bpmn-moddle) writes differently when it saves these two files, listed exactly
# so that anything else lost fails: B.2.0 has messageVisibleKind="initiating", bpmn-moddle's
# default for it, which it leaves out; C.8.1 refers three times to a message it does not
# define (triso:unspecified: dropped), writes a resource assignment's <formalExpression> as
# <expression xsi:type="tFormalExpression"> (the same element in the BPMN schema), and has
# two attributes named constraintsType (plain and triso:, same value), which moddle keeps once.
BPMN_JS_REWRITES = {
    "B.2.0.bpmn": {
        "attribute messageVisibleKind='initiating' of bpmndi:BPMNEdge "
        "#E1373638081031__09e7cb23-4a1b-4165-b93a-cf635c223ee5"
    },
    "C.8.1.bpmn": {
        *(
            f"bpmn:outMessageRef #{op}/bpmn:outMessageRef[1]"
            for op in (
                "_83f1c680-7e06-4a9a-9206-396ed8155a71",
                "_a0e96e19-a01f-4dde-b613-0b774e8d350b",
                "_04bf649c-423c-4312-b813-cf585ce5a82f",
            )
        ),
        "bpmn:formalExpression #_ac0fe901-da4a-4b3b-93e4-49df342fec22/bpmn:formalExpression[1]",
        *(
            f"attribute {TRISO}:constraintsType='enumeration' of {TRISO}:allowedValues "
            f"/bpmn:definitions/bpmn:relationship[1]/bpmn:extensionElements[1]/{ITEM}[{n}]"
            f"/{TRISO}:allowedValues[1]"
            for n in (5, 7)
        ),
    },
}


def _defect_of_the_file(raw: bytes, warning: str) -> bool:
    """True when an import warning is about a defect really in the reference file itself."""
    root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    ids = {node.get("id") for node in root.iter() if isinstance(node.tag, str)}
    unresolved = re.fullmatch(r"unresolved reference <([^>]+)>", warning)
    if unresolved:  # a reference to an element the file does not have
        name = unresolved[1]
        return name not in ids and any(
            (node.text or "").strip() == name or name in node.attrib.values()
            for node in root.iter()
            if isinstance(node.tag, str)
        )
    unnamed = re.fullmatch(
        r'no bpmnElement referenced in <bpmndi:BPMNEdge id="([^"]+)" />', warning
    )
    if unnamed:  # layout for an edge that says which flow it draws
        edges = [n for n in root.iter(f"{{{BPMNDI}}}BPMNEdge") if n.get("id") == unnamed[1]]
        return len(edges) == 1 and edges[0].get("bpmnElement") is None
    return False


@pytest.mark.parametrize("path", miwg_files(), ids=lambda p: p.name)
def test_every_miwg_reference_file_opens_in_the_editor_and_saves_back_whole(
    page: Page, live_server: LiveServer, console, path: Path
):
    raw = path.read_bytes()
    page.add_init_script(WATCH_CSP)
    sign_in(page, "pat.owner")
    page.goto("/diagrams/upload")
    page.get_by_label("Diagram file (.bpmn or .dmn)").set_input_files(
        {"name": path.name, "mimeType": "application/xml", "buffer": raw}
    )
    page.get_by_role("button", name="Keep as a draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Version")
    page.get_by_role("button", name="Edit this version").click()
    _ready(page)
    warnings = page.locator("#import-warnings li").all_inner_texts()
    assert [w for w in warnings if not _defect_of_the_file(raw, w)] == [], path.name
    if not warnings:
        expect(page.locator("#import-warnings")).to_be_hidden()
    assert page.locator("#owner-canvas g.djs-element").count() > 0
    page.get_by_role("button", name="Save as draft").click()
    _checked(page, "Saved as draft version")
    saved = page.url.rsplit("/", 2)[-2]
    (row,) = _rows(live_server, DefinitionVersion.id == int(saved))
    back = next(iter(row.sources.values())).encode("utf-8")
    comparison = compare_definitions(raw, back)
    assert set(comparison.lost + comparison.changed) == BPMN_JS_REWRITES.get(path.name, set())
    _clean(page, console)


def _shipped(live_server: LiveServer, raw: bytes) -> DefinitionVersion:
    """The version loaded from a shipped file (its first process), whatever is in use now."""
    root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    first = next(p.get("id") for p in root.iter(f"{{{BPMN}}}process"))
    rows = _rows(
        live_server, DefinitionVersion.process_id == first, DefinitionVersion.created_by == "system"
    )
    return max(rows, key=lambda r: r.version)


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda p: p.name)
def test_every_shipped_diagram_opens_in_the_editor_and_saves_back_whole(
    page: Page, live_server: LiveServer, console, path: Path
):
    raw = path.read_bytes()
    version = _shipped(live_server, raw)
    page.add_init_script(WATCH_CSP)
    sign_in(page, "pat.owner")
    page.goto(f"/diagrams/versions/{version.id}/edit")
    _ready(page)
    expect(page.locator("#import-warnings")).to_be_hidden()
    expect(page.locator("#server-summary")).to_have_text(
        "No problems: the engine can run this diagram."
    )
    page.get_by_role("button", name="Save as draft").click()
    _checked(page, "Saved as draft version")
    saved = page.url.rsplit("/", 2)[-2]
    (row,) = _rows(live_server, DefinitionVersion.id == int(saved))
    back = next(iter(row.sources.values())).encode("utf-8")
    comparison = compare_definitions(raw, back)
    assert comparison.lossless, (path.name, comparison.lost, comparison.changed)
    _clean(page, console)


# dmn-js 17.10.2's bundle carries Inferno's development build, which says so on the console
# as it loads: the only console error the decision table editor may show.
INFERNO = "It looks like you're using a minified copy of the development build of Inferno"


def test_a_decision_table_is_edited_and_saved_as_a_draft(
    page: Page, live_server: LiveServer, artifacts, console
):
    page.add_init_script(WATCH_CSP)
    sign_in(page, "pat.owner")
    page.goto("/diagrams")
    page.locator("#decisions").get_by_role("link", name=re.compile("priority", re.I)).click()
    page.get_by_role("button", name="Edit the shipped table").click()
    expect(page.locator("#editor-status")).to_have_text("Ready.", timeout=20_000)
    expect(page.locator("#owner-dmn-canvas .tjs-table")).to_be_visible()
    check_accessibility(page, "owner-7-decision-table", artifacts)
    screenshot(page, "owner-7-decision-table", artifacts)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#editor-status")).to_contain_text("Saved as draft version")
    watermark = page.locator("#owner-dmn-canvas .owner-powered-by")
    expect(watermark).to_be_visible()
    assert watermark.evaluate("el => getComputedStyle(el).position") == "absolute"
    page.get_by_role("link", name=re.compile("See draft version")).click()
    expect(page.locator("#versions tr")).not_to_have_count(0)
    assert page.evaluate("window.__cspViolations") == []
    assert [e for e in console.unexpected() if not e.startswith(INFERNO)] == []
    engine = make_engine(live_server.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            saved = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "owner.draft_saved")
            ).all()
            assert any((e.summary or {}).get("process_id") == "dmn:triage_priority" for e in saved)
    finally:
        engine.dispose()
