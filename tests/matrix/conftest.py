"""The matrix table: every cell's outcome, written at the end of the session
as Markdown and HTML beside pytest's JUnit XML (build/matrix/)."""
import html
import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "matrix"


@pytest.fixture
def matrix_cell(request, record_property):
    """Call with (guest, column, verdict, fields): one cell of the table."""
    def put(guest, column, verdict, fields=()):
        cell = {"guest": guest, "column": column, "verdict": verdict,
                "fields": sorted(set(fields))}
        record_property("matrix_cell", json.dumps(cell))
    return put


_cells = []


def pytest_runtest_logreport(report):
    # Reports carry the properties to the controller, with or without xdist.
    if report.when == "call":
        _cells.extend(json.loads(v) for k, v in report.user_properties if k == "matrix_cell")


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput") and _cells:
        write_tables(_cells)


def write_tables(cells):
    OUT.mkdir(parents=True, exist_ok=True)
    guests = sorted({c["guest"] for c in cells})
    columns = sorted({c["column"] for c in cells})
    grid = {(c["guest"], c["column"]): c for c in cells}

    def text(c):
        if c is None:
            return "not run"
        if not c["fields"]:
            return c["verdict"]
        return f'{c["verdict"]}: {len(c["fields"])} fields differ ({", ".join(c["fields"][:6])}' \
               f'{", ..." if len(c["fields"]) > 6 else ""})'

    md = ["| guest | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for g in guests:
        md.append(f"| {g} | " + " | ".join(text(grid.get((g, col))) for col in columns) + " |")
    (OUT / "matrix.md").write_text("\n".join(md) + "\n")
    rows = "".join(
        "<tr><th>" + html.escape(g) + "</th>" +
        "".join(f'<td class="{(grid.get((g, col)) or {}).get("verdict", "none")}">'
                f"{html.escape(text(grid.get((g, col))))}</td>" for col in columns) + "</tr>"
        for g in guests)
    (OUT / "matrix.html").write_text(
        "<!doctype html><meta charset=utf-8><title>kvmtrace matrix</title>"
        "<style>td.identical{background:#dfd}td.allowed{background:#ffd}"
        "td.differs{background:#fdd}td,th{padding:4px;border:1px solid #ccc}</style>"
        "<table><tr><th>guest</th>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) +
        "</tr>" + rows + "</table>\n")
