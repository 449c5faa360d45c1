"""Bulk cases for bench/scale.py: real worked template cases cloned in rounds up to N cases.

The template (built and cached by bench/scale.py) is a database made the product's way:
migrations, the shipped diagrams, the demo users and ``build_demo`` reporting and working
about 150 cases through the real processes up to ``BENCH_NOW``. A target database (a fresh
SQLite file, or PostgreSQL) gets the template's rows in round 0 and one copy of every
template case per later round, tables and foreign keys walked from the SQLAlchemy metadata:

- per case (cloned): ``cases``, every table with a foreign key leading to a cloned table
  (parties, incidents, referrals, legal actions, human tasks, ...) and every table with a
  ``business_key`` or ``case_reference`` column (process instances of the case and of its
  stages, audit events, outbox, stored messages). Audit is cloned in full; rows that name no
  case (sign-ins, settings) are copied once. A clone gets ids ``old + round * span`` (foreign
  keys to cloned tables alike), a new unique case reference (``ASB-YYYY-NNNNNN``, year of its
  shifted receipt), new Case Review/complaint references, new UUIDs for every workflow task
  (replaced in the instance's ``state_json`` too, so a clone is a consistent runnable
  instance) and its
  own officers (``<officer>.<round>``: new users with the same team and wards) and places
  (normalised addresses and full postcodes, same postcode sector so same ward), so each
  officer's load and each address's open cases stay the demo's however many cases there are.
- per round: ``persons`` (the people the round's cases name), the officers' user rows.
- shared (copied once): users, teams, areas, partner agencies, definition versions, council
  settings, API tokens, task drafts; the case and challenge sequences are set past the clones.

Dates: a clone of a closed case moves back a random number of whole weeks (receipts then
spread over about 24 months); open cases keep their dates, so the times inside their
``state_json`` (timers, due dates) still agree. Scheduling columns (next timer, retry) never
move. Rows go in with executemany in batches of 5,000 with the secondary indexes dropped
(built again at the end), then ANALYZE.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine, Table, create_engine

ROOT = Path(__file__).resolve().parent.parent
LONDON = ZoneInfo("Europe/London")
BENCH_NOW = datetime(2026, 11, 23, 16, 0, tzinfo=LONDON)  # a Monday; the template ends here
BATCH = 5_000
SPREAD_WEEKS = 74  # closed clones move back up to this far (template ~30 weeks: ~24 months)
REF_COLUMNS = ("business_key", "case_reference")
SEQUENCES = ("case_sequences", "challenge_sequences")
SKIP = frozenset({"alembic_version", *SEQUENCES})
SCHEDULE = frozenset({"next_timer_at", "next_retry_at", "next_attempt_at", "not_before"})
TOKEN_RE = (r"ASB-\d{4}-\d{6}|(?:CR|CMP)-\d{4}-\d{4,}"  # nosec B105 # a regex, not a password
            r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NEVER = math.inf
AUDIT_CHAIN = frozenset({"chain_seq", "prev_hash", "row_hash"})
_UNIT_RE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]? [0-9])([A-Z])([A-Z])")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Workflow variables that hold a row's id: a clone's process must name the clone's row, or a
# timer or task of a cloned legal action, referral or conference finds the template's instead.
ROW_VARIABLES = {
    "legal_action_id": "legal_actions",
    "evidence_request_id": "evidence_requests",
    "diary_entry_id": "diary_entries",
    "referral_id": "referrals",
    "safeguarding_referral_id": "referrals",
    "conference_id": "case_conferences",
}
_ROW_VARIABLE_RE = re.compile(rf'"(?:{"|".join(ROW_VARIABLES)})": ?\d+')
_ROW_REF_RE = re.compile(r'(?P<head>"(?P<name>\w+)": ?)(?P<id>\d+)')


def _row_ref(text: str) -> tuple[str, str, int]:
    """'"legal_action_id": 12' -> ('"legal_action_id": ', 'legal_actions', 12)."""
    found = _ROW_REF_RE.fullmatch(text)
    assert found is not None  # nosec B101 # only called on _ROW_VARIABLE_RE's matches
    return found["head"], ROW_VARIABLES[found["name"]], int(found["id"])


def _postcode(value: str, number: int) -> str:
    """The same postcode sector (so the same ward), another unit in each round."""
    found = _UNIT_RE.fullmatch(value)
    if not found:
        return value
    unit = ((ord(found[2]) - 65) * 26 + ord(found[3]) - 65 + number) % 676
    return f"{found[1]}{chr(65 + unit // 26)}{chr(65 + unit % 26)}"


# Each round's places are its own (a council with 100 times the cases has about 100 times
# the addresses), so matching a new report to open cases finds as many at every size.
PLACES: dict[str, Callable[[str, int], str]] = {
    "normalised_address": lambda value, number: f"{value} r{number}",
    "postcode": _postcode,
}


@dataclass
class Plan:
    """One table of the template: its rows as target-dialect values and how to clone them."""

    table: Table
    rows: list[list[Any]] = field(default_factory=list)
    owners: list[int | None] = field(default_factory=list)
    need0: list[float] = field(default_factory=list)  # in round 0 if it copies more cases
    need1: list[float] = field(default_factory=list)  # the same for later rounds
    texts: list[list[tuple[int, list[str], list[str]]]] = field(default_factory=list)
    id_cols: list[tuple[int, str]] = field(default_factory=list)
    date_cols: list[int] = field(default_factory=list)
    own_cols: list[tuple[int, Callable[[str, int], str]]] = field(default_factory=list)
    span: int = 0


@dataclass
class Template:
    """The template read once, ready to be written to any number of targets."""

    plans: list[Plan]
    sequences: dict[str, Table]
    cases: list[int]  # case ids in id order: a round with k cases copies the first k
    closed: set[int]
    received: dict[int, datetime]
    reference: dict[int, str]
    task_ids: list[str]
    officers: list[str]
    challenges: list[str]
    case_seq: dict[int, int]
    challenge_seq: dict[tuple[str, int], int]
    # every task UUID in the instances' state -> (its first 24 characters, its last 48 bits)
    uuids: dict[str, tuple[str, int]] = field(default_factory=dict)
    # every '"legal_action_id": 12' (see ROW_VARIABLES) in the state -> (table, the id)
    row_refs: dict[str, tuple[str, int]] = field(default_factory=dict)


def _tables(db: Engine) -> list[Table]:
    """Every table of the template, parents first: typed from our metadata, else reflected."""
    from migrations.runner import metadatas

    known = {t.name: t for md in metadatas() for t in md.tables.values()}
    reflected = sa.MetaData()
    tables = {n: known[n] if n in known else Table(n, reflected, autoload_with=db)
              for n in sa.inspect(db).get_table_names() if n != "alembic_version"}
    ordered: list[Table] = []
    while len(ordered) < len(tables):
        done = {t.name for t in ordered}
        ready = [t for n, t in tables.items() if n not in done
                 and {fk.column.table.name for fk in t.foreign_keys} <= done | {n}]
        if not ready:
            raise ValueError(f"foreign keys go round in a circle: {set(tables) - done}")
        ordered += ready
    return ordered


def _per_case(tables: list[Table]) -> set[str]:
    cloned = {"cases"} | {t.name for t in tables if any(c in t.c for c in REF_COLUMNS)}
    for table in tables:  # parents first, so one pass closes over the foreign keys
        if any(fk.column.table.name in cloned for fk in table.foreign_keys):
            cloned.add(table.name)
    return cloned


def _is_date(column: Any) -> bool:
    kind = getattr(column.type, "impl_instance", column.type)  # through TypeDecorators
    return isinstance(kind, sa.DateTime | sa.Date)


def _raw(column: Any, dialect: Any) -> Callable[[Any], Any]:
    if isinstance(column.type, sa.JSON):  # text, so tokens can be replaced in it
        null = None if column.nullable else "null"
        return lambda v: null if v is None else json.dumps(v)
    proc = column.type.dialect_impl(dialect).bind_processor(dialect)
    return proc or (lambda v: v)


def load_template(path: Path, dialect: Any) -> Template:
    """Read the template and prepare each row's values for ``dialect``."""
    db = create_engine(f"sqlite:///{path}")
    tables = _tables(db)
    with db.connect() as conn:
        typed = {t.name: list(conn.execute(sa.select(t).order_by(*t.primary_key.columns)))
                 for t in tables}
    db.dispose()
    cases, officers = typed["cases"], [u for u in typed["users"] if u.role == "officer"]
    tpl = Template(
        plans=[], sequences={t.name: t for t in tables if t.name in SEQUENCES},
        cases=[c.id for c in cases], closed={c.id for c in cases if c.status == "closed"},
        received={c.id: c.received_at for c in cases},
        reference={c.id: c.reference for c in cases},
        task_ids=[t.id for t in typed["human_tasks"]], officers=[u.name for u in officers],
        challenges=[r.reference for n in ("case_reviews", "complaints") for r in typed.get(n, [])],
        case_seq={s.year: s.last for s in typed["case_sequences"]},
        challenge_seq={(s.kind, s.year): s.last for s in typed["challenge_sequences"]})
    # Every task UUID in the instances' state is the clone's own, not only the open human
    # tasks': a clone reaching a task its template had not opened yet must not insert the
    # template's UUID again (human_tasks.id is the SpiffWorkflow task id).
    inner = {u for r in typed["process_instances"] for u in _UUID_RE.findall(
        r.state_json if isinstance(r.state_json, str) else json.dumps(r.state_json))}
    tpl.uuids = {u: (u[:24], int(u[24:], 16)) for u in inner | set(tpl.task_ids)}
    tpl.row_refs = {ref: _row_ref(ref)[1:] for r in typed["process_instances"]
                    for ref in _ROW_VARIABLE_RE.findall(r.state_json if isinstance(
                        r.state_json, str) else json.dumps(r.state_json))}
    ref_owner = {c.reference: c.id for c in cases}
    ref_owner.update({r.reference: r.case_id for n in ("case_reviews", "complaints")
                      for r in typed.get(n, []) if r.case_id is not None})
    keys = {*tpl.reference.values(), *tpl.uuids, *tpl.challenges, *tpl.officers, *tpl.row_refs}
    names = "|".join(re.escape(n) for n in sorted(tpl.officers, key=len, reverse=True))
    token_re = re.compile(TOKEN_RE + "|" + _ROW_VARIABLE_RE.pattern
                          + (rf"|(?<![\w.-])(?:{names})(?![\w-])" if names else ""))
    context = _Context(_per_case(tables), {u.id for u in officers}, ref_owner,
                       {cid: float(i) for i, cid in enumerate(tpl.cases)})
    for table in tables:
        if table.name not in SKIP:
            tpl.plans.append(_plan(table, typed[table.name], dialect, context, token_re, keys))
    return tpl


@dataclass
class _Context:
    per_case: set[str]
    officer_ids: set[int]
    ref_owner: dict[str, int]
    rank: dict[int, float]
    owners: dict[tuple[str, Any], int | None] = field(default_factory=dict)
    needs: dict[tuple[str, Any], tuple[float, float]] = field(default_factory=dict)


def _plan(table: Table, rows: list[Any], dialect: Any, ctx: _Context,
          token_re: re.Pattern[str], keys: set[str]) -> Plan:
    plan = Plan(table)
    columns = list(table.columns)
    pks = list(table.primary_key.columns)
    int_pk = pks[0].name if len(pks) == 1 and isinstance(pks[0].type, sa.Integer) else None
    cloned = ctx.per_case | {"persons", "users"}
    for i, column in enumerate(columns):
        targets = [fk.column.table.name for fk in column.foreign_keys]
        if column.name == int_pk:
            plan.id_cols.append((i, table.name))
        elif targets and targets[0] in cloned:
            plan.id_cols.append((i, targets[0]))
        elif _is_date(column) and column.name not in SCHEDULE:
            plan.date_cols.append(i)
        elif (rule := _own_rule(table, column, ctx)) is not None:
            plan.own_cols.append((i, rule))
    plan.span = 1 + max((r._mapping[int_pk] for r in rows), default=0) if int_pk else 0
    raws = [_raw(c, dialect) for c in columns]
    shortest = min((len(k) for k in keys), default=1)
    for row in rows:
        values = [raw(v) for raw, v in zip(raws, row, strict=True)]
        slots = []
        for i, value in enumerate(values):
            if isinstance(value, str) and len(value) >= shortest:
                split = _split(token_re, value, keys)
                if split:
                    slots.append((i, *split))
        owner, need0, need1 = _needs(table, row, ctx)
        if int_pk:
            ctx.owners[table.name, row._mapping[int_pk]] = owner
            ctx.needs[table.name, row._mapping[int_pk]] = (need0, need1)
        plan.rows.append(values)
        plan.texts.append(slots)
        plan.owners.append(owner)
        plan.need0.append(need0)
        plan.need1.append(need1)
    return plan


def _own_rule(table: Table, column: Any, ctx: _Context) -> Callable[[Any, int], Any] | None:
    """How a clone's value of ``column`` is made from the template's, if not copied as is."""
    if table.name in ctx.per_case | {"persons"} and column.name in PLACES:
        rule: Callable[[Any, int], Any] = PLACES[column.name]
        return rule
    if table.name == "audit_events" and column.name in AUDIT_CHAIN:
        return _unsealed
    if column.unique and column.name != "reference" and table.name in ctx.per_case:
        return functools.partial(_unique_copy, getattr(column.type, "length", None))
    return None


def _unsealed(_value: Any, _number: int) -> None:
    """A cloned audit row goes in unsealed: the chain is the worker's to extend."""
    return None


def _unique_copy(length: int | None, value: Any, number: int) -> str:
    """A round's copy of a unique value: ``value.round``, or its digest when that is too long."""
    copy = f"{value}.{number}"
    if length is None or len(copy) <= length:
        return copy
    return hashlib.sha256(copy.encode()).hexdigest()[:length]


def _split(token_re: re.Pattern[str], value: str, keys: set[str]
           ) -> tuple[list[str], list[str]] | None:
    literals, tokens, last = [], [], 0
    for match in token_re.finditer(value):
        if match.group() in keys:
            literals.append(value[last:match.start()])
            tokens.append(match.group())
            last = match.end()
    if not tokens:
        return None
    literals.append(value[last:])
    return literals, tokens


def _needs(table: Table, row: Any, ctx: _Context) -> tuple[int | None, float, float]:
    """The template case a row belongs to and the rounds it goes into (see ``Plan``)."""
    values = row._mapping
    if table.name == "persons":
        return None, -1.0, -1.0
    if table.name in ("users", "user_areas"):
        officer = values["id" if table.name == "users" else "user_id"] in ctx.officer_ids
        return None, -1.0, -1.0 if officer else NEVER
    if table.name not in ctx.per_case:
        return None, -1.0, NEVER
    owner: int | None = values["id"] if table.name == "cases" else None
    need0 = need1 = -1.0
    for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name != "case_id"):
        target, value = fk.column.table.name, values[fk.parent.name]
        if value is None or target not in ctx.per_case:
            continue
        if owner is None:
            owner = ctx.owners.get((target, value))
        t0, t1 = ctx.needs.get((target, value), (NEVER, NEVER))
        need0, need1 = max(need0, t0), max(need1, t1)
    for name in REF_COLUMNS:
        if owner is None and values.get(name) is not None:
            owner = ctx.ref_owner.get(values[name])
    if owner is None:
        return None, need0, NEVER  # about no one case: copied once, in round 0
    return owner, max(need0, ctx.rank[owner]), max(need1, ctx.rank[owner])


def derive_task_id(old: str, round_no: int) -> str:
    """A new UUID for ``old`` in round ``round_no`` (its last 48 bits moved on)."""
    return f"{old[:24]}{(int(old[24:], 16) + round_no) & 0xFFFFFFFFFFFF:012x}"


@dataclass
class _Round:
    """What changes in one round: ids, tokens and each case's shift in weeks."""

    number: int
    size: int  # how many template cases this round copies
    offsets: dict[str, int]
    tokens: dict[str, str]
    weeks: dict[int, int]
    uuids: dict[str, tuple[str, int]]  # derived in _clone: a map per round would be too big


def _rounds(tpl: Template, cases: int, seed: int
            ) -> tuple[list[_Round], dict[int, int], dict[tuple[str, int], int]]:
    """Each round's changes, and the case and challenge sequences after the last round."""
    per_round = len(tpl.cases)
    spans = {p.table.name: p.span for p in tpl.plans}
    case_seq, challenge_seq = dict(tpl.case_seq), dict(tpl.challenge_seq)
    rounds = []
    for number in range(math.ceil(cases / per_round)):
        size = min(per_round, cases - number * per_round)
        rng = random.Random(seed * 100_003 + number)  # noqa: S311 - benchmark data # nosec B311
        weeks = {cid: -rng.randint(0, SPREAD_WEEKS) if number and cid in tpl.closed else 0
                 for cid in tpl.cases[:size]}
        tokens: dict[str, str] = {}
        if number:
            for cid in tpl.cases[:size]:
                year = (tpl.received[cid] + timedelta(weeks=weeks[cid])).astimezone(LONDON).year
                case_seq[year] = case_seq.get(year, 0) + 1
                tokens[tpl.reference[cid]] = f"ASB-{year}-{case_seq[year]:06d}"
            for ref in tpl.challenges:
                kind, year, _ = ref.split("-")
                key = (kind, int(year))
                challenge_seq[key] = challenge_seq.get(key, 0) + 1
                tokens[ref] = f"{kind}-{year}-{challenge_seq[key]:04d}"
            tokens.update((n, f"{n}.{number:04d}") for n in tpl.officers)
            for ref, (table, row_id) in tpl.row_refs.items():
                tokens[ref] = f"{_row_ref(ref)[0]}{row_id + number * spans[table]}"
        rounds.append(_Round(number, size, {n: number * s for n, s in spans.items()}, tokens,
                             weeks, tpl.uuids))
    return rounds, case_seq, challenge_seq


@functools.cache
def _day(day: str, weeks: int) -> str:
    return (date.fromisoformat(day) + timedelta(weeks=weeks)).isoformat()


def _shift(value: Any, weeks: int) -> Any:
    """Move a raw date by whole weeks: ISO text (SQLite) or a date/datetime (PostgreSQL)."""
    if isinstance(value, str):
        return _day(value[:10], weeks) + value[10:]
    return value + timedelta(weeks=weeks)


def _rows(plan: Plan, rnd: _Round) -> list[tuple[Any, ...]]:
    if rnd.number == 0:
        return [tuple(row) for row, n in zip(plan.rows, plan.need0, strict=True) if n < rnd.size]
    ids = [(i, rnd.offsets[t]) for i, t in plan.id_cols]
    return [_clone(plan, row, slots, ids, rnd.weeks.get(owner, 0) if owner else 0, rnd)
            for row, n, owner, slots in zip(plan.rows, plan.need1, plan.owners, plan.texts,
                                            strict=True) if n < rnd.size]


def _clone(plan: Plan, row: list[Any], slots: list[tuple[int, list[str], list[str]]],
           ids: list[tuple[int, int]], week: int, rnd: _Round) -> tuple[Any, ...]:
    row = row.copy()
    for i, offset in ids:
        if row[i] is not None:
            row[i] += offset
    if week:
        for i in plan.date_cols:
            if row[i] is not None:
                row[i] = _shift(row[i], week)
    tokens, uuids, number = rnd.tokens, rnd.uuids, rnd.number
    for i, literals, found in slots:
        parts = [literals[0]]
        for token, literal in zip(found, literals[1:], strict=True):
            base = uuids.get(token)
            if base is not None:  # derive_task_id, inlined: the hottest loop of the clone
                parts += (f"{base[0]}{(base[1] + number) & 0xFFFFFFFFFFFF:012x}", literal)
            else:
                parts += (tokens.get(token, token), literal)
        row[i] = "".join(parts)
    for i, own in plan.own_cols:
        if row[i] is not None:
            row[i] = own(row[i], rnd.number)
    return tuple(row)


def generate(tpl: Template, url: str, cases: int, *, seed: int = 7,
             progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write ``cases`` cases (the template's, then clones) into the empty schema at ``url``."""
    db = create_engine(url)
    sqlite = db.dialect.name == "sqlite"

    @sa.event.listens_for(db, "connect")
    def _fast(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for setting in (("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF") if sqlite
                        else ("SET synchronous_commit = off",)):
            cur.execute(setting)  # a throw-away database: no journal while it fills
        cur.close()

    mark = "?" if db.dialect.paramstyle == "qmark" else "%s"
    quote = db.dialect.identifier_preparer.quote
    sql = {p.table.name: f"INSERT INTO {quote(p.table.name)} "  # nosec B608 # names quoted, values bound
           f"({', '.join(quote(c.name) for c in p.table.columns)}) "
           f"VALUES ({', '.join([mark] * len(p.table.columns))})" for p in tpl.plans}
    counts = dict.fromkeys(sql, 0)
    rounds, case_seq, challenge_seq = _rounds(tpl, cases, seed)
    with db.connect() as conn:
        with conn.begin():
            indexes = _drop_indexes(conn, sqlite)
        for rnd in rounds:
            with conn.begin():
                for plan in tpl.plans:
                    rows = _rows(plan, rnd)
                    for start in range(0, len(rows), BATCH):
                        conn.exec_driver_sql(sql[plan.table.name], rows[start:start + BATCH])
                    counts[plan.table.name] += len(rows)
            if progress and rnd.number % 50 == 49:
                progress(f"{counts['cases']:,} cases written")
        with conn.begin():
            for statement in indexes:  # built once over all rows: faster than row by row
                conn.exec_driver_sql(statement)
            conn.execute(tpl.sequences["case_sequences"].insert(),
                         [{"year": y, "last": n} for y, n in sorted(case_seq.items())])
            if challenge_seq:
                conn.execute(tpl.sequences["challenge_sequences"].insert(),
                             [{"kind": k, "year": y, "last": n}
                              for (k, y), n in sorted(challenge_seq.items())])
            if not sqlite:
                _move_serials(conn, tpl)
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
        if sqlite:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    db.dispose()
    if sqlite:  # on disk before anything is timed, so no later commit waits for the writes
        with open(str(db.url.database), "rb+") as file:
            os.fsync(file.fileno())
    return counts


def _drop_indexes(conn: Any, sqlite: bool) -> list[str]:
    """Drop the secondary indexes (not those of keys or unique constraints); return their DDL."""
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        if sqlite else
        "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
        "(quote_ident(schemaname) || '.' || quote_ident(indexname))::regclass)").all()
    for name, _ddl in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [ddl for _name, ddl in found]


def _move_serials(conn: Any, tpl: Template) -> None:
    """PostgreSQL: move each serial counter past the ids written."""
    for plan in tpl.plans:
        pks = [c.name for c in plan.table.primary_key.columns]
        if plan.span and len(pks) == 1:
            table, pk = plan.table.name, pks[0]
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{pk}'), max({pk})) "  # nosec B608 # names from our own metadata
                f"FROM {table} HAVING max({pk}) IS NOT NULL "
                f"AND pg_get_serial_sequence('{table}', '{pk}') IS NOT NULL")
