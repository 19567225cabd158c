"""pytest fixtures for tests that need KVM; the machinery is tests/kernels/
(targets.py: Target and TargetPool; kvmvm.py: the QEMU kernel runner).

Fixtures:
  kvmtrace_bin   the binary under test: $KVMTRACE_BIN or build/kvmtrace
  kernel_series  the QEMU kernel series in play
  kernel         parametrized over the kernel columns (ids `6.1`, `6.12`, and
                 `native` where this host's /dev/kvm is usable): a Target
  qemu_kernel    the same over the QEMU series only (tests of the runner)
  kvm            one Target, not parametrized: native where this host's
                 /dev/kvm is usable, else the first series (the `auto`
                 column), for tests that need a KVM but no particular one
  kernel_behaviour  check(target, guest, what, mismatches): see below
Columns: all by default; --kernels / $KVMTRACE_KERNELS narrow them
(`6.1,native`; `auto` is native where usable, else the first series).

Kernel behaviour is exact on the pinned series.  On the native column it is
compared, not asserted: a mismatch is a finding, listed at the end of the
run (and in the matrix report), unless KVMTRACE_STRICT=1 or the guest must
behave the same on any KVM (hello).  kvmtrace's own correctness (recording,
replay, diff) is asserted everywhere.

VMs boot once per series per session (per xdist worker) and are shut down at
the end.  If a kernel cannot be had, its tests fail with the reason; they
never skip.  The `kernels` section of the summary names every kernel with
its accelerator and why."""
import json
import os

import pytest

import expectations
import kvmhost
import kvmvm
import targets
from kvmvm import VMError


def pytest_addoption(parser):
    parser.addoption("--kernels", default=os.environ.get("KVMTRACE_KERNELS", ""),
                     help="kernel columns to run on, comma-separated: series from "
                          "tests/kernels/kernels.conf, native, auto (default: every "
                          "series, and native where /dev/kvm is usable; env "
                          "KVMTRACE_KERNELS)")


def strict():
    """KVMTRACE_STRICT=1 (make matrix STRICT=1): findings fail."""
    return os.environ.get("KVMTRACE_STRICT", "") not in ("", "0")


def selected_columns(config):
    try:
        return targets.columns(config.getoption("--kernels"))
    except ValueError as e:
        raise pytest.UsageError(f"--kernels/KVMTRACE_KERNELS: {e}") from None


def selected_series(config):
    return [c for c in selected_columns(config) if c != targets.NATIVE]


def column_params(columns):
    # Grouped by kernel, so that with pytest-xdist --dist loadgroup each
    # worker boots the kernels of its own tests only.
    return [pytest.param(c, id=c, marks=pytest.mark.xdist_group(c)) for c in columns]


def pytest_collection_modifyitems(config, items):
    """A column this host lacks (no usable /dev/kvm: no native) leaves the
    tests parametrized over it with no parameters, which pytest would show
    as skipped.  They test nothing here: deselect them and say why at the
    end (the matrix report says it too)."""
    empty = [i for i in items if any(str(m.kwargs.get("reason", "")).startswith(
        "got empty parameter set") for m in i.iter_markers("skip"))]
    if empty:
        items[:] = [i for i in items if i not in empty]
        config.hook.pytest_deselected(items=empty)
        config.stash[_NOT_HERE] = sorted({i.originalname for i in empty})


_NOT_HERE = pytest.StashKey[list]()


def pytest_generate_tests(metafunc):
    if "kernel" in metafunc.fixturenames:
        metafunc.parametrize("kernel", column_params(selected_columns(metafunc.config)),
                             indirect=True)
    if "qemu_kernel" in metafunc.fixturenames:
        metafunc.parametrize("qemu_kernel", column_params(selected_series(metafunc.config)),
                             indirect=True)


@pytest.fixture(scope="session")
def kvmtrace_bin():
    return targets.kvmtrace_bin()


@pytest.fixture(scope="session")
def kernel_series(pytestconfig):
    return selected_series(pytestconfig)


@pytest.fixture(scope="session")
def runner_series(kernel_series):
    """The series the kernel runner's own tests use: the first selected, or
    the first configured when the columns were narrowed to native."""
    return (kernel_series or kvmvm.series_names())[0]


@pytest.fixture(scope="session")
def target_pool():
    pool = targets.TargetPool()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def get_target(target_pool):
    """get(column, smp=None) -> Target; a kernel that cannot be had fails
    the test with the reason."""
    def get(column, smp=None):
        try:
            return target_pool.get(column, smp)
        except VMError as e:
            pytest.fail(str(e), pytrace=False)
    return get


def _tag(target, record_property):
    record_property("kernel", json.dumps({"column": target.column,
                                          "describe": target.describe()}))
    return target


@pytest.fixture
def kernel(request, get_target, record_property):
    return _tag(get_target(request.param), record_property)


@pytest.fixture
def qemu_kernel(request, get_target, record_property):
    return _tag(get_target(request.param), record_property)


@pytest.fixture
def kvm(get_target, record_property):
    return _tag(get_target(targets.columns("auto")[0]), record_property)


@pytest.fixture
def kernel_behaviour(record_property):
    def check(target, guest, what, mismatches):
        if not mismatches:
            return
        text = f"{guest} on {target.describe()}: {what}: " + "; ".join(mismatches)
        if not target.native or guest in expectations.ANY_KVM or strict():
            pytest.fail(text, pytrace=False)
        record_property("finding", text)
    return check


def _properties(terminalreporter, name):
    for reports in terminalreporter.stats.values():
        for rep in reports:
            if getattr(rep, "when", "call") == "call":
                yield from (v for k, v in getattr(rep, "user_properties", ()) if k == name)


def pytest_terminal_summary(terminalreporter, config):
    not_here = config.stash.get(_NOT_HERE, [])
    if not_here:
        terminalreporter.section("not applicable here")
        line = (f"deselected {', '.join(not_here)}: no parameters among this run's kernel "
                f"columns {selected_columns(config)}")
        problem = kvmhost.kvm_problem()
        if problem:
            line += f"; no native column: this host's /dev/kvm is unusable ({problem})"
        terminalreporter.write_line(line)
    seen = {}
    for value in _properties(terminalreporter, "kernel"):
        k = json.loads(value)
        seen.setdefault((k["column"], k["describe"]), 0)
        seen[(k["column"], k["describe"])] += 1
    if seen:
        terminalreporter.section("kernels")
        for (column, describe), count in sorted(seen.items()):
            terminalreporter.write_line(f"{column}: {describe}: {count} tests")
    findings = sorted(set(_properties(terminalreporter, "finding")))
    if findings:
        terminalreporter.section("findings (native kernel behaviour; KVMTRACE_STRICT=1 "
                                 "fails on them)")
        for f in findings:
            terminalreporter.write_line(f)
