"""The officer's side: the reporter's access on the case file and on the phone tasks."""

from __future__ import annotations

from sqlalchemy import select

from cases.outbox import OutboxMessage
from tests.officer.conftest import token
from tests.officer.support import ASSESSMENT, complete_by_api
from tests.reporter.support import follow, post, send_report
from web.extensions import unit


def test_the_case_file_shows_the_access_and_what_the_reporter_sent(api, signed_in):
    client, ref, _, _ = send_report(api)
    post(client, "/my-case/circumstances", {"details": "They moved next door to my mother"})
    page = signed_in("olivia").get(f"/cases/{ref}").get_data(as_text=True)
    assert "Reporter&#39;s online access" in page or "Reporter's online access" in page
    assert "can follow this case online" in page
    assert "They moved next door to my mother" in page
    assert "Give a new code to read out" in page
    # A manager sees the state but cannot change it.
    manager = signed_in("maria").get(f"/cases/{ref}").get_data(as_text=True)
    assert "can follow this case online" in manager and "Give a new code" not in manager


def test_an_officer_can_email_a_new_code_and_link(api, signed_in):
    _, ref, old_code, _ = send_report(api)
    olivia = signed_in("olivia")
    response = olivia.post(f"/cases/{ref}/reporter-access",
                           data={"csrf_token": token(olivia), "how": "email"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "We have emailed the reporter" in page
    with api.app.app_context(), unit() as session:
        mails = list(session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.template == "reporter_access")))
    assert len(mails) == 2
    new_code = page.split('id="follow-up-code">')[1].split("<")[0]
    assert new_code in mails[1] and old_code not in mails[1]
    assert follow(api, ref, old_code)[1].status_code == 400


def test_the_first_contact_task_says_what_to_tell_the_reporter(api, signed_in):
    ref = api.open_case(reporter={"name": "Phil Phone", "phone": "07700 900555",
                                  "contact_preferences": {"channels": ["phone"]}})["reference"]
    complete_by_api(api, api.open_task(ref, "assess_risk")["id"], ASSESSMENT)
    task_id = api.open_task(ref, "first_contact")["id"]
    olivia = signed_in("olivia")
    page = olivia.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="reporter-phone-note"' in page and ref in page
    assert "They have no working code" in page
    issued = olivia.post(f"/cases/{ref}/reporter-access",
                         data={"csrf_token": token(olivia), "how": "show"})
    code = issued.get_data(as_text=True).split('id="follow-up-code">')[1].split("<")[0]
    assert follow(api, ref, code)[1].status_code == 302
    assert "They already have a working code" in olivia.get(f"/tasks/{task_id}").get_data(True)


def test_an_anonymous_report_tells_the_officer_there_is_nobody_to_phone(api, signed_in):
    _, ref, _, _ = send_report(api, anonymous="yes", reporter_email=None, reporter_phone=None,
                               reporter_name=None, pref_channels=None)
    phone = api.open_task(ref, "phone_reporter")
    page = signed_in("olivia").get(f"/tasks/{phone['id']}").get_data(as_text=True)
    assert "This report is anonymous: there is nobody to phone" in page
    assert "Email a new code" not in page


def test_officers_of_another_team_cannot_touch_the_access(api, signed_in):
    _, ref, code, _ = send_report(api)
    sam = signed_in("sam")
    response = sam.post(f"/cases/{ref}/reporter-access/revoke", data={"csrf_token": token(sam)})
    assert response.status_code == 404
    assert follow(api, ref, code)[1].status_code == 302
