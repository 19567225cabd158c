"""Where the tests run kvmtrace: a Target is this host's own KVM (the
`native` column, where /dev/kvm is usable) or one QEMU-booted series kernel
(columns named by kernels.conf: `6.1`, `6.12`).

    pool = TargetPool()
    t = pool.get("6.1")              # boots on first use; or "native"
    t.run(["record", ...])           # the kvmtrace binary under test + args
    t.sh("cmd"), t.exec([argv]), t.describe()
    pool.close()

Keyword arguments of run/sh/exec: timeout (s, default 120), cwd (default
the repo), env (merged over the base environment), input, text (default
True; False gives bytes).  They return subprocess.CompletedProcess and raise
subprocess.TimeoutExpired like subprocess.run.  The binary under test is
$KVMTRACE_BIN (relative to the repo), default build/kvmtrace."""
import json
import os
import pathlib
import subprocess

import kvmhost
import kvmvm

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 120
NATIVE = "native"


def kvmtrace_bin():
    return pathlib.Path(os.path.abspath(REPO / os.environ.get("KVMTRACE_BIN", "build/kvmtrace")))


class Target:
    """Where KVM commands run: natively or in one booted VM.

    column: `native` or the series; goldens: the traces/ folder holding
    this target's goldens (the series, or BACKEND-SERIES natively)."""

    def __init__(self, execute, *, column, version, goldens, vm=None):
        self._execute = execute
        self.column = column
        self.version = version
        self.goldens = goldens
        self.vm = vm
        self.native = vm is None
        self.series = None if self.native else column

    def describe(self):
        """One line: the kernel and, for a VM, its accelerator and why."""
        return self.version if self.native else self.vm.describe()

    def exec(self, argv, timeout=DEFAULT_TIMEOUT, cwd=REPO, env=None, input=None, text=True):
        return self._execute([os.fspath(a) for a in argv], timeout=timeout, cwd=cwd,
                             env=env, input=input, text=text)

    def run(self, args, **kw):
        return self.exec([kvmtrace_bin(), *args], **kw)

    def show_json(self, trace):
        """The events of trace as `kvmtrace show --json` gives them."""
        r = self.run(["show", "--json", trace])
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines()]

    def show_header(self, trace):
        """The header of trace as `kvmtrace show --header --json` gives it."""
        r = self.run(["show", "--header", "--json", trace])
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def sh(self, cmd, **kw):
        return self.exec(["/bin/sh", "-c", cmd], **kw)

    def __repr__(self):
        return f"<Target {self.column}: {self.version}>"


def _native_execute(argv, timeout, cwd, env, input, text):
    if isinstance(input, str):
        input = input.encode()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd,
                           env=dict(os.environ, **(env or {})), input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        if text:
            e.output = kvmvm.decode_output(e.output or b"")
            e.stderr = kvmvm.decode_output(e.stderr or b"")
        raise
    if text:
        r.stdout, r.stderr = kvmvm.decode_output(r.stdout), kvmvm.decode_output(r.stderr)
    return r


def native_target():
    return Target(_native_execute, column=NATIVE, version=kvmhost.describe(),
                  goldens=kvmhost.golden_dir())


def columns(selection=""):
    """The columns to run on: the series of kernels.conf, and `native` where
    this host's /dev/kvm is usable.  selection (comma or blank separated)
    narrows them; `auto` is native where usable, else the first series.
    Raises ValueError naming what cannot be had."""
    series = kvmvm.series_names()
    native_problem = kvmhost.kvm_problem()
    every = series + ([] if native_problem else [NATIVE])
    auto = series[0] if native_problem else NATIVE
    wanted = [auto if w == "auto" else w for w in selection.replace(",", " ").split()]
    if NATIVE in wanted and native_problem:
        raise ValueError(f"native: this host's KVM is unusable ({native_problem})")
    unknown = [w for w in wanted if w not in every]
    if unknown:
        raise ValueError(f"unknown kernel column(s) {unknown}; here: {every}")
    return list(dict.fromkeys(wanted)) or every


class TargetPool:
    """One booted VM per (series, vCPUs), booted on first use; a failed boot
    is remembered, so every later request for it fails at once with the
    reason (kvmvm.VMError)."""

    def __init__(self):
        self.targets = {}
        self.errors = {}

    def get(self, column, smp=None):
        if column == NATIVE:
            return native_target()
        key = (column, smp)
        if key in self.errors:
            raise kvmvm.VMError(self.errors[key])
        stale = self.targets.get(key)
        if stale is not None and stale.vm.chan is None:
            # A command hung the VM and it was shut down: boot a fresh one.
            del self.targets[key]
        if key not in self.targets:
            self.targets[key] = self._boot(column, smp)
        return self.targets[key]

    def _boot(self, series, smp):
        vm = kvmvm.KernelVM(series, share=REPO, smp=smp)
        try:
            vm.start()
        except kvmvm.VMError as e:
            self.errors[(series, smp)] = f"kernel {series}: the QEMU kernel runner failed:\n{e}"
            raise kvmvm.VMError(self.errors[(series, smp)]) from None
        return Target(vm.run, column=series, version=vm.kernel_version, goldens=series, vm=vm)

    def close(self):
        for target in self.targets.values():
            target.vm.close()
