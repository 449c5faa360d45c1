"""Every MIWG reference file imports, reads back byte for byte, gets a clear report, exports."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from lxml import etree

from engine import clock
from engine.interchange import BPMNDI, examine, export_definitions, set_attribute
from tasks.wiring import build_engine
from tests.api.support import BPMN, XMAS_EVE, error_of, make_api
from tests.interchange import ROOT, canonical, compare_definitions, miwg_files
from web.api.drafts import DraftBook, encode_source, interchange_problems, read_document

FILES = miwg_files()
NAMED = {path.name: path for path in FILES}
XML = {"Content-Type": "application/xml"}
# What a stack trace or a Python repr would leave in a message meant for a process owner.
NOT_WORDS = re.compile(r"Traceback|File \"| at 0x[0-9a-f]+|<Element |Error\(")


@pytest.fixture
def api(tmp_path):
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path)


def upload(api, raw: bytes):
    return api.post("/api/v1/diagrams", "petra", data=raw, headers=XML)


def assert_words(problems: list[dict[str, str]]) -> None:
    for problem in problems:
        assert {"element_id", "element_type", "message"} <= set(problem), problem
        assert problem["message"].strip() and not NOT_WORDS.search(problem["message"]), problem


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_api_imports_each_file_with_a_report_and_reads_it_back_byte_for_byte(api, path):
    raw = path.read_bytes()
    audited = api.counts()["audit"]
    response = upload(api, raw)
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["process_ids"] == read_document(raw).ids
    assert isinstance(body["executable"], bool) and body["published"] is False
    assert_words(body["problems"])
    assert body["executable"] or body["problems"], "a draft that cannot run must say why"
    if not examine(raw).executable:  # the product is never more lenient than the engine
        assert body["executable"] is False
    back = api.get(f"/api/v1/diagrams/{body['id']}", "petra")
    assert back.status_code == 200 and back.mimetype == "application/xml"
    assert back.get_data() == raw
    assert api.counts()["audit"] == audited + 2  # the upload and the reading


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_engine_says_per_file_what_it_cannot_run_and_why(path):
    raw = path.read_bytes()
    report = examine(raw)
    assert report.readable
    assert [p.id for p in report.processes] == read_document(raw).ids
    assert report.elements and all(e.type and e.id for e in report.elements)
    assert_words([f.as_dict() for f in report.findings])
    # Drawn for other engines (or none): each says why it cannot run here unchanged.
    assert not report.executable and report.problems()
    unmarked = {p.id for p in report.processes if not p.marked_executable}
    said = {p["element_id"] for p in report.problems() if "not marked executable" in p["message"]}
    assert said == unmarked
    assert interchange_problems(read_document(raw)) == report.problems()
    assert all(p["rule"] and p["severity"] == "error" for p in report.problems())


def test_layout_is_found_where_it_is_and_missed_where_it_is_not():
    missing = {
        path.name: [p.id for p in examine(path.read_bytes()).processes if p.without_layout]
        for path in FILES
    }
    assert {name: ids for name, ids in missing.items() if ids} == {
        "B.1.0.bpmn": ["WFP-0-"],
        "B.2.0.bpmn": ["WFP-0-"],
    }
    raw = NAMED["A.1.0.bpmn"].read_bytes()
    root = etree.fromstring(raw)
    shape = next(root.iter(f"{{{BPMNDI}}}BPMNShape"))
    shape.getparent().remove(shape)
    report = examine(etree.tostring(root))
    (process,) = report.processes
    assert process.without_layout == (shape.get("bpmnElement"),)
    assert any("no diagram layout" in w["message"] for w in report.warnings())


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_export_loses_no_element_attribute_or_layout(path):
    raw = path.read_bytes()
    exported = export_definitions(raw)
    assert canonical(exported) == canonical(raw)
    comparison = compare_definitions(raw, exported)
    assert comparison.lossless and not comparison.added and not comparison.defaulted, comparison
    assert export_definitions(exported) == exported
    head = raw.split(b"?>", 1)[0] if raw.startswith(b"<?xml") else b""
    assert exported.startswith(head)  # the same prolog: encoding and standalone kept


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_changing_one_attribute_changes_nothing_else(path):
    raw = path.read_bytes()
    process_id = examine(raw).processes[0].id
    edited = set_attribute(raw, process_id, "isExecutable", "true")
    comparison = compare_definitions(raw, edited)
    assert not comparison.lost
    assert [c for c in comparison.changed + comparison.added if "isExecutable" not in c] == []
    assert examine(edited).processes[0].marked_executable


def test_marking_a_simple_imported_process_executable_makes_it_runnable():
    raw = NAMED["A.1.0.bpmn"].read_bytes()  # A.1.0: start, three tasks, end
    assert [p["message"] for p in examine(raw).problems()] == [
        'The process is not marked executable (isExecutable="true"), so this engine will not '
        "start it."
    ]
    edited = set_attribute(raw, "WFP-6-", "isExecutable", "true")
    assert examine(edited).executable and examine(edited).processes[0].runs
    assert set_attribute(edited, "WFP-6-", "isExecutable", None) != edited
    with pytest.raises(KeyError):
        set_attribute(raw, "no-such-element", "name", "x")


def test_the_comparison_sees_lost_layout_attributes_and_text_but_not_prefixes():
    raw = NAMED["A.1.0.bpmn"].read_bytes()
    renamed = raw.replace(b"semantic:", b"bpmn:").replace(b"xmlns:semantic=", b"xmlns:bpmn=")
    assert canonical(renamed) != canonical(raw)
    assert compare_definitions(raw, renamed).lossless
    root = etree.fromstring(raw)
    shape = next(root.iter(f"{{{BPMNDI}}}BPMNShape"))
    shape.getparent().remove(shape)
    task = next(e for e in root.iter() if e.get("name") and e.tag.endswith("}task"))
    del task.attrib["name"]
    comparison = compare_definitions(raw, etree.tostring(root))
    assert f"the layout of {shape.get('bpmnElement')}" in " ".join(comparison.lost)
    assert any("attribute name=" in lost and task.get("id") in lost for lost in comparison.lost)
    bounds = next(etree.fromstring(raw).iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds"))
    moved = raw.replace(
        f'x="{bounds.get("x")}"'.encode(), f'x="{float(bounds.get("x")) + 5}"'.encode(), 1
    )
    assert not compare_definitions(raw, moved).lossless
    # What bpmn-js leaves out because the schema says so is not lost, but it is listed.
    trimmed = raw.replace(b' completionQuantity="1"', b"").replace(
        b' isForCompensation="false"', b""
    )
    comparison = compare_definitions(raw, trimmed)
    assert comparison.lossless and len(comparison.defaulted) == 6, comparison
    raw = NAMED[
        "C.1.0.bpmn"
    ].read_bytes()  # C.1.0: waypoints say xsi:type="omgdc:Point", as implied
    untyped = raw.replace(b' xsi:type="omgdc:Point"', b"")
    assert untyped != raw and compare_definitions(raw, untyped).lossless


def _report_module():
    spec = importlib.util.spec_from_file_location("miwg_report", ROOT / "scripts/miwg_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_in_docs_interchange_is_up_to_date():
    report = _report_module()
    doc = (ROOT / "docs" / "interchange.md").read_text(encoding="utf-8")
    assert report.current(doc) == report.render(), "run: python scripts/miwg_report.py"
    assert all(f"| {p.name} |" in doc for p in FILES)


# -- files that are BPMN but unusual ---------------------------------------------------------

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def latin1_file() -> bytes:
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="t">'
        '<process id="caf\xe9" name="R\xe9sum\xe9 \xa3" isExecutable="true">'
        '<startEvent id="s"/></process></definitions>'
    ).encode("latin-1")


def collaboration_only() -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{BPMN_NS}" id="d" '
        'targetNamespace="t"><collaboration id="talks"><participant id="council" '
        'name="Council"/><participant id="police" name="Police"/><messageFlow id="m" '
        'sourceRef="council" targetRef="police"/></collaboration></definitions>'
    ).encode()


def test_other_encodings_are_kept_byte_for_byte():
    for raw in (
        latin1_file(),
        "\ufeff".encode("utf-16-le")
        + latin1_file().decode("latin-1").replace("ISO-8859-1", "UTF-16").encode("utf-16-le"),
    ):
        document = read_document(raw)
        assert document.ids == ["caf\xe9"] and document.raw == raw
        assert encode_source(document.text) == raw
        assert "R\xe9sum\xe9 \xa3" in document.text
        assert examine(raw).processes[0].name == "R\xe9sum\xe9 \xa3"


def test_a_stored_upload_in_another_encoding_reads_back_as_the_same_bytes(db_session):
    book = DraftBook(build_engine().definitions, BPMN)
    draft = book.upload(db_session, latin1_file(), "petra")
    assert encode_source(book.source(draft.rows[0])) == latin1_file()
    assert draft.executable is False


def test_the_api_reads_back_a_latin1_upload_byte_for_byte(api):
    response = upload(api, latin1_file())
    assert response.status_code == 201, response.get_json()
    back = api.get(f"/api/v1/diagrams/{response.get_json()['id']}", "petra")
    assert back.get_data() == latin1_file()


def test_a_collaboration_without_processes_imports_as_a_draft_that_says_why_it_cannot_run(api):
    raw = collaboration_only()
    report = examine(raw)
    assert report.collaborations == ("talks",) and not report.executable
    assert "defines no process, only a collaboration" in report.problems()[0]["message"]
    response = upload(api, raw)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["process_ids"] == ["collaboration:talks"] and body["executable"] is False
    assert body["problems"]
    assert api.get(f"/api/v1/diagrams/{body['id']}", "petra").get_data() == raw


def test_what_cannot_be_stored_is_a_clear_422(api):
    long_id = "p" * 201
    raw = f'<definitions xmlns="{BPMN_NS}" id="d"><process id="{long_id}"/></definitions>'
    before = api.counts()
    error = error_of(upload(api, raw.encode()), 422, "validation_failed")
    assert "longer than 200 characters" in error["details"]["body"]
    big_endian = "\ufeff<?xml version='1.0' encoding='UTF-16'?><definitions/>".encode("utf-16-be")
    error = error_of(upload(api, big_endian), 422, "validation_failed")
    assert "save it as UTF-8" in error["details"]["body"]
    error = error_of(
        upload(api, b'<?xml version="1.0" encoding="klingon"?><x/>'), 422, "validation_failed"
    )
    assert "klingon" in error["details"]["body"]
    assert api.counts() == before


def test_the_report_never_raises_on_broken_or_foreign_files():
    raw = NAMED["C.1.0.bpmn"].read_bytes()  # C.1.0: two pools, Camunda settings, conditions, timers
    for broken in (
        b"",
        b"<x",
        raw[: len(raw) // 2],
        (BPMN / "triage_priority.dmn").read_bytes(),
        b"<definitions/>",
    ):
        report = examine(broken)
        assert not report.readable and not report.executable
        assert report.findings[0].message.startswith("This is not a BPMN file")
    root = etree.fromstring(raw)
    for element in list(root.iter())[5::7]:  # drop every seventh element: dangling references
        if element.getparent() is not None:
            element.getparent().remove(element)
    report = examine(etree.tostring(root))
    assert report.readable and not report.executable
    assert_words([f.as_dict() for f in report.findings])


def test_one_report_lists_every_problem_not_only_the_first():
    steps = "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{"s" if i == 0 else f"t{i - 1}"}" targetRef="t{i}"/>'
        f'<{kind} id="t{i}"><incoming>f{i}</incoming><outgoing>f{i + 1}</outgoing>{inner}</{kind}>'
        for i, (kind, inner) in enumerate(
            [("serviceTask", "")] * 30
            + [("userTask", "<multiInstanceLoopCharacteristics/>")]
            + [("scriptTask", "<script>x = = 1</script>")]
        )
    )
    raw = (
        f'<definitions xmlns="{BPMN_NS}" id="d"><process id="p" isExecutable="true">'
        f'<startEvent id="s"><outgoing>f0</outgoing></startEvent>{steps}'
        '<sequenceFlow id="f32" sourceRef="t31" targetRef="e"/><endEvent id="e">'
        "<incoming>f32</incoming></endEvent></process></definitions>"
    ).encode()
    problems = examine(raw).problems()
    assert [p["element_id"] for p in problems] == [f"t{i}" for i in range(32)]
    assert "repeats (multi-instance)" in problems[30]["message"]
    assert problems[31]["message"].startswith("Its code cannot run here: Line 1:")


def test_calls_and_decision_tables_resolve_in_the_files_imported_together():
    files = {p.name: p.read_bytes() for p in FILES}
    alone = examine(files["C.9.0.bpmn"])
    assert "It calls 'ManualCheck', which this file does not define" in str(alone.problems())
    together = examine(files["C.9.0.bpmn"], [files["C.9.1.bpmn"], files["C.9.2.bpmn"]])
    assert "which this file does not define" not in str(together.problems())
    assert "A process it calls, in another file, cannot run" in str(together.problems())


def test_each_of_our_own_diagrams_runs_with_the_files_it_needs():
    shipped = {p: p.read_bytes() for p in sorted(BPMN.glob("*")) if p.suffix in (".bpmn", ".dmn")}
    for path, raw in shipped.items():
        if path.suffix == ".bpmn":
            report = examine(raw, [other for p, other in shipped.items() if p != path])
            assert report.executable and not report.warnings(), (path.name, report.findings)
    case = examine(shipped[BPMN / "asb_case.bpmn"])
    assert "It calls 'asb_intake', which this file does not define" in str(case.problems())


def test_our_own_diagrams_export_without_loss():
    for path in sorted(Path(BPMN).glob("*.bpmn")):
        raw = path.read_bytes()
        assert canonical(export_definitions(raw)) == canonical(raw), path.name
