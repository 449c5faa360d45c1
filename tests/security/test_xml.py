"""Every XML parser refuses or neutralises XXE, billion laughs and oversized documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from engine import clock
from engine.bpmn_model import DiagramUnreadable, read_bpmn
from engine.definitions import parse_sources
from engine.errors import DiagramInvalid
from engine.interchange import examine
from engine.interchange_file import DefinitionsFile, NotBpmn
from tests.api.support import XMAS_EVE, Api, make_api
from tests.security.tooling_support import XML, Browser, probe
from web.api.drafts import NotADiagram, read_document
from web.cli import _process_ids

FIVE_MB = 5 * 1024 * 1024
LAUGHS = "".join(
    f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
).replace("&lol0;" * 10, "lol")
BILLION_LAUGHS = f"<!DOCTYPE bpmn:definitions [{LAUGHS}]>\n"


@pytest.fixture
def secret(tmp_path: Path) -> tuple[Path, str]:
    """A local file holding a string that must never leave the server."""
    words = f"SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(words)
    return path, words


def xxe_documents(path: Path) -> dict[str, bytes]:
    """Ways to pull the file in: a general entity, a parameter entity, an external DTD."""
    url = path.as_uri()
    general = f'<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "{url}">]>\n'
    parameter = (f'<!DOCTYPE bpmn:definitions [<!ENTITY % p SYSTEM "{url}"> %p;'
                 f'<!ENTITY xxe "x">]>\n')
    external = f'<!DOCTYPE bpmn:definitions SYSTEM "{url}">\n'
    return {
        "general": probe(script="note = '&xxe;'", name="&xxe;", doctype=general),
        "parameter": probe(script="note = '&xxe;'", name="&xxe;", doctype=parameter),
        "external_dtd": probe(name="Probe", doctype=external),
    }


def oversized() -> bytes:
    raw = probe()
    pad = b"<!--" + b"x" * (FIVE_MB - len(raw)) + b"-->"
    return raw.replace(b"<bpmn:process", pad + b"<bpmn:process", 1)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path)


def stored_bytes(api: Api) -> bytes:
    """Everything the database holds, as it lies on disk (every row, every column)."""
    base = Path(api.url.removeprefix("sqlite:///"))
    api.app.extensions["asb"]["db"].dispose()
    return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))


def _text(response) -> str:
    return response.get_data(as_text=True)


# -- the parsers themselves ---------------------------------------------------------------

def _spiff(raw: bytes) -> str:
    """Everything SpiffWorkflow's parser made of the document, as text."""
    parser, ids = parse_sources({"probe.bpmn": raw})
    specs = [parser.get_spec(pid) for pid in ids]
    return repr([(spec.description, [vars(ts) for ts in spec.task_specs.values()])
                 for spec in specs])


PARSERS: dict[str, Callable[[bytes], str]] = {
    "bpmn_model.read_bpmn": lambda raw: etree.tostring(read_bpmn(raw)).decode(),
    "interchange_file.read": lambda raw: etree.tostring(DefinitionsFile.read(raw).root).decode(),
    "interchange.examine": lambda raw: repr(examine(raw, companions=[raw])),
    "definitions.parse_sources": lambda raw: _spiff(raw),
    "api.read_document": lambda raw: repr(read_document(raw)),
    "cli.process_ids": lambda raw: repr(_process_ids(raw)),
}
REFUSALS = (DiagramUnreadable, NotBpmn, DiagramInvalid, NotADiagram)


@pytest.mark.parametrize("parse", PARSERS.values(), ids=PARSERS.keys())
@pytest.mark.parametrize("kind", ["general", "parameter", "external_dtd"])
def test_each_parser_never_reads_a_local_file_through_an_entity(parse, kind, secret):
    path, words = secret
    try:
        seen = parse(xxe_documents(path)[kind])
    except REFUSALS as refused:
        seen = str(refused)
    assert words not in seen


@pytest.mark.parametrize("parse", PARSERS.values(), ids=PARSERS.keys())
def test_each_parser_leaves_billion_laughs_unexpanded(parse):
    try:
        seen = parse(probe(name="&lol9;", script="x = '&lol9;'", doctype=BILLION_LAUGHS))
    except REFUSALS as refused:
        seen = str(refused)
    assert "lollollol" not in seen and len(seen) < 200_000


@pytest.mark.parametrize("parse", PARSERS.values(), ids=PARSERS.keys())
def test_each_parser_refuses_a_document_over_five_megabytes(parse):
    raw = oversized()
    assert len(raw) > FIVE_MB
    if parse in (PARSERS["cli.process_ids"], PARSERS["api.read_document"]):
        return  # the CLI reads the shipped files; every caller of read_document caps first
    if parse is PARSERS["interchange.examine"]:
        assert "larger than 5 MB" in parse(raw)
        return
    with pytest.raises(REFUSALS, match="5 MB"):
        parse(raw)


# -- through the web: API, owner editor, upload page, publish, dry run --------------------

def _api_upload_and_publish(api: Api, raw: bytes) -> list[str]:
    seen = []
    uploaded = api.post("/api/v1/diagrams", "petra", data=raw, headers=XML)
    assert uploaded.status_code in (201, 422), _text(uploaded)[:300]
    seen.append(_text(uploaded))
    if uploaded.status_code == 201:
        version = uploaded.get_json()["id"]
        back = api.get(f"/api/v1/diagrams/{version}", "petra")
        assert back.status_code == 200
        seen.append(_text(back))
        published = api.post(f"/api/v1/diagrams/{version}/publish", "petra")
        assert published.status_code in (200, 422), _text(published)[:300]
        seen.append(_text(published))
    return seen


def _owner_pages(api: Api, raw: bytes) -> list[str]:
    petra = Browser(api, "petra")
    seen = []
    for path in ("/diagrams/check", "/diagrams/drafts"):
        response = petra.post_xml(path, raw)
        assert response.status_code < 500, _text(response)[:300]
        seen.append(_text(response))
    drafts = petra.post_xml("/diagrams/drafts", raw)
    upload = petra.upload("/diagrams/upload", raw)
    assert upload.status_code < 500
    seen.append(_text(upload))
    if drafts.status_code == 201:
        version = drafts.get_json()["id"]
        for path in (f"/diagrams/versions/{version}", f"/diagrams/versions/{version}/source",
                     f"/diagrams/versions/{version}/edit"):
            seen.append(_text(petra.client.get(path)))
        published = petra.post(f"/diagrams/versions/{version}/publish",
                               {"reason": "security test"}, follow_redirects=True)
        assert published.status_code < 500
        seen.append(_text(published))
        dry = petra.post("/diagrams/dry-run",
                         {"version": version, "sample": "noise", "pace": "prompt"})
        assert dry.status_code < 500
        seen.append(_text(dry))
    return seen


@pytest.mark.parametrize("kind", ["general", "parameter", "external_dtd"])
def test_no_response_or_stored_row_ever_holds_the_file_an_entity_names(api, secret, kind):
    path, words = secret
    raw = xxe_documents(path)[kind]
    seen = _api_upload_and_publish(api, raw) + _owner_pages(api, raw)
    assert all(words not in text for text in seen)
    assert words.encode() not in stored_bytes(api)


def test_billion_laughs_is_stored_or_refused_without_expanding(api):
    raw = probe(name="&lol9;", script="x = '&lol9;'", doctype=BILLION_LAUGHS)
    seen = _api_upload_and_publish(api, raw) + _owner_pages(api, raw)
    assert all("lollollol" not in text and len(text) < 500_000 for text in seen)


def test_an_upload_over_five_megabytes_is_refused_everywhere_with_nothing_saved(api):
    raw = oversized()
    before = api.counts()["definitions"]
    refused = api.post("/api/v1/diagrams", "petra", data=raw, headers=XML)
    assert refused.status_code == 413 and "5 MB" in refused.get_json()["error"]["message"]
    petra = Browser(api, "petra")
    for path in ("/diagrams/check", "/diagrams/drafts"):
        response = petra.post_xml(path, raw)
        assert response.status_code == 413 and "5 MB" in response.get_json()["message"]
    page = petra.upload("/diagrams/upload", raw, "big.bpmn")
    assert page.status_code == 413 and "5 MB or smaller" in _text(page)
    assert api.counts()["definitions"] == before
