"""This host's own KVM: whether /dev/kvm is usable, and which backend
serves it (vmx, svm or pvm).  The native column of the tests and the matrix
is named from this, and its goldens live under traces/BACKEND-SERIES/."""
import functools
import os
import pathlib

from vm_agent import kvm_problem  # one check, shared with the guest agent

__all__ = ["kvm_problem", "kvm_usable", "backend", "release", "series", "golden_dir",
           "describe"]

# KVM's vendor modules, and the CPU flag each one needs (pvm needs none:
# it runs on paging alone).  Only one vendor module can be loaded at a time.
VENDOR_MODULES = (("kvm_intel", "vmx", "vmx"), ("kvm_amd", "svm", "svm"),
                  ("kvm_pvm", "pvm", None))


def kvm_usable(path="/dev/kvm"):
    return not kvm_problem(path)


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    for line in pathlib.Path(cpuinfo).read_text().splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def _module_state(module, sys_module="/sys/module"):
    """'live' for a loaded module, 'builtin' for one built into the kernel
    (no initstate file), None when absent."""
    d = pathlib.Path(sys_module, module)
    if not d.is_dir():
        return None
    initstate = d / "initstate"
    return initstate.read_text().strip() if initstate.exists() else "builtin"


@functools.lru_cache(maxsize=None)
def backend(sys_module="/sys/module", cpuinfo="/proc/cpuinfo"):
    """(name, evidence): the KVM backend from the loaded vendor module,
    else from the CPU flags; ('unknown', why) when neither tells."""
    flags = cpu_flags(cpuinfo)
    for module, name, flag in VENDOR_MODULES:
        state = _module_state(module, sys_module)
        # A built-in vendor module is there even when its CPU lacks the flag.
        if state == "live" or (state == "builtin" and (flag is None or flag in flags)):
            return name, f"module {module} {'loaded' if state == 'live' else 'built in'}"
    for flag in ("vmx", "svm"):
        if flag in flags:
            return flag, f"CPU flag {flag} (no KVM vendor module found)"
    return "unknown", "no kvm_intel, kvm_amd or kvm_pvm module and no vmx/svm CPU flag"


def release():
    return os.uname().release


def series(rel=None):
    """The kernel series of a release: 6.18.44-fc-v669 -> 6.18."""
    return ".".join((rel or release()).split("-")[0].split(".")[:2])


def golden_dir():
    """Where this host's native goldens live under traces/: pvm-6.18."""
    return f"{backend()[0]}-{series()}"


def describe():
    """One line: the native kernel and its KVM backend."""
    name, evidence = backend()
    return f"native {release()} (KVM backend {name}: {evidence})"
