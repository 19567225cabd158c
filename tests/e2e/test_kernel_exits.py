"""record --kernel-exits end to end, natively (`kvm`, where /dev/kvm works)
and in every configured kernel (`kernel`): the trace holds exactly the
in-kernel exits the guest causes, each before the record of the KVM_RUN it
happened in; show --stats counts them; two recordings diff clean and a
rewritten one names kexits.count.* / kexits.sequence / kexit.*; replay
--kernel-exits on the same kernel finds nothing; without privilege record
degrades with one line (or, =require, fails with status 24).

The binary is $KVMTRACE_BIN (default build/kvmtrace), so `make e2e-san`
runs these against the ASan+UBSan build too."""
import collections
import json
import pathlib
import subprocess

import pytest

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
REWRITE = REPO / "build" / "kt-rewrite"
GUESTS = REPO / "build" / "guests"

MSR_EFER, MSR_KERNEL_GS_BASE, MSR_SYSENTER_CS, MSR_NONE = 0xC0000080, 0xC0000102, 0x174, 0xDEADBEEF
# Under QEMU TCG one nested exit takes tens of milliseconds.
LOOPS_NATIVE, LOOPS_VM = 1000, 50
NO_KEXITS = 24        # record --kernel-exits=require where it cannot be done
DROP_CAPS = "--drop=cap_sys_admin,cap_bpf,cap_perfmon"
NO_PRIVILEGE = ("no privilege: BPF tracing needs CAP_BPF and CAP_PERFMON, or "
                "CAP_SYS_ADMIN")


def record(target, tmp_path, guest, *args, name=None, kexits="--kernel-exits"):
    trace = tmp_path / f"{name or guest}.zst"
    r = target.exec([KVMTRACE, "record", GUESTS / f"{guest}.bin", "-o", trace, "--force",
                     "--timeout", "120", *([kexits] if kexits else []), *map(str, args)],
                    timeout=300)
    assert r.returncode == 0, r.stderr
    assert "lost" not in r.stderr and "kernel exits" not in r.stderr, r.stderr
    return trace


def runs_of(events):
    """[(KVM_RUN event, [its KEXIT events])]: a vCPU's KEXIT records come
    before the record of the KVM_RUN they happened in."""
    pending, runs = collections.defaultdict(list), []
    for e in events:
        if e["event"] == "kexit":
            pending[e["vcpu"]].append(e["kexit"])
        elif e["event"] == "kexit_lost":
            pytest.fail(f"events lost: {e}")
        elif e["event"] == "ioctl" and e["ioctl"]["request_name"] == "KVM_RUN":
            runs.append((e, pending.pop(e["vcpu"], [])))
    assert not pending, f"kernel exits after the last KVM_RUN: {dict(pending)}"
    return runs


def kind(kexits, name):
    return [k[name] for k in kexits if k["kind_name"] == name]


def isa_of(events):
    isas = {k["exit"]["isa_name"] for e in events if e["event"] == "kexit"
            for k in [e["kexit"]] if k["kind_name"] == "exit"}
    assert len(isas) <= 1, isas
    return isas.pop() if isas else None   # None: kvm_pvm's emulator, no kvm_exit


def guest_exits(kexits, isa, names):
    """The kvm_exit events of a run with the given reason names."""
    return [x for x in kind(kexits, "exit") if x.get("reason_name") in names]


def console_byte(run):
    """The byte an IO OUT exit wrote to the console."""
    return run["exit"]["io"]["data"] if run["exit"]["reason_name"] == "IO" else None


def stats_rows(target, trace):
    r = target.exec([KVMTRACE, "show", "--stats", trace])
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("kernel exit reason", 1)[1].splitlines()[1:]
    return {line.split()[0]: int(line.split()[1]) for line in table if line.strip()}


def check_seq(events):
    seqs = [e["kexit"]["seq"] for e in events if e["event"] == "kexit"]
    assert seqs == list(range(len(seqs))), "a gap in seq: events lost"


# ---- exactly the guest's exits, between the right KVM_RUN records -------

def check_cpuid_msr_loop(target, tmp_path, loops):
    trace = record(target, tmp_path, "cpuid_msr_loop", "--guest-arg", loops)
    events = target.show_json(trace)
    check_seq(events)
    runs = runs_of(events)
    # The loop never leaves the kernel: one KVM_RUN, ending at the HLT.
    assert [r["exit"]["reason_name"] for r, _ in runs] == ["HLT"]
    kexits = runs[0][1]
    cpuids, msrs = kind(kexits, "cpuid"), kind(kexits, "msr")
    assert len(cpuids) == loops and all((c["function"], c["index"]) == (0, 0) for c in cpuids)
    assert len(msrs) == loops
    assert all((m["write"], m["ecx"], m["data"]) == (0, MSR_EFER, 0x500) for m in msrs)
    isa = isa_of(events)
    if isa is None:   # kvm_pvm: every instruction emulated, no kvm_exit
        insns = collections.Counter(x["insn"] for x in kind(kexits, "emulate"))
        assert (insns["0fa2"], insns["0f32"]) == (loops, loops)
    else:             # SVM, VMX: one exit each, and its event before the next entry
        names = {"SVM": ("cpuid", "msr"), "VMX": ("CPUID", "MSR_READ")}[isa]
        assert len(guest_exits(kexits, isa, names[:1])) == loops
        assert len(guest_exits(kexits, isa, names[1:])) == loops
        last = None
        for k in kexits:
            if k["kind_name"] == "exit":
                last = k["exit"]["reason_name"]
            elif k["kind_name"] == "entry":
                last = None
            elif k["kind_name"] in ("cpuid", "msr"):
                assert last == names[k["kind_name"] == "msr"], k
    rows = stats_rows(target, trace)
    assert (rows["cpuid"], rows["msr.read"], rows["lost"]) == (loops, loops, 0)
    if isa is not None:
        exit_rows = {"SVM": ("exit.cpuid", "exit.msr"), "VMX": ("exit.CPUID", "exit.MSR_READ")}
        assert [rows[n] for n in exit_rows[isa]] == [loops, loops]
    return trace


def test_cpuid_msr_loop_natively(kvm, tmp_path):
    check_cpuid_msr_loop(kvm, tmp_path, LOOPS_NATIVE if kvm.native else LOOPS_VM)


def test_cpuid_msr_loop_in_each_kernel(kernel, tmp_path):
    check_cpuid_msr_loop(kernel, tmp_path, LOOPS_VM)


def check_cpuid_guest(target, tmp_path):
    """CPUID leaf 0 once, then the vendor string on the console: the one
    kvm_cpuid lies in the first KVM_RUN, and every console OUT's own
    kvm_pio in the run that it ended."""
    events = target.show_json(record(target, tmp_path, "cpuid"))
    check_seq(events)
    runs = runs_of(events)
    cpuids = [(i, c) for i, (_, k) in enumerate(runs) for c in kind(k, "cpuid")]
    assert [(i, c["function"], c["index"]) for i, c in cpuids] == [(0, 0, 0)]
    for run, kexits in runs:
        pios = kind(kexits, "pio")
        if run["exit"]["reason_name"] == "IO":
            assert [(p["rw_name"], p["port"], p["size"], p["count"]) for p in pios] == \
                [("out", 0xE9, 1, 1)]
            assert chr(pios[0]["val"]) == console_byte(run)
        else:
            assert pios == []


def test_cpuid_guest_natively(kvm, tmp_path):
    check_cpuid_guest(kvm, tmp_path)


def test_cpuid_guest_in_each_kernel(kernel, tmp_path):
    check_cpuid_guest(kernel, tmp_path)


# The msr guest's RDMSR/WRMSR pairs, and the console byte of the OUT that
# ends the KVM_RUN they happen in (the first letter printed after them).
MSR_RUN = {MSR_KERNEL_GS_BASE: "K", MSR_SYSENTER_CS: "S", MSR_NONE: "r"}


def check_msr_guest(target, tmp_path):
    """Every kvm_msr in the run the guest does it in; the unknown MSR's
    #GP exactly once.  Where the CPU runs the guest (SVM, VMX) KVM passes
    KERNEL_GS_BASE and SYSENTER_CS through and sees only the #GP one; every
    kvm_msr then has its own MSR exit.  kvm_pvm's emulator sees all five."""
    events = target.show_json(record(target, tmp_path, "msr"))
    check_seq(events)
    isa = isa_of(events)
    seen = []
    for run, kexits in runs_of(events):
        msrs = kind(kexits, "msr")
        for m in msrs:
            assert console_byte(run) == MSR_RUN[m["ecx"]], (m, run["exit"])
            seen.append((m["write_name"], m["ecx"], m["exception"]))
        if isa == "SVM":
            assert len(msrs) == len(guest_exits(kexits, isa, ("msr",)))
        elif isa == "VMX":
            assert len(msrs) == len(guest_exits(kexits, isa, ("MSR_READ", "MSR_WRITE")))
        if any(m["ecx"] == MSR_NONE for m in msrs):
            assert "GP" in [x["exception_name"] for x in kind(kexits, "inj_exception")]
    everything = [("write", MSR_KERNEL_GS_BASE, False), ("read", MSR_KERNEL_GS_BASE, False),
                  ("write", MSR_SYSENTER_CS, False), ("read", MSR_SYSENTER_CS, False),
                  ("read", MSR_NONE, True)]
    if isa is None:
        assert seen == everything
    else:
        assert seen == [m for m in everything if m in seen] and seen[-1] == everything[-1]


def test_msr_guest_natively(kvm, tmp_path):
    check_msr_guest(kvm, tmp_path)


def test_msr_guest_in_each_kernel(kernel, tmp_path):
    check_msr_guest(kernel, tmp_path)


# ---- diff and replay ------------------------------------------------------

def diff(target, a, b, *args):
    r = target.exec([KVMTRACE, "diff", "--json", *map(str, args), a, b])
    return r.returncode, [json.loads(l) for l in r.stdout.splitlines()], r.stderr


def first_kexit(events, name):
    return next(e["index"] for e in events
                if e["event"] == "kexit" and e["kexit"]["kind_name"] == name)


def rewrite(target, src, dst, *args):
    r = target.exec([REWRITE, src, dst, *map(str, args)])
    assert r.returncode == 0, r.stderr
    return dst


def check_diff_and_replay(target, tmp_path, loops):
    a = record(target, tmp_path, "cpuid_msr_loop", "--guest-arg", loops, name="a")
    b = record(target, tmp_path, "cpuid_msr_loop", "--guest-arg", loops, name="b")
    status, items, err = diff(target, a, b)
    assert (status, items) == (0, []), err

    # One kvm_cpuid left out: the run's sequence and the count name it.
    events = target.show_json(a)
    cpuid = first_kexit(events, "cpuid")
    dropped = rewrite(target, a, tmp_path / "dropped.zst", "--drop", cpuid)
    status, items, err = diff(target, a, dropped)
    assert status == 1, err
    paths = {(i["path"], i["old"], i["new"]) for i in items}
    assert ("kexits.count.cpuid", str(loops), str(loops - 1)) in paths
    assert "kexits.sequence" in {i["path"] for i in items}
    seq = next(i for i in items if i["path"] == "kexits.sequence")
    assert "cpuid(0x0 0x0)" in seq["old"] and seq["context"].endswith("KVM_RUN) -> HLT")
    status, items, err = diff(target, a, dropped, "--ignore", "kexits.*")
    assert (status, items) == (0, []), err

    # One answer changed: rax of that kvm_cpuid (body offset 32 + 8).
    flipped = rewrite(target, a, tmp_path / "flipped.zst", "--flip-body", cpuid, 40)
    status, items, err = diff(target, a, flipped)
    assert status == 1, err
    assert [(i["path"], i["old_event"]) for i in items] == [("kexit.cpuid.rax", cpuid)]
    assert diff(target, a, flipped, "--ignore", "kexit.cpuid.*")[0] == 0

    # The replay's own exits: none differ on the same kernel.
    r = target.exec([KVMTRACE, "replay", "--kernel-exits", a], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 divergences, 0 environment differences" in r.stderr
    r = target.exec([KVMTRACE, "replay", "--json", "--kernel-exits", flipped], timeout=300)
    assert r.returncode == 1, r.stderr
    assert [(d["path"], d["event"]) for d in map(json.loads, r.stdout.splitlines())] == \
        [("kexit.cpuid.rax", cpuid)]


def test_diff_and_replay_natively(kvm, tmp_path):
    check_diff_and_replay(kvm, tmp_path, LOOPS_NATIVE if kvm.native else LOOPS_VM)


def test_diff_and_replay_in_each_kernel(kernel, tmp_path):
    check_diff_and_replay(kernel, tmp_path, LOOPS_VM)


@pytest.mark.parametrize("guest", ["cpuid", "msr"])
def test_replay_corpus_guest_natively(kvm, tmp_path, guest):
    trace = record(kvm, tmp_path, guest)
    r = kvm.exec([KVMTRACE, "replay", "--kernel-exits", trace], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("guest", ["cpuid", "msr"])
def test_replay_corpus_guest_in_each_kernel(kernel, tmp_path, guest):
    trace = record(kernel, tmp_path, guest)
    r = kernel.exec([KVMTRACE, "replay", "--kernel-exits", trace], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""


# ---- a guest that never comes back, and one without the option -------------

def test_a_run_that_never_returns_loses_nothing(kvm, tmp_path):
    """The hypercall guest on a kvm_pvm host stays in KVM_RUN until the
    timeout, hundreds of thousands of emulations a second: the collector
    empties the ring meanwhile.  Elsewhere it halts at once."""
    trace = tmp_path / "hypercall.zst"
    r = kvm.exec([KVMTRACE, "record", GUESTS / "hypercall.bin", "-o", trace, "--force",
                  "--kernel-exits", "--timeout", "1"], timeout=120)
    assert r.returncode in (0, 14), r.stderr
    assert "lost" not in r.stderr
    rows = stats_rows(kvm, trace)
    assert rows["lost"] == 0
    if r.returncode == 14:   # kvm_pvm: the VMCALL at 0x100d emulated over and over
        assert rows["emulate"] > 10000


def test_without_the_option_nothing_changes(kvm, tmp_path):
    trace = record(kvm, tmp_path, "cpuid", kexits=None)
    events = kvm.show_json(trace)
    assert not [e for e in events if e["event"].startswith("kexit")]
    assert "kexits" not in kvm.show_header(trace)
    r = kvm.exec([KVMTRACE, "show", "--stats", trace])
    assert "kernel exit" not in r.stdout


# ---- without privilege ----------------------------------------------------

def unprivileged(target, *args):
    cmd = " ".join(str(a) for a in args)
    return target.exec(["capsh", DROP_CAPS, "--", "-c", cmd], timeout=120)


def test_without_privilege_record_says_so_once(kvm, tmp_path):
    trace = tmp_path / "np.zst"
    r = unprivileged(kvm, KVMTRACE, "record", GUESTS / "cpuid.bin", "-o", trace,
                     "--kernel-exits")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("kvmtrace: kernel exits not recorded: " + NO_PRIVILEGE)
    assert len(lines) == 2 and lines[1].startswith("kvmtrace: trace written to")
    h = kvm.show_header(trace)
    assert h["kexits"]["state_name"] == "unavailable"
    assert h["kexits_info"].startswith(NO_PRIVILEGE)
    assert not [e for e in kvm.show_json(trace) if e["event"].startswith("kexit")]
    r = kvm.exec([KVMTRACE, "show", "--stats", trace])
    assert "kernel exits: not recorded: " + NO_PRIVILEGE in r.stdout
    # and a replay asked to compare them says why it cannot
    r = kvm.exec([KVMTRACE, "replay", "--kernel-exits", trace])
    assert r.returncode == 2 and "holds no kernel exits" in r.stderr


def test_without_privilege_require_fails_with_its_status(kvm, tmp_path):
    trace = tmp_path / "np.zst"
    r = unprivileged(kvm, KVMTRACE, "record", GUESTS / "cpuid.bin", "-o", trace,
                     "--kernel-exits=require")
    assert r.returncode == NO_KEXITS, r.stderr
    assert r.stderr.splitlines() == [r.stderr.splitlines()[0]]
    assert r.stderr.startswith("kvmtrace: --kernel-exits=require: " + NO_PRIVILEGE)
    assert not trace.exists()


def test_without_privilege_replay(kvm, tmp_path):
    trace = record(kvm, tmp_path, "cpuid")
    r = unprivileged(kvm, KVMTRACE, "replay", "--kernel-exits", trace)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("kvmtrace: kernel exits not compared: " + NO_PRIVILEGE)
    r = unprivileged(kvm, KVMTRACE, "replay", "--kernel-exits=require", trace)
    assert r.returncode == 2
    assert r.stderr.startswith("kvmtrace: --kernel-exits=require: " + NO_PRIVILEGE)


# ---- no KVM needed ------------------------------------------------------------

def test_help_documents_the_option_and_its_status():
    r = subprocess.run([str(KVMTRACE), "help", "record"], capture_output=True, text=True)
    assert "--kernel-exits[=require]" in r.stdout and "24" in r.stdout


def test_run_refuses_the_record_option():
    r = subprocess.run([str(KVMTRACE), "run", "--kernel-exits", str(GUESTS / "hello.bin")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "only for 'kvmtrace record'" in r.stderr


@pytest.mark.parametrize("series", ["6.1", "6.12"])
def test_goldens_of_the_older_format_still_read(series):
    """Traces of format 1.0/1.1 have no kernel exits: show reads them as
    before and says nothing about kernel exits."""
    for golden in sorted((REPO / "traces" / series).glob("*.zst")):
        r = subprocess.run([str(KVMTRACE), "show", "--stats", str(golden)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "kernel exit" not in r.stdout, (golden, r.stderr)
