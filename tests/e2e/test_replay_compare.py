"""Replay compares in place: a KVM_RUN's result and its snapshot where they
lie in kvm_run, any other ioctl's result in its argument, and formats
nothing until something differs.  These check that a difference is still
found and said, whatever kind of ioctl it is in."""
import json
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
GUESTS = REPO / "build" / "guests"
REWRITE = REPO / "build" / "kt-rewrite"


def record(kvm, tmp_path, guest, *args):
    out = tmp_path / f"{guest}.zst"
    r = kvm.run(["record", GUESTS / f"{guest}.bin", "-o", out, "--force", *args])
    assert r.returncode == 0, r.stderr
    return out


def first(kvm, trace, request):
    for e in map(json.loads, kvm.run(["show", "--json", trace]).stdout.splitlines()):
        if e["event"] == "ioctl" and e["ioctl"]["request_name"] == request:
            return e["index"]
    raise AssertionError(request)


def test_a_changed_return_of_an_ioctl_without_out_bytes_is_a_divergence(kvm, tmp_path):
    """KVM_SET_REGS hands nothing back: its result is its return alone."""
    trace = record(kvm, tmp_path, "hello")
    index = first(kvm, trace, "KVM_SET_REGS")
    bad = tmp_path / "bad.zst"
    assert kvm.sh(f"{REWRITE} {trace} {bad} --ret {index} 5").returncode == 0
    r = kvm.run(["replay", bad])
    assert r.returncode == 1, r.stderr
    assert f"event {index} (vcpu0 KVM_SET_REGS): ioctl.ret: 5 -> 0" in r.stdout


def test_a_multi_vcpu_replay_compares_every_vcpu(kvm, tmp_path):
    trace = record(kvm, tmp_path, "smp", "--vcpus", "4")
    r = kvm.run(["replay", trace])
    assert r.returncode == 0, r.stdout + r.stderr
    index = first(kvm, trace, "KVM_SET_REGS")
    bad = tmp_path / "bad.zst"
    assert kvm.sh(f"{REWRITE} {trace} {bad} --ret {index} 7").returncode == 0
    r = kvm.run(["replay", bad])
    assert r.returncode == 1
    assert "ioctl.ret: 7 -> 0" in r.stdout
