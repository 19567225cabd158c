"""Debian's qemu-system-x86_64 -accel kvm under the shim: a big dynamic VMM
with many threads and many ioctls on fds that are not KVM's, running a
guest made here (a 64 KiB -bios image whose reset vector writes "KVM\\n" to
the debug console and then 0x10 to isa-debug-exit, so QEMU exits 33).

Where KVM acceleration works for it (every column: natively and, nested,
inside the QEMU-booted 6.1 and 6.12 kernels), the trace shows its
KVM_CREATE_VM, memory slots, vCPU and exits, and record passes QEMU's own
status on.  On a kvm_pvm host QEMU's KVM mode fails at start with a CPU
model that offers IA32_ARCH_CAPABILITIES (-cpu max or host: "failed to set
MSR 0x10a", then an assertion): that is asserted and reported as a finding,
not hidden.  `kvmtrace diff` of the 6.1 and 6.12 recordings lists what
differs, also kept in build/qemu-cross-kernel.diff."""
import itertools
import json
import pathlib
import re

import pytest

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
QEMU = "qemu-system-x86_64"
EXIT_VALUE = 0x10
QEMU_STATUS = (EXIT_VALUE << 1) | 1
SIGABRT_STATUS = 128 + 6
QEMU_ARGS = ["-accel", "kvm", "-machine", "pc", "-m", "16", "-nodefaults", "-no-user-config",
             "-display", "none", "-bios", "bios.bin", "-no-reboot",
             "-chardev", "file,id=con,path=console.txt",
             "-device", "isa-debugcon,iobase=0xe9,chardev=con",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]


def write_bios(folder):
    """64 KiB of HLT; at 0xff00 (F000:FF00) the guest, reached from the
    reset vector at 0xfff0 by a near jump: real mode, out imm8, al."""
    code = b"".join(bytes([0xB0, c, 0xE6, 0xE9]) for c in b"KVM\n")
    code += bytes([0xB0, EXIT_VALUE, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD])
    rom = bytearray(b"\xF4" * 0x10000)
    rom[0xFF00:0xFF00 + len(code)] = code
    rel = (0xFF00 - (0xFFF0 + 3)) & 0xFFFF
    rom[0xFFF0:0xFFF3] = bytes([0xE9, rel & 0xFF, rel >> 8])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bios.bin").write_bytes(rom)


def record_qemu(target, folder, *cpu, name="qemu.zst"):
    """Relative paths only, so two kernels' command lines are the same."""
    write_bios(folder)
    return target.exec([KVMTRACE, "record", "-o", name, "--force", "--", QEMU, *cpu,
                        *QEMU_ARGS], cwd=folder, timeout=900)


def events_of(target, trace):
    r = target.exec([KVMTRACE, "show", "--json", trace])
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def check_trace(target, trace):
    events = events_of(target, trace)
    ioctls = [e for e in events if e["event"] == "ioctl"]
    names = [e["ioctl"].get("request_name") for e in ioctls]
    assert names.count("KVM_CREATE_VM") == 1
    assert names.count("KVM_CREATE_VCPU") == 1
    slots = [e["region"] for e in ioctls if e["ioctl"].get("request_name") ==
             "KVM_SET_USER_MEMORY_REGION" and e["region"]["memory_size"]]
    assert any(s["guest_phys_addr"] == 0 for s in slots), slots           # pc.ram
    assert any(s["guest_phys_addr"] + s["memory_size"] == 1 << 32 for s in slots), slots  # bios
    runs = [e for e in ioctls if e["ioctl"].get("request_name") == "KVM_RUN" and
            e["ioctl"]["ret"] == 0]
    io = [(e["exit"]["io"]["port"], e["exit"]["io"]["data"]) for e in runs
          if e["exit"]["reason_name"] == "IO"]
    assert io == [(0xE9, "K"), (0xE9, "V"), (0xE9, "M"), (0xE9, "\n"), (0xF4, "\u0010")], io
    assert len([e for e in events if e["event"] == "snapshot"]) >= len(runs)
    end = events[-1]
    assert end["event"] == "end" and end["reason_name"] == "vmm_exit"
    assert end["status"] == QEMU_STATUS
    stats = target.exec([KVMTRACE, "show", "--stats", trace])
    assert stats.returncode == 0 and re.search(r"^KVM_RUN\s+\d+", stats.stdout, re.M)
    return stats.stdout


def test_qemu_accel_kvm_recorded(kernel, tmp_path, record_property):
    r = record_qemu(kernel, tmp_path)
    assert r.returncode == QEMU_STATUS, r.stderr           # QEMU's own status
    assert (tmp_path / "console.txt").read_text() == "KVM\n"
    assert "trace written to" in r.stderr, r.stderr
    stats = check_trace(kernel, tmp_path / "qemu.zst")
    (REPO / "build").mkdir(exist_ok=True)
    (REPO / "build" / f"qemu-stats-{kernel.column}.txt").write_text(stats)


def test_qemu_with_cpu_max(kvm, tmp_path, record_property):
    """-cpu max, on one KVM (native where usable): where KVM runs it, as
    above; on a kvm_pvm host it fails at start, and kvmtrace passes the
    failure on as it is (QEMU aborts: 134)."""
    kernel = kvm
    r = record_qemu(kernel, tmp_path, "-cpu", "max")
    if not (kernel.native and "backend pvm" in kernel.describe()):
        assert r.returncode == QEMU_STATUS, r.stderr
        check_trace(kernel, tmp_path / "qemu.zst")
        return
    assert r.returncode == SIGABRT_STATUS, r.stderr
    assert "failed to set MSR 0x10a" in r.stderr, r.stderr
    assert "ended without exit() (killed by signal 6)" in r.stderr, r.stderr
    # What it asked before it died is readable up to the last whole frame.
    shown = kernel.exec([KVMTRACE, "show", tmp_path / "qemu.zst"])
    assert shown.returncode == 16, shown.stderr
    record_property("finding", f"{kernel.describe()}: qemu-system-x86_64 -accel kvm "
                    "-cpu max fails at start on kvm_pvm: 'failed to set MSR 0x10a' "
                    "(IA32_ARCH_CAPABILITIES), then aborts; the default CPU model runs")


def series_pairs(metafunc):
    series = [c for c in targets.columns(metafunc.config.getoption("--kernels"))
              if c != targets.NATIVE]
    return list(itertools.combinations(series, 2))


def pytest_generate_tests(metafunc):
    if "series_pair" in metafunc.fixturenames:
        metafunc.parametrize("series_pair", [pytest.param(p, id=f"{p[0]}-vs-{p[1]}")
                                             for p in series_pairs(metafunc)])


def test_qemu_cross_kernel_diff(series_pair, get_target, tmp_path, record_property):
    traces = []
    for series in series_pair:
        target = get_target(series)
        r = record_qemu(target, tmp_path / series)
        assert r.returncode == QEMU_STATUS, r.stderr
        traces.append(tmp_path / series / "qemu.zst")
    target = get_target(series_pair[0])
    r = target.exec([KVMTRACE, "diff", *traces])
    assert r.returncode in (0, 1), r.stderr
    assert "environment: header.kernel_release:" in r.stdout, r.stdout
    stat = target.exec([KVMTRACE, "diff", "--stat", *traces])
    (REPO / "build" / "qemu-cross-kernel.diff").write_text(
        f"$ kvmtrace diff {series_pair[0]}/qemu.zst {series_pair[1]}/qemu.zst\n" + r.stdout +
        "\n$ kvmtrace diff --stat\n" + stat.stdout)
    record_property("finding", f"qemu {series_pair[0]} vs {series_pair[1]}: "
                    f"{len(r.stdout.splitlines())} lines of difference "
                    "(build/qemu-cross-kernel.diff)")
