"""The matrix's fixtures and its report: every cell's outcome, written at the
end of the session as Markdown and HTML beside pytest's JUnit XML
(build/matrix/), headed by the kernels each column ran on (for a QEMU
series: the accelerator and why) and followed by the findings, each with its
fields."""
import json

import pytest

import expectations
import goldens
import kvmhost
import matrix_report
import targets

OUT = goldens.REPO / "build" / "matrix"


@pytest.fixture
def golden_kernel(request, get_target, record_property):
    """A column with goldens of its own (the series; native where
    traces/BACKEND-SERIES/ exists)."""
    target = get_target(request.param)
    record_property("kernel", json.dumps({"column": target.column,
                                          "describe": target.describe()}))
    return target


@pytest.fixture
def matrix_cell(record_property):
    """Call with (guest, column, verdict, fields, details=()): one cell of the
    table.  verdict: identical, allowed, differs or finding; details: lines
    that say what differs (`path: old -> new`), kept for findings."""
    def put(guest, column, verdict, fields=(), details=()):
        cell = {"guest": guest, "column": column, "verdict": verdict,
                "fields": sorted(set(fields)), "details": list(details)}
        record_property("matrix_cell", json.dumps(cell))
    return put


class NativeRuns:
    """Each guest recorded twice on this host's own KVM, once: the native
    tests share them (record, replay, diff, expectation, goldens)."""

    def __init__(self, target, tmp):
        self.target, self.tmp, self.runs = target, tmp, {}

    def get(self, guest):
        if guest not in self.runs:
            self.runs[guest] = self._record(guest)
        return self.runs[guest]

    def _record(self, guest):
        exp = expectations.load(guest)
        a, b, summary = (self.tmp / f"{guest}.{x}" for x in ("a.zst", "b.zst", "json"))
        r = self.target.run(goldens.record_argv(guest, a, "--summary-json", str(summary),
                                                *expectations.peek_args(exp)), timeout=300)
        assert a.exists() and summary.exists(), f"{guest}: no trace/summary: {r.stderr}"
        again = self.target.run(goldens.record_argv(guest, b), timeout=300)
        assert b.exists(), f"{guest}: no second trace: {again.stderr}"
        return {"a": a, "b": b, "status": r.returncode, "stdout": r.stdout,
                "summary": json.loads(summary.read_text())}


@pytest.fixture(scope="session")
def native_runs(get_target, tmp_path_factory):
    return NativeRuns(get_target(targets.NATIVE), tmp_path_factory.mktemp("native"))


_cells, _kernels = [], {}


def pytest_runtest_logreport(report):
    # Reports carry the properties to the controller, with or without xdist.
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == "matrix_cell":
            _cells.append(json.loads(value))
        elif key == "kernel":
            k = json.loads(value)
            _kernels[k["column"]] = k["describe"]


def _native_note(config):
    problem = kvmhost.kvm_problem()
    if problem:
        return f"native: none, this host's /dev/kvm is unusable ({problem})"
    if targets.NATIVE not in targets.columns(config.getoption("--kernels")):
        return "native: not selected (--kernels)"
    if not goldens.have_goldens(kvmhost.golden_dir()):
        return (f"native: no goldens in traces/{kvmhost.golden_dir()}/ "
                "(make update-goldens KERNEL=native records them)")
    return ""


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput") and _cells:
        notes = [n for n in (_native_note(config),) if n]
        matrix_report.write(OUT, _cells, _kernels, notes)
