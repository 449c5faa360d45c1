"""The diff of two diagram versions, element by element, in the words a process owner reads."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.api.support import BPMN
from tests.interchange import miwg_files
from web.owner.diff import diff_xml

FIRST_CONTACT = (BPMN / "first_contact.bpmn").read_text()


def changed(before: str, after: str) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """element id -> {what: (before, after)} for every changed element."""
    return {
        c.element_id: {f.what: (f.before, f.after) for f in c.fields}
        for c in diff_xml(before, after).changes
        if c.kind == "changed"
    }


def test_the_same_diagram_has_no_changes():
    assert diff_xml(FIRST_CONTACT, FIRST_CONTACT.encode()).empty


@pytest.mark.parametrize(
    "path", [*miwg_files(), *sorted(BPMN.glob("*.bpmn"))], ids=lambda p: p.name
)
def test_every_reference_and_shipped_diagram_equals_itself(path):
    raw = path.read_bytes()
    assert diff_xml(raw, raw).changes == []


def test_a_new_name_is_a_changed_element():
    after = FIRST_CONTACT.replace('name="Make first contact"', 'name="Call the reporter"')
    diff = diff_xml(FIRST_CONTACT, after)
    (change,) = diff.changes
    assert (change.element_id, change.kind, change.name) == (
        "first_contact",
        "changed",
        "Call the reporter",
    )
    assert change.element_type == "userTask"
    assert changed(FIRST_CONTACT, after)["first_contact"] == {
        "name": ("Make first contact", "Call the reporter")
    }
    assert diff.as_dict()["counts"] == {"added": 0, "removed": 0, "changed": 1, "moved": 0}


def test_form_deadline_and_timer_changes_are_named_in_words():
    after = (
        FIRST_CONTACT.replace('name="form" value="first_contact_overdue"', 'name="form" value="x"')
        .replace(
            'value="due_after_working_days(now(), 1)"', 'value="due_after_working_days(now(), 2)"'
        )
        .replace("first_contact_due</bpmn:timeDate>", "deadline</bpmn:timeDate>")
    )
    found = changed(FIRST_CONTACT, after)
    assert found["first_contact_overdue"] == {
        "form": ("first_contact_overdue", "x"),
        "deadline": ("due_after_working_days(now(), 1)", "due_after_working_days(now(), 2)"),
    }
    assert found["first_contact_deadline"] == {"timer date": ("first_contact_due", "deadline")}


def test_an_operator_and_its_parameters():
    after = FIRST_CONTACT.replace(
        '<spiffworkflow:serviceTaskOperator id="first_contact.record_breach" '
        'resultVariable="record_breach_result">\n          <spiffworkflow:parameters/>',
        '<spiffworkflow:serviceTaskOperator id="contact.other" '
        'resultVariable="record_breach_result">\n          <spiffworkflow:parameters>'
        '<spiffworkflow:parameter id="label" type="str" value="case_reference"/>'
        "</spiffworkflow:parameters>",
    )
    assert after != FIRST_CONTACT
    assert changed(FIRST_CONTACT, after)["record_breach"] == {
        "operator": ("first_contact.record_breach", "contact.other"),
        "parameter label": (None, "case_reference (str)"),
    }


def test_a_task_moved_to_another_lane_changes_its_role():
    root = etree.fromstring(FIRST_CONTACT.encode())
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    officer, leader = root.findall(".//bpmn:lane", ns)
    ref = next(r for r in officer.findall("bpmn:flowNodeRef", ns) if r.text == "record_contact")
    officer.remove(ref)
    leader.append(ref)
    after = etree.tostring(root).decode()
    assert changed(FIRST_CONTACT, after)["record_contact"] == {
        "lane (role)": ("officer", "team_leader")
    }


def test_added_removed_and_moved_elements():
    after = FIRST_CONTACT.replace(
        '<bpmn:endEvent id="escalation_handled" name="Escalation handled">',
        '<bpmn:endEvent id="escalation_closed" name="Escalation closed">',
    ).replace(
        '<dc:Bounds x="570" y="100" width="100" height="80"/>',
        '<dc:Bounds x="600" y="100" width="100" height="80"/>',
    )
    kinds = {c.element_id: c.kind for c in diff_xml(FIRST_CONTACT, after).changes}
    assert kinds["escalation_closed"] == "added"
    assert kinds["escalation_handled"] == "removed"
    assert kinds["record_contact"] == "moved"
    moved = next(c for c in diff_xml(FIRST_CONTACT, after).changes if c.kind == "moved")
    assert moved.fields[0].what == "position on the diagram"


def test_a_condition_and_an_event_that_waits_for_something_else():
    source = (BPMN / "asb_case.bpmn").read_text()
    after = source.replace(
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">safeguarding<',
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">safeguarding == True<',
    )
    after = after.replace('messageRef="Message_new_incident"', 'messageRef="Message_complaint"')
    found = changed(source, after)
    assert found["Flow_safeguarding_needed_call_safeguarding"] == {
        "condition": ("safeguarding", "safeguarding == True")
    }
    assert found["new_incident_received_start"]["message"] == (
        "Message_new_incident",
        "Message_complaint",
    )


def test_malformed_xml_is_refused():
    with pytest.raises(etree.XMLSyntaxError):
        diff_xml(FIRST_CONTACT, "<bpmn:definitions")
