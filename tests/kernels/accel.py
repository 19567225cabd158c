"""Which QEMU accelerator boots the series kernels.

`-accel kvm` only where a probe showed it works for our purpose: QEMU starts
with it, the series kernel boots, and that kernel's own /dev/kvm works
(nested virtualization).  A /dev/kvm that merely exists proves none of
that: on a PVM host QEMU aborts setting an MSR.  Otherwise TCG with
`-cpu max` (emulated SVM, where kvm_amd loads).

The probe's verdict is cached per host, keyed by everything that could
change it (host kernel, its KVM backend and nested setting, the QEMU binary
and version, the guest kernel package), in KVMTRACE_ACCEL_CACHE (default:
the kernel cache's accel/).  KVMTRACE_ACCEL=kvm|tcg forces the choice.
Every decision carries its reason, printed beside every result."""
import dataclasses
import functools
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import time

import kernel_cache
import kvmhost

CHOICES = ("kvm", "tcg")


class AccelError(Exception):
    """The accelerator cannot be decided (bad KVMTRACE_ACCEL, no QEMU)."""


@dataclasses.dataclass(frozen=True)
class Accel:
    name: str
    reason: str

    def line(self):
        return f"accel {self.name}: {self.reason}"


def forced():
    """The accelerator KVMTRACE_ACCEL forces, or None."""
    value = os.environ.get("KVMTRACE_ACCEL", "")
    if not value:
        return None
    if value not in CHOICES:
        raise AccelError(f"KVMTRACE_ACCEL={value!r}: want kvm or tcg")
    return Accel(value, f"forced by KVMTRACE_ACCEL={value}")


def cache_dir():
    env = os.environ.get("KVMTRACE_ACCEL_CACHE")
    d = pathlib.Path(env) if env else kernel_cache.cache_root() / "accel"
    d.mkdir(parents=True, exist_ok=True)
    return d


@functools.lru_cache(maxsize=None)
def qemu_identity(qemu):
    """(resolved path, first line of -version): a new QEMU probes again."""
    path = shutil.which(qemu)
    if path is None:
        raise AccelError(f"{qemu}: QEMU not found (install qemu-system-x86 or set KVMTRACE_QEMU)")
    try:
        r = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AccelError(f"{path} -version: {e}") from None
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        raise AccelError(f"{path} -version: exit {r.returncode}: {r.stderr.strip()}")
    return os.path.realpath(path), lines[0]


def _nested_setting():
    for module in ("kvm_amd", "kvm_intel"):
        p = pathlib.Path("/sys/module", module, "parameters", "nested")
        if p.exists():
            return f"{module}.nested={p.read_text().strip()}"
    return ""


def cache_key(kernel_name, qemu):
    path, version = qemu_identity(qemu)
    return {"host_release": kvmhost.release(), "host_backend": kvmhost.backend()[0],
            "host_nested": _nested_setting(), "qemu": path, "qemu_version": version,
            "kernel": kernel_name}


def _cache_file(key):
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{digest}.json"


def _cached(path):
    try:
        data = json.loads(path.read_text())
        return Accel(data["accel"], f"{data['reason']} (probed {data['probed']}, cached)")
    except (OSError, ValueError, KeyError):
        return None


def _verdict(kernel_name, why_not):
    if not why_not:
        return Accel("kvm", f"probe: {kernel_name} booted under -accel kvm and its "
                            "/dev/kvm works (nested KVM)")
    return Accel("tcg", f"probe of -accel kvm failed: {why_not}")


def choose(kernel_name, qemu, probe):
    """The Accel for booting kernel_name (a package and version) with qemu.

    probe() boots it once under -accel kvm and answers '' when that kernel's
    /dev/kvm works, else why not (one line)."""
    accel = forced()
    if accel:
        return accel
    problem = kvmhost.kvm_problem()
    if problem:
        return Accel("tcg", f"host /dev/kvm unusable ({problem}), -accel kvm not tried")
    key = cache_key(kernel_name, qemu)
    path = _cache_file(key)
    with kernel_cache.locked("accel-" + path.stem):
        accel = _cached(path)
        if accel is None:
            accel = _verdict(kernel_name, probe())
            probed = time.strftime("%Y-%m-%d %H:%M")
            path.write_text(json.dumps({"accel": accel.name, "reason": accel.reason,
                                        "probed": probed, "key": key}, indent=1) + "\n")
    return accel
