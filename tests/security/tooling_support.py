"""Diagrams and signed-in browser sessions shared by the XML, sandbox and fuzz tests."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from cases.people import User
from engine import clock
from tests.api.support import Api
from web.extensions import unit

XML = {"Content-Type": "application/xml"}
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def probe(script: str = "done = True", name: str = "Probe", doctype: str = "",
          condition: str = "True") -> bytes:
    """A small runnable BPMN process: a script task, then a gateway with one condition."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{doctype}<bpmn:definitions xmlns:bpmn="{BPMN_NS}"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="sec_defs" targetNamespace="t">
  <bpmn:process id="sec_probe" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="run_script" name="{name}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="route" default="to_other">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing><bpmn:outgoing>to_other</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="other"><bpmn:incoming>to_other</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run_script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="run_script" targetRef="route"/>
    <bpmn:sequenceFlow id="to_end" sourceRef="route" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_other" sourceRef="route" targetRef="other"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


class Browser:
    """A signed-in test client (as the sign-in page makes one) and its CSRF token."""

    def __init__(self, api: Api, who: str) -> None:
        with api.app.app_context(), unit() as session:
            uid = session.scalar(select(User.id).where(User.name == who))
        self.client: FlaskClient = api.app.test_client()
        with self.client.session_transaction() as state:
            now = clock.now().isoformat()
            state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
        page = self.client.get("/", follow_redirects=True).get_data(as_text=True)
        found = CSRF_RE.search(page)
        assert found, f"no CSRF token on {who}'s home page"
        self.token = found.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kw)

    def upload(self, path: str, raw: bytes, filename: str = "probe.bpmn") -> Any:
        """Post a file as the upload form does."""
        response = self.post(path, {"file": (io.BytesIO(raw), filename)},
                             content_type="multipart/form-data")
        response.request.environ["wsgi.input"].close()  # a big body is spooled to disk
        return response

    def post_xml(self, path: str, raw: bytes) -> Any:
        return self.client.post(path, data=raw, headers={**XML, "X-CSRFToken": self.token})
