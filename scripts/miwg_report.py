"""Write what the engine says about each MIWG reference file into docs/interchange.md.

    python scripts/miwg_report.py          rewrite the table between the markers
    python scripts/miwg_report.py --check  exit 1 when the table is out of date

The table comes from ``engine.interchange.examine`` over every file in
``../shared/conformance/miwg-reference`` (the folder beside the repository).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from engine.interchange import Report, examine

ROOT = Path(__file__).resolve().parents[1]
MIWG_DIR = ROOT.parent / "shared" / "conformance" / "miwg-reference"
DOC = ROOT / "docs" / "interchange.md"
START = "<!-- miwg-report:start (scripts/miwg_report.py writes this table) -->"
END = "<!-- miwg-report:end -->"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 'es' if noun.endswith('s') else 's'}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _holds(report: Report) -> str:
    processes = report.processes
    marked = sum(p.marked_executable for p in processes)
    drawn = sum(e.laid_out for e in report.elements)
    text = f"{_count(len(processes), 'process')} ({marked} marked executable), "
    text += f"{_count(len(report.elements), 'element')}, {drawn} drawn"
    if report.collaborations:
        text += f", {_count(len(report.collaborations), 'collaboration')}"
    return text


def _said(report: Report) -> str:
    counts = Counter(p["message"] for p in report.problems())
    lines = [f"{n}× {m}" if n > 1 else m for m, n in counts.items()]
    for warning in report.warnings():
        tool = re.match(r"Settings for another tool \((\S+): ", warning["message"])
        if not tool:
            lines.append(f"Warning, {warning['element_id']}: {warning['message']}")
    tools = [w["message"] for w in report.warnings() if w["message"].startswith("Settings")]
    if tools:
        lines.append(f"Kept but ignored: settings of {_count(len(tools), 'other tool')}.")
    return "<br>".join(_cell(line) for line in lines)


def render() -> str:
    """The Markdown table, one row per reference file."""
    rows = [
        "| file | what it holds | engine verdict | what the engine says |",
        "|---|---|---|---|",
    ]
    for path in sorted(MIWG_DIR.glob("*.bpmn")):
        report = examine(path.read_bytes())
        errors = len(report.problems())
        verdict = "runs" if report.executable else f"cannot run ({_count(errors, 'problem')})"
        rows.append(f"| {path.name} | {_holds(report)} | {verdict} | {_said(report)} |")
    return "\n".join(rows) + "\n"


def current(doc: str) -> str:
    """The table as it stands in the document (empty when the markers are missing)."""
    if START not in doc or END not in doc:
        return ""
    return doc.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str]) -> int:
    """Rewrite (or, with --check, only compare) the table in docs/interchange.md."""
    doc = DOC.read_text(encoding="utf-8")
    table = render()
    if "--check" in argv:
        if current(doc) != table:
            print("docs/interchange.md is out of date: run python scripts/miwg_report.py")
            return 1
        return 0
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{table}{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
