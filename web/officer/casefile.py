"""The case file, case search, break-glass access and letters; the officer pages' URL map.

URL map (blueprint ``casefile``):
    GET       /cases                                  search()
    GET       /cases/<reference>                      case_file()
    GET, POST /cases/<reference>/break-glass          break_glass()
    GET       /cases/<reference>/letters/<id>         letter()
    GET       /cases/<reference>/letters/<id>.pdf     letter_pdf()
    GET       /cases/<reference>/evidence/new         evidence.upload_form()
    POST      /cases/<reference>/evidence             evidence.upload()
    GET       /cases/<reference>/evidence/<id>        evidence.download()
    GET, POST /reports/new                            reports.new_report()
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from cases.config import normalise_postcode
from cases.operations import current_plan, links_of
from cases.outbox import MessageChannel
from cases.people import Role
from cases.records import (
    Case,
    CaseParty,
    Incident,
    PartyRole,
    Person,
    normalise_address,
    normalise_text,
)
from engine import clock
from engine.models import TaskStatus
from tasks import virus_scan
from tasks.notify.outbox_sender import letter_pdf as render_letter_pdf
from web.access import can_view_case, visible_cases
from web.api.serializers import officer
from web.auth.guards import roles_required
from web.extensions import db

from . import evidence, process_view, reports, timeline
from .case_access import (
    BREAK_GLASS_ROLES,
    CASE_PAGE_ROLES,
    REPORTER_DETAIL_ROLES,
    audit,
    find_case,
    grant_break_glass,
    london,
    user,
    viewable_case,
)
from .casework import casework_of
from .forms import BreakGlassForm

bp = Blueprint("casefile", __name__)
bp.add_app_template_filter(london, "london")
PAGE_SIZE = 20
MIN_QUERY = 3
MIN_REASON = 10
guard = roles_required(*CASE_PAGE_ROLES)


def _register(rule: str, view, methods: tuple[str, ...] = ("GET",), endpoint=None) -> None:  # type: ignore[no-untyped-def]
    bp.add_url_rule(rule, endpoint or view.__name__, guard(view), methods=list(methods))


def search() -> str:
    """Find visible cases by reference, a person's name, an address or a postcode."""
    query = (request.args.get("q") or "").strip()[:200]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    if len(query) < MIN_QUERY:
        return render_template("casefile/search.html", query=query, results=None,
                               too_short=bool(query), min_query=MIN_QUERY)
    stmt = visible_cases(user()).where(_matches(query))
    total = db().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    results = db().scalars(stmt.order_by(Case.received_at.desc(), Case.id.desc())
                           .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template("casefile/search.html", query=query, results=results, total=total,
                           page=min(page, pages), pages=pages, min_query=MIN_QUERY)


def _matches(query: str):  # type: ignore[no-untyped-def]
    conditions = [Case.reference.contains(query.upper(), autoescape=True)]
    text, address = normalise_text(query), normalise_address(query)
    postcode = normalise_postcode(query)
    people = []
    if text:
        people.append(Person.normalised_name.contains(text, autoescape=True))
    if address:
        people.append(Person.normalised_address.contains(address, autoescape=True))
        conditions.append(Case.id.in_(select(Incident.case_id).where(
            Incident.normalised_address.contains(address, autoescape=True))))
    if postcode:
        people.append(Person.postcode == postcode)
        conditions.append(Case.id.in_(select(Incident.case_id)
                                      .where(Incident.postcode == postcode)))
    if people:
        conditions.append(Case.id.in_(select(CaseParty.case_id).join(Person)
                                      .where(or_(*people))))
    return or_(*conditions)


def case_file(reference: str) -> str:
    """Everything about one case the user may see; every view is audited."""
    case, via_break_glass = viewable_case(reference)
    session = db()
    tasks = timeline.tasks_of(session, case)
    assessments = timeline.assessments_of(session, case)
    parties = sorted(case.parties, key=lambda p: (p.role is not PartyRole.REPORTER, p.id))
    vulnerable = case.safeguarding or any(
        a.vulnerable_adult or a.child_at_risk or any((a.vulnerability or {}).values())
        for a in assessments)
    links = [(other, reason, can_view_case(session, user(), other))
             for other, reason in links_of(session, case)]
    audit("case.viewed", case, break_glass=via_break_glass)
    evidence = timeline.evidence_items(session, case)
    return render_template(
        "casefile/case.html", case=case, via_break_glass=via_break_glass,
        officer=officer(session, case.case_officer), parties=parties,
        show_reporter_details=user().role in REPORTER_DETAIL_ROLES, vulnerable=vulnerable,
        reporter_ids={p.person_id for p in parties if p.role is PartyRole.REPORTER},
        assessments=assessments, plan=current_plan(session, case), links=links,
        evidence=evidence, scans=virus_scan.statuses(session, [e.id for e in evidence]),
        scanning=virus_scan.clamd_address(current_app.config) is not None,
        open_tasks=[t for t in tasks if t.state is TaskStatus.OPEN],
        task_path=timeline.task_path,
        positions=process_view.outlines(session, case),
        casework=casework_of(session, case),
        can_start=user().role in (Role.OFFICER, Role.TEAM_LEADER) and not via_break_glass,
        can_read_challenges=user().role in (Role.TEAM_LEADER, Role.MANAGER),
        events=timeline.timeline(session, case, tasks, assessments), now=clock.now())


def break_glass(reference: str) -> Response | tuple[str, int] | str:
    """Ask for, then grant, 30 minutes' audited access to a case the user may not see."""
    if user().role not in BREAK_GLASS_ROLES:
        abort(403)
    form = BreakGlassForm()
    error = None
    if request.method == "POST":
        reason = " ".join((form.reason.data or "").split())
        if not form.validate():
            abort(400)
        if len(reason) < MIN_REASON:
            error = f"Enter the reason you need this case, in at least {MIN_REASON} characters"
        else:
            case = find_case(reference)
            if case is None:
                abort(404)
            if not can_view_case(db(), user(), case):
                expires = grant_break_glass(case.reference)
                audit("case.break_glass", case, reason=reason, until=expires.isoformat())
            return redirect(url_for("casefile.case_file", reference=case.reference))
    page = render_template("casefile/break_glass.html", form=form, reference=reference,
                           error=error, min_reason=MIN_REASON)
    return (page, 400) if error else page


def letter(reference: str, message_id: int) -> str:
    """One message sent on the case, as the recipient got it (text)."""
    case, _ = viewable_case(reference)
    message = timeline.letter_of(db(), case, message_id)
    if message is None:
        abort(404)
    audit("message.viewed", case, object_type="message", object_id=str(message.id))
    return render_template("casefile/letter.html", case=case, message=message,
                           is_letter=message.channel is MessageChannel.LETTER)


def letter_pdf(reference: str, message_id: int) -> Response:
    """A letter's PDF, downloaded as an attachment."""
    case, _ = viewable_case(reference)
    message = timeline.letter_of(db(), case, message_id)
    if message is None or message.channel is not MessageChannel.LETTER:
        abort(404)
    pdf = render_letter_pdf(message)
    audit("letter.downloaded", case, object_type="message", object_id=str(message.id))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{case.reference}-letter-{message.id}.pdf"')
    return response


_register("/cases", search)
_register("/cases/<reference>", case_file)
_register("/cases/<reference>/break-glass", break_glass, ("GET", "POST"))
_register("/cases/<reference>/letters/<int:message_id>", letter)
_register("/cases/<reference>/letters/<int:message_id>.pdf", letter_pdf)
# Adding evidence is casework: the people who work cases, not those who only monitor them.
_worker_only = roles_required(Role.OFFICER, Role.TEAM_LEADER)
bp.add_url_rule("/cases/<reference>/evidence/new", "upload_form",
                _worker_only(evidence.upload_form))
bp.add_url_rule("/cases/<reference>/evidence", "upload", _worker_only(evidence.upload),
                methods=["POST"])
_register("/cases/<reference>/evidence/<int:item_id>", evidence.download,
          endpoint="evidence_download")
bp.add_url_rule("/reports/new", "new_report",
                roles_required(Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER)(
                    reports.new_report), methods=["GET", "POST"])
bp.record_once(evidence.set_request_limit)
