"""The cross-kernel matrix: every guest on every kernel column.

The QEMU series, exact as pinned:
- golden S: recorded on S today, identical to S's golden trace (modulo
  traces/ignore-same-series.txt): catches regressions in kvmtrace and in KVM;
- replay A on B: the golden of series A replayed on kernel B diverges only in
  fields of the allow-list (traces/allow-list.txt);
- diff A B: the goldens of two series differ only in allow-listed fields.
The native column (this host's own /dev/kvm, where usable; named by uname -r
and the KVM backend):
- native: kvmtrace's own correctness, asserted: every guest records and
  replays with 0 divergences, and two recordings diff clean;
- expectation on native: the run against guests/NAME.json, and
- diff S native: each series' golden against the native recording: both are
  findings, each with its fields (KVMTRACE_STRICT=1, `make matrix STRICT=1`,
  makes them failures); hello must meet its expectation on any KVM;
- golden BACKEND-SERIES: exact against this backend's own goldens, where
  `make update-goldens KERNEL=native` recorded them (traces/pvm-6.18/).
Run with `make matrix` (or `pytest tests/matrix`); the table lands in
build/matrix/."""
import fnmatch
import itertools
import json
import os

import pytest

import expectations
import goldens
import kvmhost
import kvmvm
import targets
from goldens import diff_json, per_vcpu, same_series_fields

NATIVE = targets.NATIVE


def strict():
    return os.environ.get("KVMTRACE_STRICT", "") not in ("", "0")


def allow_patterns():
    lines = goldens.ALLOW_LIST.read_text().splitlines()
    assert lines[0].startswith("# kvmtrace allow-list v1"), "allow-list version line"
    return [l.strip() for l in lines if l.strip() and not l.startswith("#")]


def allowed(path):
    return any(fnmatch.fnmatchcase(path, p) for p in allow_patterns())


def fold(path):
    """CPUID entries are many and alike: one field for all of an ioctl's."""
    head, sep, _ = path.partition("cpuid.entries.")
    return head + "cpuid.entries.*" if sep else path


def field_details(items, old="old", new="new"):
    """diff --json items as one line per field (and event context), with a
    sample of old -> new, where it first shows and how many times."""
    groups = {}
    for d in items:
        key = (d.get("context") or "header", fold(d.get("path") or d["kind"]))
        groups.setdefault(key, []).append(d)
    return [_detail(context, path, ds, old, new) for (context, path), ds in groups.items()]


def _detail(context, path, ds, old, new):
    d, n = ds[0], len(ds)
    times = f", {n} times" if n > 1 else ""
    if path == "deleted":
        return f"{context}: only in {old}, at event {d['old_event']}{times}"
    if path == "inserted":
        return f"{context}: only in {new}, at event {d['new_event']}{times}"
    if path.endswith("*"):
        return f"{context}: {path}: {n} fields differ"
    where = "" if context == "header" else f" at event {d['old_event']}/{d['new_event']}"
    return f"{context}: {path}: {d.get('old')} -> {d.get('new')}{where}{times}"


def pytest_generate_tests(metafunc):
    columns = targets.columns(metafunc.config.getoption("--kernels"))
    series = [c for c in columns if c != NATIVE]
    native = [NATIVE] if NATIVE in columns else []
    with_goldens = series + [c for c in native if goldens.have_goldens(kvmhost.golden_dir())]

    # Grouped by the kernel a test boots, so that under xdist --dist
    # loadgroup each worker boots its own kernels only.
    def params(name, values, ids=str, group=None):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, [
                pytest.param(v, id=ids(v), marks=pytest.mark.xdist_group((group or ids)(v)))
                for v in values], indirect=name.endswith("kernel"))

    if "guest" in metafunc.fixturenames:
        metafunc.parametrize("guest", goldens.guests())
    params("golden_kernel", with_goldens)
    params("native_kernel", native)
    params("replay_pair", itertools.permutations(series, 2),  # recorded on, replayed on
           ids=lambda p: f"{p[0]}-on-{p[1]}", group=lambda p: p[1])
    params("series_pair", itertools.combinations(series, 2), ids=lambda p: f"{p[0]}-{p[1]}",
           group=lambda p: "diff")
    # Every series' goldens, whether or not its kernel boots in this run.
    params("native_vs", kvmvm.series_names() if native else [], group=lambda s: NATIVE)


@pytest.fixture
def native_kernel(request, get_target, record_property):
    target = get_target(request.param)
    record_property("kernel", json.dumps({"column": target.column,
                                          "describe": target.describe()}))
    return target


def native_column():
    name, _ = kvmhost.backend()
    return f"native {name} {kvmhost.release()}"


# --- the QEMU series, and native goldens where they exist --------------------------


@pytest.mark.matrix
def test_golden(golden_kernel, guest, tmp_path, matrix_cell, request):
    kernel = golden_kernel
    old = goldens.golden(kernel.goldens, guest)
    assert old.exists(), f"no golden {old}: run make update-goldens" + \
        (" KERNEL=native" if kernel.native else "")
    if kernel.native:
        new = request.getfixturevalue("native_runs").get(guest)["a"]
    else:
        new = tmp_path / f"{guest}.zst"
        r = kernel.run(goldens.record_argv(guest, new), timeout=300)
        assert new.exists(), r.stderr
    fields = same_series_fields(guest, old, new)
    matrix_cell(guest, f"golden {kernel.goldens}", "identical" if not fields else "differs",
                fields)
    assert not fields, f"{guest} on {kernel.describe()} differs from its golden: " \
                       f"{sorted(set(fields))}"


@pytest.mark.matrix
def test_replay_across_kernels(replay_pair, guest, get_target, matrix_cell):
    recorded_on, replay_on = replay_pair
    target = get_target(replay_on)
    trace = goldens.golden(recorded_on, guest)
    r = target.run(["replay", "--json", str(trace)], timeout=300)
    assert r.returncode in (0, 1), r.stderr
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    div = [d["path"] for d in lines if d.get("kind") == "divergence"]
    stopped = [l for l in lines if l.get("kind") == "stopped"]
    bad = sorted({p for p in div if not allowed(p)})
    verdict = "identical" if not div else "allowed" if not bad else "differs"
    matrix_cell(guest, f"replay {recorded_on} on {replay_on}", verdict, div)
    assert not stopped, stopped
    assert not bad, f"divergences outside the allow-list: {bad}"
    if guest not in goldens.CONCURRENT:
        # What replay finds here is what diff finds between the two kernels'
        # recordings, at the same event and field.
        fields = {(d["old_event"], d["path"]) for d in
                  diff_json(trace, goldens.golden(replay_on, guest)) if d["kind"] == "field"}
        found = {(d["event"], d["path"]) for d in lines if d.get("kind") == "divergence"}
        assert found <= fields, f"replay found what diff did not: {sorted(found - fields)}"


def without_cpuid_events(lanes):
    """Per-vCPU events less the two whose CPUID is allow-listed."""
    return {v: [e for e in evs if "CPUID" not in e] for v, evs in lanes.items()}


@pytest.mark.matrix
def test_diff_across_kernels(series_pair, guest, matrix_cell):
    a, b = series_pair
    old, new = goldens.golden(a, guest), goldens.golden(b, guest)
    items = diff_json(old, new)
    if guest in goldens.CONCURRENT:
        # Compare each vCPU's own events; the header as it is.
        paths = [d["path"] for d in items if d["kind"] == "header"]
        lanes_a, lanes_b = without_cpuid_events(per_vcpu(old)), without_cpuid_events(per_vcpu(new))
        paths += [f"vcpu{v} events" for v in lanes_a if lanes_a[v] != lanes_b.get(v)]
    else:
        paths = [d.get("path") or d["kind"] for d in items]
    bad = sorted({p for p in paths if not allowed(p)})
    matrix_cell(guest, f"diff {a} {b}", "identical" if not paths else
                "allowed" if not bad else "differs", paths)
    assert not bad, f"differences outside the allow-list: {bad}"


# --- the native column ---------------------------------------------------------------


@pytest.mark.matrix
def test_native_records_replays_and_diffs_clean(native_kernel, guest, native_runs,
                                                matrix_cell):
    run = native_runs.get(guest)
    r = native_kernel.run(["replay", "--json", str(run["a"])], timeout=300)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    div = [f"event {d['event']} ({d['context']}): {d['path']}: {d['recorded']} -> "
           f"{d['replayed']}" for d in lines if d.get("kind") == "divergence"]
    twice = same_series_fields(guest, run["a"], run["b"])
    fields = [f"replay: {d['path']}" for d in lines if d.get("kind") == "divergence"] + \
        [f"two recordings: {f}" for f in twice]
    matrix_cell(guest, native_column(), "identical" if not fields else "differs", fields)
    assert (r.returncode, div) == (0, []), f"replay of the native {guest} trace diverged " \
                                           f"(status {r.returncode}):\n" + "\n".join(div)
    assert not twice, f"two native recordings of {guest} differ: {sorted(set(twice))}"


def finding(matrix_cell, guest, column, fields, details, must_hold=False):
    """A native difference: a finding in the report; a failure where the
    behaviour must hold, or under KVMTRACE_STRICT=1."""
    matrix_cell(guest, column, "finding" if fields else "identical", fields, details)
    if fields and (must_hold or strict()):
        pytest.fail(f"{guest}: {column}: " + "; ".join(details), pytrace=False)


@pytest.mark.matrix
def test_native_expectation(native_kernel, guest, native_runs, matrix_cell):
    run = native_runs.get(guest)
    assert run["summary"]["status"] == run["status"]
    found = expectations.mismatches(expectations.load(guest), run["status"], run["stdout"],
                                    run["summary"])
    finding(matrix_cell, guest, "expectation on native", [f for f, _, _ in found],
            expectations.describe(found), must_hold=guest in expectations.ANY_KVM)


def is_environment(item):
    """What restates the host rather than what the guest did: what diff
    calls environment (the header, capabilities, the supported CPUID) and
    the system ioctls themselves (a KVM_GET_SUPPORTED_CPUID retried with a
    larger buffer).  The CPUID handed to the guest (KVM_SET_CPUID2) is not:
    the guest sees it."""
    context = item.get("context") or ""
    return item["kind"] in ("environment", "header") or context.startswith("kvm ")


ENVIRONMENT = "(host environment)"


@pytest.mark.matrix
def test_native_against_series(native_vs, native_kernel, guest, native_runs, matrix_cell):
    items = diff_json(goldens.golden(native_vs, guest), native_runs.get(guest)["a"],
                      "--ignore-file", goldens.SAME_SERIES_IGNORES)
    column = f"diff {native_vs} native"
    env = [d for d in items if is_environment(d)]
    # The same for every guest: one row of the report, not one per guest.
    matrix_cell(ENVIRONMENT, column, "finding" if env else "identical",
                {fold(d.get("path") or d["kind"]) for d in env},
                field_details(env, native_vs, NATIVE))
    rest = [d for d in items if not is_environment(d)]
    finding(matrix_cell, guest, column, sorted({fold(d.get("path") or d["kind"]) for d in rest}),
            field_details(rest, native_vs, NATIVE))
    assert not (env and strict()), f"{column}: the host environment differs: " + \
        "; ".join(field_details(env, native_vs, NATIVE))
