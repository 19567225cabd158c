"""The cross-kernel matrix: every guest on every kernel series.

- golden: recorded here today, identical to the golden trace recorded on the
  same series (modulo traces/ignore-same-series.txt): catches regressions in
  kvmtrace and in KVM;
- replay A on B: the golden of series A replayed on kernel B diverges only in
  fields of the allow-list (traces/allow-list.txt);
- diff A B: the goldens of two series differ only in allow-listed fields.
Run with `make matrix` (or `pytest tests/matrix`); the table lands in
build/matrix/."""
import fnmatch
import itertools
import json
import subprocess

import pytest

import goldens

def allow_patterns():
    lines = goldens.ALLOW_LIST.read_text().splitlines()
    assert lines[0].startswith("# kvmtrace allow-list v1"), "allow-list version line"
    return [l.strip() for l in lines if l.strip() and not l.startswith("#")]


def allowed(path):
    return any(fnmatch.fnmatchcase(path, p) for p in allow_patterns())


def diff_json(a, b, *extra):
    r = subprocess.run([str(goldens.KVMTRACE), "diff", "--json", *extra, str(a), str(b)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    return [json.loads(l) for l in r.stdout.splitlines()]


# What varies from run to run, as in kvmtrace's default ignore list.
RUN_TO_RUN = {"t_start_ns", "dur_ns", "new_fd", "userspace_addr", "apic_id", "x2apic_id"}


def strip(obj):
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in RUN_TO_RUN}
    return obj


def per_vcpu(trace):
    """A concurrent guest's events, per vCPU, without what varies run to run
    (or with the interleaving: event numbers)."""
    r = subprocess.run([str(goldens.KVMTRACE), "show", "--json", str(trace)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lanes = {}
    for e in map(json.loads, r.stdout.splitlines()):
        e.pop("index", None)
        if e.get("event") == "end":
            e.pop("events", None)
        lanes.setdefault(e.get("vcpu"), []).append(json.dumps(strip(e), sort_keys=True))
    return lanes


def pytest_generate_tests(metafunc):
    series = kernel_series_of(metafunc.config)
    if "guest" in metafunc.fixturenames:
        metafunc.parametrize("guest", goldens.guests())
    if "replay_pair" in metafunc.fixturenames:  # recorded on, replayed on
        metafunc.parametrize("replay_pair", [
            pytest.param((a, b), id=f"{a}-on-{b}", marks=pytest.mark.xdist_group(b))
            for a, b in itertools.permutations(series, 2)])
    if "series_pair" in metafunc.fixturenames:
        metafunc.parametrize("series_pair", [
            pytest.param((a, b), id=f"{a}-{b}") for a, b in itertools.combinations(series, 2)])


def kernel_series_of(config):
    """The series the `kernel` fixture runs on (--kernels / KVMTRACE_KERNELS)."""
    import kvmvm
    wanted = config.getoption("--kernels").replace(",", " ").split()
    return wanted or kvmvm.series_names()


def without_cpuid_events(lanes):
    """Per-vCPU events less the two whose CPUID is allow-listed."""
    return {v: [e for e in evs if "CPUID" not in e] for v, evs in lanes.items()}


@pytest.mark.matrix
def test_golden(kernel, guest, tmp_path, matrix_cell):
    old = goldens.golden(kernel.series or "native", guest)
    assert old.exists(), f"no golden {old}: run make update-goldens"
    new = tmp_path / f"{guest}.zst"
    r = kernel.run(goldens.record_argv(guest, new), timeout=300)
    assert new.exists(), r.stderr
    column = f"golden {kernel.series}"
    if guest in goldens.CONCURRENT:
        # Interleaving across vCPUs is the scheduler's: compare each vCPU's
        # own sequence, and the header.
        assert per_vcpu(old).keys() == per_vcpu(new).keys()
        differing = [str(v) for v, evs in per_vcpu(old).items() if evs != per_vcpu(new)[v]]
        head = [d["path"] for d in diff_json(old, new, "--ignore-file",
                                             str(goldens.SAME_SERIES_IGNORES))
                if d["kind"] == "header"]
        fields = [f"vcpu{v} events" for v in differing] + head
    else:
        fields = [d.get("path") or d["kind"] for d in
                  diff_json(old, new, "--ignore-file", str(goldens.SAME_SERIES_IGNORES))]
    matrix_cell(guest, column, "identical" if not fields else "differs", fields)
    assert not fields, f"{guest} on {kernel.version} differs from its golden: {sorted(set(fields))}"


@pytest.mark.matrix
def test_replay_across_kernels(replay_pair, guest, vm_pool, matrix_cell):
    recorded_on, replay_on = replay_pair
    target = vm_pool.get(replay_on)
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
