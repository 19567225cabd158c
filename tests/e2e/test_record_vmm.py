"""record -- PROGRAM end to end with the test VMM (tests/vmm/mini_vmm.c:
raw ioctl(), two vCPU threads, port and MMIO exits, a mailbox device that
writes its reply into guest memory between exits), on every kernel column:
the shim records what the VMM asked and KVM answered without changing what
the VMM sees; show, --stats and --json read the trace; two recordings agree;
replay is exact with --memory-changes and, without it, either exact or one
line and status 2, never a false divergence.  And what cannot be recorded is
refused in one line before it runs.

The binary is $KVMTRACE_BIN (default build/kvmtrace), the VMM the
mini-vmm built beside it, so `make e2e-san` runs these against the
ASan+UBSan build (a sanitized shim, preloaded after its runtimes) too."""
import json
import os
import pathlib
import re
import shlex
import signal
import subprocess

import targets
from goldens import per_vcpu

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
MINI_VMM = KVMTRACE.parent / "mini-vmm"
VMM_GUEST = KVMTRACE.parent / "vmm" / "guest.bin"
ROUNDS = 100
BAD_INPUT, NOT_RECORDABLE = 4, 26


def vmm_argv(vcpus=2, rounds=ROUNDS):
    return [MINI_VMM, VMM_GUEST, str(vcpus), str(rounds)]


def expected_result(index, rounds=ROUNDS):
    return sum(i * 3 + index + 0x100 + index for i in range(rounds)) & 0xFFFFFFFF


def record_vmm(target, trace, *opts, vcpus=2, rounds=ROUNDS):
    r = target.exec([KVMTRACE, "record", "-o", trace, "--force", *opts, "--",
                     *vmm_argv(vcpus, rounds)], timeout=300)
    assert r.returncode == 0, r.stderr   # mini-vmm's own status: every result right
    for i in range(vcpus):
        assert f"vcpu {i} result {expected_result(i, rounds)}\n" in r.stdout
    assert f"trace written to {trace} (" in r.stderr, r.stderr
    return r


def test_mini_vmm_recorded_shown_and_replayed_exactly(kernel, tmp_path):
    trace = tmp_path / "mini.zst"
    record_vmm(kernel, trace, "--memory-changes")

    events = kernel.show_json(trace)
    ioctls = [e for e in events if e["event"] == "ioctl"]
    names = [e["ioctl"]["request_name"] for e in ioctls]
    for want in ("KVM_GET_API_VERSION", "KVM_CREATE_VM", "KVM_SET_TSS_ADDR",
                 "KVM_SET_USER_MEMORY_REGION", "KVM_GET_VCPU_MMAP_SIZE", "KVM_CREATE_VCPU",
                 "KVM_SET_CPUID2", "KVM_SET_SREGS", "KVM_SET_REGS", "KVM_RUN"):
        assert want in names, want
    assert [e["ioctl"]["fd_name"] for e in ioctls if e["ioctl"]["request_name"] ==
            "KVM_CREATE_VCPU"] == ["vm", "vm"]
    runs = [e for e in ioctls if e["ioctl"]["request_name"] == "KVM_RUN"]
    for v in (0, 1):   # each vCPU's exits, in its own order
        mine = [e for e in runs if e["vcpu"] == v]
        reasons = [e["exit"]["reason_name"] for e in mine]
        assert reasons == ["IO", "MMIO", "MMIO"] * ROUNDS + ["IO", "HLT"], v
        assert {e["exit"]["io"]["port"] for e in mine if e["exit"]["reason_name"] == "IO"} \
            == {0x20, 0x30}
        assert mine[1]["exit"]["mmio"]["phys_addr"] == 0xD0000000
    # A regs/sregs snapshot from kvm_run.s.regs at every exit, though the
    # VMM never asked for sync regs (mini-vmm exits 3 had it seen them set).
    snaps = [e for e in events if e["event"] == "snapshot"]
    assert len(snaps) == len(runs) and {s["source_name"] for s in snaps} == {"sync_regs"}
    last = [s for s in snaps if s["vcpu"] == 1][-1]
    assert last["regs"]["rax"] == expected_result(1)
    # The memory the VMM wrote outside any ioctl: the image and page tables
    # before the first KVM_RUN, then each mailbox reply before the next.
    writes = [e for e in events if e["event"] == "memwrite"]
    assert writes[0]["gpa"] == 0 and any(w["gpa"] == 0x180000 for w in writes[:3])
    assert sum(w["gpa"] == 0x90000 for w in writes) >= ROUNDS
    assert events[-1]["event"] == "end" and events[-1]["reason_name"] == "vmm_exit"
    assert events[-1]["status"] == 0 and events[-1]["exits"] == len(runs)

    hdr = json.loads(kernel.exec([KVMTRACE, "show", "--header", "--json", trace]).stdout)
    assert hdr["guest_name"] == "mini-vmm"
    assert hdr["command_line"] == " ".join(map(str, vmm_argv()))
    assert set(hdr["foreign"]["flags_flags"]) >= {"MEM_SLOTS", "MEM_CHANGES"}
    assert "guest_image_bytes" not in hdr and "run" not in hdr

    text = kernel.exec([KVMTRACE, "show", trace]).stdout
    assert 'vcpu0 ioctl(KVM_RUN) = 0 -> IO direction=out port=0x20 size=4 count=1' in text
    stats = kernel.exec([KVMTRACE, "show", "--stats", trace])
    assert stats.returncode == 0, stats.stderr
    assert re.search(rf"^KVM_RUN\s+{len(runs)}\s", stats.stdout, re.M), stats.stdout
    assert re.search(rf"^MMIO\s+{4 * ROUNDS}\s", stats.stdout, re.M), stats.stdout

    r = kernel.exec([KVMTRACE, "replay", trace], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"replayed \d+ events: 0 divergences", r.stderr), r.stderr


def test_without_memory_changes_replay_is_exact_or_stops_with_status_2(kernel, tmp_path):
    """The mailbox replies are not in the trace: the guest's sums come out
    different, which replay must not call a divergence of the kernel's."""
    trace = tmp_path / "mini.zst"
    record_vmm(kernel, trace)
    hdr = json.loads(kernel.exec([KVMTRACE, "show", "--header", "--json", trace]).stdout)
    assert hdr["foreign"]["flags_flags"] == ["MEM_SLOTS", "SYNC_REGS"]
    r = kernel.exec([KVMTRACE, "replay", trace], timeout=300)
    if r.returncode == 0:
        assert re.search(r"0 divergences", r.stderr), r.stderr
        return
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""                       # no divergence reported
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "lacks the guest memory it wrote between exits" in lines[0] \
        and "--memory-changes" in lines[0], r.stderr
    # The same with --json: nothing on stdout either.
    r = kernel.exec([KVMTRACE, "replay", "--json", trace], timeout=300)
    assert r.returncode == 2 and r.stdout == ""


def test_two_recordings_agree(kernel, tmp_path):
    """One vCPU: the event streams are equal and diff finds nothing.  Two
    vCPUs: the interleaving is the scheduler's, so (as the matrix does for
    concurrent guests) each vCPU's own sequence is compared, and diff finds
    no header difference."""
    a, b = tmp_path / "a.zst", tmp_path / "b.zst"
    record_vmm(kernel, a, vcpus=1)
    record_vmm(kernel, b, vcpus=1)
    r = kernel.exec([KVMTRACE, "diff", a, b])
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr

    a2, b2 = tmp_path / "a2.zst", tmp_path / "b2.zst"
    record_vmm(kernel, a2)
    record_vmm(kernel, b2)
    assert per_vcpu(a2) == per_vcpu(b2)
    r = kernel.exec([KVMTRACE, "diff", "--json", a2, b2])
    assert not [d for d in map(json.loads, r.stdout.splitlines()) if d["kind"] == "header"]


def test_kernel_exits_of_the_vmm_threads(kernel, tmp_path):
    """--kernel-exits: the shim opens the capture when the VMM first opens
    /dev/kvm (before any vCPU thread exists) and each vCPU thread registers
    on its first KVM_RUN, as the harness's do: every IO exit to userspace
    has its kvm_pio, every MMIO exit its kvm_mmio, for both threads."""
    rounds = 20
    trace = tmp_path / "kx.zst"
    record_vmm(kernel, trace, "--kernel-exits=require", rounds=rounds)
    events = kernel.show_json(trace)
    kexits = [e for e in events if e["event"] == "kexit"]
    assert {e["vcpu"] for e in kexits} == {0, 1}
    for v in (0, 1):
        pio = [e for e in kexits if e["vcpu"] == v and e["kexit"]["kind_name"] == "pio"]
        writes = [e for e in kexits if e["vcpu"] == v and e["kexit"]["kind_name"] == "mmio"
                  and e["kexit"]["mmio"]["type_name"] == "write"]
        assert len(pio) == rounds + 1 and len(writes) == rounds, v
    assert not [e for e in events if e["event"] == "kexit_lost"]


# Run in the target (natively or in the booted kernel): record in the
# background, wait for its child, the VMM, let frames be flushed (every
# 100 ms), SIGKILL the VMM and print record's status.
KILL_VMM = """
{record} >/dev/null 2>{err} &
rec=$!
child=
i=0
while [ -z "$child" ] && [ $i -lt 600 ]; do
    child=$(pgrep -P $rec | head -n 1)
    sleep 0.05
    i=$((i + 1))
done
[ -n "$child" ] || {{ echo "mini-vmm did not start"; kill $rec; exit 90; }}
sleep 1
kill -9 $child
wait $rec
echo "record status $?"
"""


def test_killed_vmm_leaves_a_readable_prefix(kvm, tmp_path):
    """SIGKILL: no exit handler runs; the trace holds its whole frames,
    show prints them and says where it stops, and record passes the
    signal on as 128 + 9."""
    trace, err_file = tmp_path / "killed.zst", tmp_path / "record.err"
    record = " ".join(shlex.quote(os.fspath(a)) for a in
                      [KVMTRACE, "record", "-o", trace, "--", *vmm_argv(2, 10**9)])
    r = kvm.sh(KILL_VMM.format(record=record, err=shlex.quote(os.fspath(err_file))),
               timeout=120)
    err = err_file.read_text() if err_file.exists() else ""
    assert r.returncode == 0 and f"record status {128 + signal.SIGKILL}\n" in r.stdout, \
        (r.stdout, r.stderr, err)
    assert "ended without exit() (killed by signal 9)" in err, err
    r = kvm.run(["show", trace])
    assert r.returncode == 16, r.stderr                 # truncated
    assert "ioctl(KVM_RUN) = 0 -> IO" in r.stdout
    assert re.search(r"trace truncated after event \d+", r.stderr), r.stderr


# ---- what cannot be recorded: refused before it runs ----

def refused(args, tmp_path, status):
    trace = tmp_path / "t.zst"
    r = subprocess.run([KVMTRACE, "record", "-o", trace, "--", *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == status, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not trace.exists()
    return r.stderr


def test_static_binary_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    assert b"statically linked" in subprocess.run(["file", "-L", "/bin/busybox"],
                                                  capture_output=True).stdout
    err = refused(["/bin/busybox", "touch", marker], tmp_path, NOT_RECORDABLE)
    assert "/bin/busybox is statically linked (no PT_INTERP, no dynamic loader)" in err
    assert not marker.exists()


def test_a_tiny_static_program_built_here_is_refused(tmp_path):
    src = tmp_path / "s.c"
    src.write_text('#include <fcntl.h>\nint main(void) { return open("/dev/kvm", O_RDWR) < 0; }\n')
    subprocess.run(["cc", "-static", "-o", tmp_path / "s", src], check=True)
    assert "statically linked" in refused([tmp_path / "s"], tmp_path, NOT_RECORDABLE)


def test_program_that_never_opens_kvm_leaves_no_trace(tmp_path):
    err = refused(["sh", "-c", "exit 7"], tmp_path, NOT_RECORDABLE)
    assert "sh never opened /dev/kvm (exit status 7)" in err


def test_missing_program_and_existing_trace(tmp_path):
    assert "not found in $PATH" in refused(["no-such-vmm"], tmp_path, BAD_INPUT)
    trace, marker = tmp_path / "exists.zst", tmp_path / "ran"
    trace.write_bytes(b"keep")
    r = subprocess.run([KVMTRACE, "record", "-o", trace, "--", "touch", marker],
                       capture_output=True, text=True)
    assert r.returncode == BAD_INPUT and "trace file exists" in r.stderr
    assert trace.read_bytes() == b"keep" and not marker.exists()


def test_usage_errors(tmp_path):
    for args in (["--"], ["--vcpus", "2", "--", "true"], ["extra", "--", "true"]):
        r = subprocess.run([KVMTRACE, "record", *args], capture_output=True, text=True)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("kvmtrace record: "), r.stderr
