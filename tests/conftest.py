"""pytest plumbing for tests that need KVM.

Fixtures:
  kvmtrace_bin   path of build/kvmtrace, for CLI tests that need no KVM
  kernel_series  the kernel series in play (kernels.conf, less --kernels /
                 $KVMTRACE_KERNELS)
  kernel         parametrized over those series (ids `6.1`, `6.12`): a Target
                 running commands inside a QEMU-booted kernel of that series
  kvm            one Target: native when /dev/kvm is usable, else the first
                 series' VM
A Target has run(args, **kw) for build/kvmtrace + args, sh(cmd, **kw) for a
shell string, exec(argv, **kw), .version, .native, .series.  Keyword
arguments: timeout (s, default 120), cwd (default the repo), env (merged over
the base environment), input, text (default True; False gives bytes).  They
return subprocess.CompletedProcess and raise subprocess.TimeoutExpired like
subprocess.run.

VMs boot once per series per session (per xdist worker) and are shut down at
the end.  If neither /dev/kvm nor QEMU works the fixture fails the test with
the reason; it never skips.
"""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
KVMTRACE = REPO / "build" / "kvmtrace"
sys.path.insert(0, str(REPO / "tests" / "kernels"))

import kvmvm  # noqa: E402

DEFAULT_TIMEOUT = 120


def pytest_addoption(parser):
    parser.addoption("--kernels", default=os.environ.get("KVMTRACE_KERNELS", ""),
                     help="comma-separated kernel series to run on (default: all in "
                          "tests/kernels/kernels.conf; env KVMTRACE_KERNELS)")


def selected_series(config):
    configured = kvmvm.series_names()
    wanted = [s for s in config.getoption("--kernels").replace(",", " ").split() if s]
    unknown = [s for s in wanted if s not in configured]
    if unknown:
        raise pytest.UsageError(f"--kernels/KVMTRACE_KERNELS: unknown series {unknown}; "
                                f"configured: {configured}")
    return wanted or configured


def pytest_generate_tests(metafunc):
    # Grouped by kernel, so that with pytest-xdist --dist loadgroup each
    # worker boots the kernels of its own tests only.
    if "kernel" in metafunc.fixturenames:
        series = selected_series(metafunc.config)
        metafunc.parametrize("kernel", [pytest.param(s, id=s, marks=pytest.mark.xdist_group(s))
                                        for s in series], indirect=True)


class Target:
    """Where KVM commands run: natively or in one booted VM."""

    def __init__(self, execute, version, native, series=None, vm=None):
        self._execute = execute
        self.version = version
        self.native = native
        self.series = series
        self.vm = vm

    def exec(self, argv, timeout=DEFAULT_TIMEOUT, cwd=REPO, env=None, input=None,
             text=True):
        return self._execute([os.fspath(a) for a in argv], timeout=timeout, cwd=cwd,
                             env=env, input=input, text=text)

    def run(self, args, **kw):
        return self.exec([KVMTRACE, *args], **kw)

    def sh(self, cmd, **kw):
        return self.exec(["/bin/sh", "-c", cmd], **kw)

    def __repr__(self):
        return f"<Target {self.version}>"


def _native_execute(argv, timeout, cwd, env, input, text):
    if isinstance(input, str):
        input = input.encode()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd,
                           env=dict(os.environ, **(env or {})), input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        if text:
            e.output = kvmvm._decode(e.output or b"")
            e.stderr = kvmvm._decode(e.stderr or b"")
        raise
    if text:
        r.stdout, r.stderr = kvmvm._decode(r.stdout), kvmvm._decode(r.stderr)
    return r


def native_target():
    return Target(_native_execute, f"native (uname -r {os.uname().release})", True)


class VMPool:
    """One booted VM per series, booted on first use; a failed boot is
    remembered so every test of that series fails at once with the reason."""

    def __init__(self):
        self.targets = {}
        self.errors = {}
        self.vms = []

    def get(self, series):
        if series in self.errors:
            pytest.fail(self.errors[series], pytrace=False)
        stale = self.targets.get(series)
        if stale is not None and stale.vm.chan is None:
            # A command hung the VM and it was shut down: boot a fresh one.
            del self.targets[series]
        if series not in self.targets:
            vm = kvmvm.KernelVM(series, share=REPO)
            try:
                vm.start()
            except kvmvm.VMError as e:
                self.errors[series] = (f"kernel {series}: no usable KVM (no /dev/kvm "
                                       f"here, and the QEMU kernel runner failed):\n{e}")
            if series in self.errors:
                pytest.fail(self.errors[series], pytrace=False)
            self.vms.append(vm)
            self.targets[series] = Target(vm.run, vm.kernel_version, False, series, vm)
        return self.targets[series]

    def close(self):
        for vm in self.vms:
            vm.close()


@pytest.fixture(scope="session")
def kvmtrace_bin():
    return KVMTRACE


@pytest.fixture(scope="session")
def kernel_series(pytestconfig):
    return selected_series(pytestconfig)


@pytest.fixture(scope="session")
def vm_pool():
    pool = VMPool()
    yield pool
    pool.close()


@pytest.fixture
def kernel(request, vm_pool, record_property):
    target = vm_pool.get(request.param)
    record_property("kernel", f"{target.series}: {target.version}")
    record_property("kernel_boot_s", round(target.vm.boot_seconds, 1))
    return target


@pytest.fixture
def kvm(vm_pool, kernel_series, record_property):
    target = native_target() if kvmvm.kvm_usable() else vm_pool.get(kernel_series[0])
    record_property("kernel", f"{target.series or 'native'}: {target.version}")
    return target


def pytest_terminal_summary(terminalreporter):
    seen = {}
    for reports in terminalreporter.stats.values():
        for rep in reports:
            for key, value in getattr(rep, "user_properties", ()):
                if key == "kernel" and getattr(rep, "when", "call") == "call":
                    seen[value] = seen.get(value, 0) + 1
    if seen:
        terminalreporter.section("kernels")
        for version, count in sorted(seen.items()):
            terminalreporter.write_line(f"kernel {version}: {count} tests")
