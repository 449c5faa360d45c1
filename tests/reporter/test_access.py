"""Access by code and link: only the one case, revocable, expiring, throttled and audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.reporter_access import ReporterAccess
from engine import clock
from tests.reporter.support import audits, follow, post, send_report
from web.extensions import unit


def _token_for(api, client, reference):
    """Issue a known link token for ``reference`` straight from the model."""
    from cases.records import Case
    from cases.reporter_access import issue_access

    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        issued = issue_access(session, case, by="test", at=clock.now())
        return issued.token, issued.code


def test_a_code_opens_only_its_own_case(api):
    _, ref_a, code_a, _ = send_report(api)
    _, ref_b, code_b, _ = send_report(api, reporter_name="Bob Other",
                                      reporter_email="bob@example.org")
    _, refused = follow(api, ref_b, code_a)
    assert refused.status_code == 400
    assert "do not match" in refused.get_data(as_text=True)
    client, opened = follow(api, ref_a, code_a)
    assert opened.status_code == 302
    page = client.get("/my-case").get_data(as_text=True)
    assert ref_a in page and ref_b not in page and "Bob Other" not in page
    row = audits(api, "reporter.access_refused")[0]
    assert row.summary["reason"] == "wrong_code" and code_a not in str(row.summary)
    assert row.case_reference == ref_b  # the officers of case B can see the attempt


def test_a_link_opens_only_its_own_case_whatever_else_is_asked(api):
    _, ref_a, _, _ = send_report(api)
    _, ref_b, _, _ = send_report(api, reporter_name="Bob Other",
                                 reporter_email="bob@example.org")
    client = api.app.test_client()
    token_a, _ = _token_for(api, client, ref_a)
    assert client.get(f"/follow/{token_a}?reference={ref_b}").status_code == 302
    page = client.get("/my-case").get_data(as_text=True)
    assert ref_a in page and ref_b not in page
    # A made-up or altered token opens nothing.
    assert api.app.test_client().get(f"/follow/{token_a[:-2]}xx").status_code == 404


def test_revoked_access_stops_at_once_and_a_new_code_works(api, signed_in):
    reporter, ref, code, _ = send_report(api)
    assert reporter.get("/my-case").status_code == 200
    officer = signed_in("olivia")
    from tests.officer.conftest import token

    csrf = token(officer)
    revoked = officer.post(f"/cases/{ref}/reporter-access/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 302
    ended = reporter.get("/my-case")
    assert ended.status_code == 401 and "Follow your case" in ended.get_data(as_text=True)
    assert follow(api, ref, code)[1].status_code == 400
    issued = officer.post(f"/cases/{ref}/reporter-access", data={"csrf_token": csrf,
                                                                "how": "show"})
    page = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "New follow-up code" in page
    new_code = page.split('id="follow-up-code">')[1].split("<")[0]
    client, opened = follow(api, ref, new_code)
    assert opened.status_code == 302 and client.get("/my-case").status_code == 200
    assert [a.action for a in audits(api, "reporter_access.")] == [
        "reporter_access.revoked", "reporter_access.issued"]


def test_expired_access_is_refused(api):
    _, ref, code, _ = send_report(api)
    with api.app.app_context(), unit() as session:
        row = session.scalars(select(ReporterAccess)).one()
        row.expires_at = clock.now() - timedelta(minutes=1)
    assert follow(api, ref, code)[1].status_code == 400
    assert audits(api, "reporter.access_refused")[-1].case_reference == ref


def test_access_lasts_the_set_days_after_the_case_closes(api):
    _, ref, code, _ = send_report(api)
    from cases.records import Case, CaseStatus

    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        case.status, case.closed_at = CaseStatus.CLOSED, clock.now()
    clock.set_now(clock.now() + timedelta(days=179))
    assert follow(api, ref, code)[1].status_code == 302
    clock.set_now(clock.now() + timedelta(days=2))
    assert follow(api, ref, code)[1].status_code == 400


def test_wrong_codes_lock_the_reference_out_even_for_the_right_code(api):
    _, ref, code, _ = send_report(api)
    for _ in range(5):
        assert follow(api, ref, "AAAAA-AAAAA")[1].status_code == 400
    client, locked = follow(api, ref, code)
    assert locked.status_code == 429 and "Too many wrong attempts" in locked.get_data(True)
    reasons = [a.summary["reason"] for a in audits(api, "reporter.access_refused")]
    assert reasons == ["wrong_code"] * 5 + ["locked_out"]
    clock.set_now(clock.now() + timedelta(minutes=16))
    assert follow(api, ref, code)[1].status_code == 302


def test_wrong_attempts_from_one_address_lock_it_out(api):
    api.app.config["ASB_REPORTER_MAX_IP_FAILURES"] = 3
    _, ref, code, _ = send_report(api)
    for n in range(3):
        assert follow(api, f"ASB-2026-00009{n}", "AAAAA-AAAAA")[1].status_code == 400
    assert follow(api, ref, code)[1].status_code == 429
    assert api.app.test_client().get("/follow/made-up-token").status_code == 429


def test_a_failed_attempt_is_kept_in_the_database(api):
    _, ref, _, _ = send_report(api)
    follow(api, ref, "WRONG-CODE1")
    with api.app.app_context(), unit() as session:
        from cases.reporter_access import ReporterAttempt

        scopes = sorted(a.scope for a in session.scalars(select(ReporterAttempt)))
        keys = [a.key for a in session.scalars(select(ReporterAttempt))]
    assert scopes == ["ip", "reference"] and "127.0.0.1" not in keys


def test_pages_without_a_reporter_session_answer_401(api, signed_in):
    for client in (api.app.test_client(), signed_in("olivia")):
        assert client.get("/my-case").status_code == 401
        assert client.get("/my-case/diary").status_code == 401
    olivia = signed_in("olivia")
    from tests.officer.conftest import token

    response = olivia.post("/my-case/diary", data={"csrf_token": token(olivia)})
    assert response.status_code == 401


def test_a_session_idle_too_long_ends(api):
    client, _ref, _code, _ = send_report(api)
    clock.set_now(clock.now() + timedelta(minutes=31))
    assert client.get("/my-case").status_code == 401


def test_leaving_the_case_page_ends_the_session(api):
    client, _ref, _code, _ = send_report(api)
    assert post(client, "/my-case/sign-out", {}).status_code == 302
    assert client.get("/my-case").status_code == 401
