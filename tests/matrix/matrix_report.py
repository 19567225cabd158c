"""The matrix report, build/matrix/matrix.md and matrix.html: the kernels
behind the columns (with the accelerator and why), one row per guest, one
column per check, then the findings with their fields."""
import html
import pathlib

# Columns in reading order: pinned goldens, cross-series, then native.
ORDER = ("golden", "replay", "diff", "native", "expectation")
SHOWN_FIELDS = 6


def column_key(column):
    first = column.split()[0]
    return (ORDER.index(first) if first in ORDER else len(ORDER), column)


def cell_text(cell, row=""):
    if cell is None:
        # Rows in parentheses (the host environment) belong to some columns only.
        return "" if row.startswith("(") else "not run"
    fields = cell["fields"]
    if not fields:
        return cell["verdict"]
    more = ", ..." if len(fields) > SHOWN_FIELDS else ""
    return f'{cell["verdict"]}: {len(fields)} fields ({", ".join(fields[:SHOWN_FIELDS])}{more})'


def _layout(cells):
    guests = sorted({c["guest"] for c in cells})
    columns = sorted({c["column"] for c in cells}, key=column_key)
    grid = {(c["guest"], c["column"]): c for c in cells}
    findings = sorted((c for c in grid.values() if c["verdict"] == "finding"),
                      key=lambda c: (c["guest"], column_key(c["column"])))
    return guests, columns, grid, findings


def markdown(cells, kernels, notes):
    guests, columns, grid, findings = _layout(cells)
    out = ["# kvmtrace kernel matrix", "", "## Kernels", ""]
    out += [f"- `{col}`: {line}" for col, line in sorted(kernels.items())]
    out += [f"- {n}" for n in notes]
    out += ["", "## Results", "", "| guest | " + " | ".join(columns) + " |",
            "|---" * (len(columns) + 1) + "|"]
    for g in guests:
        out.append(f"| {g} | " + " | ".join(cell_text(grid.get((g, c)), g) for c in columns) + " |")
    out += ["", "## Findings", ""]
    out += ["Kernel behaviour on the native column that differs from the expectation or "
            "from a series' goldens (make matrix STRICT=1 fails on these).", ""]
    if not findings:
        out.append("None.")
    for c in findings:
        out += [f"### {c['guest']}: {c['column']}", ""] + [f"- `{d}`" for d in c["details"]]
        out.append("")
    return "\n".join(out) + "\n"


STYLE = ("td.identical{background:#dfd}td.allowed{background:#ffd}td.differs{background:#fdd}"
         "td.finding{background:#fe9}td,th{padding:4px;border:1px solid #ccc}")


def html_page(cells, kernels, notes):
    guests, columns, grid, findings = _layout(cells)
    e = html.escape
    head = "".join(f"<li><code>{e(col)}</code>: {e(line)}</li>"
                   for col, line in sorted(kernels.items()))
    head += "".join(f"<li>{e(n)}</li>" for n in notes)
    rows = "".join(
        f"<tr><th>{e(g)}</th>" + "".join(
            f'<td class="{(grid.get((g, c)) or {}).get("verdict", "none")}">'
            f"{e(cell_text(grid.get((g, c)), g))}</td>" for c in columns) + "</tr>"
        for g in guests)
    found = "".join(f"<h3>{e(c['guest'])}: {e(c['column'])}</h3><ul>" +
                    "".join(f"<li><code>{e(d)}</code></li>" for d in c["details"]) + "</ul>"
                    for c in findings) or "<p>None.</p>"
    return ("<!doctype html><meta charset=utf-8><title>kvmtrace matrix</title>"
            f"<style>{STYLE}</style><h1>kvmtrace kernel matrix</h1>"
            f"<h2>Kernels</h2><ul>{head}</ul><h2>Results</h2>"
            "<table><tr><th>guest</th>" + "".join(f"<th>{e(c)}</th>" for c in columns) +
            f"</tr>{rows}</table><h2>Findings</h2><p>Kernel behaviour on the native column "
            "that differs from the expectation or from a series' goldens (make matrix "
            f"STRICT=1 fails on these).</p>{found}\n")


def write(out_dir, cells, kernels, notes=()):
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "matrix.md").write_text(markdown(cells, kernels, notes))
    (out_dir / "matrix.html").write_text(html_page(cells, kernels, notes))
