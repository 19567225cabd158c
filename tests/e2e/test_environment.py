"""The environment rule (replayer/environment.h): what only restates the
host is reported once, as environment, and leaves replay and diff at
status 0 unless --strict-env.  No KVM needed for diff: the traces are
rewritten goldens.  Replay is checked on a host that differs in topology
only: the first series' kernel booted with two vCPUs."""
import json
import pathlib
import subprocess

import pytest

import kvmvm
import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
REWRITE = REPO / "build" / "kt-rewrite"
GOLDEN = REPO / "traces" / "6.1" / "hello.zst"
# Events of traces/6.1/hello.zst (kvmtrace show): 2 is KVM_SET_TSS_ADDR on
# the VM fd, 6 KVM_CHECK_EXTENSION(KVM_CAP_SYNC_REGS) on the VM fd.
TSS_EVENT, CHECK_SYNC_REGS_EVENT = 2, 6


def rewrite(tmp_path, *args):
    out = tmp_path / "rewritten.zst"
    subprocess.run([str(REWRITE), str(GOLDEN), str(out), *map(str, args)], check=True,
                   capture_output=True, timeout=60)
    return out


def diff(*args):
    r = subprocess.run([str(KVMTRACE), "diff", "--json", *map(str, args)],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, [json.loads(l) for l in r.stdout.splitlines()], r.stderr


def test_a_capability_answered_differently_is_environment(tmp_path):
    new = rewrite(tmp_path, "--ret", CHECK_SYNC_REGS_EVENT, 0)
    status, items, err = diff(GOLDEN, new)
    assert status == 0, err
    assert [(i["kind"], i["path"], i["old"], i["new"]) for i in items] == \
        [("environment", "caps.KVM_CAP_SYNC_REGS", "7", "0")]
    assert "1 environment differences" in err


def test_strict_env_counts_it(tmp_path):
    new = rewrite(tmp_path, "--ret", CHECK_SYNC_REGS_EVENT, 0)
    status, items, err = diff("--strict-env", GOLDEN, new)
    assert status == 1, err
    assert [i["kind"] for i in items] == ["environment"]


def test_what_the_vm_was_told_is_a_difference(tmp_path):
    new = rewrite(tmp_path, "--ret", TSS_EVENT, -1)
    status, items, err = diff(GOLDEN, new)
    assert status == 1, err
    assert [(i["kind"], i["path"], i["old_event"]) for i in items] == \
        [("field", "ioctl.ret", TSS_EVENT)]


def test_hosts_differ_once_each_and_only_in_the_environment_section():
    old, new = GOLDEN, REPO / "traces" / "6.12" / "hello.zst"
    status, items, err = diff(old, new)
    env = [i["path"] for i in items if i["kind"] == "environment"]
    assert "header.kernel_release" in env and len(env) == len(set(env))
    # KVM_GET_SUPPORTED_CPUID restates header.cpuid: compared there only.
    assert not any(i["kind"] != "environment" and i["context"].startswith("kvm ioctl(KVM_GET_SUPPORTED")
                   for i in items)
    # The CPUID the guest was given (KVM_SET_CPUID2) is not environment.
    assert any(i["kind"] == "field" and "KVM_SET_CPUID2" in i["context"] for i in items)
    assert status == 1, err


# --- replay on another host: the same kernel booted with two vCPUs -------------------

# The topology fields of the supported CPUID that change with the number of
# CPUs: leaf 1 EBX (logical processor count), 0x80000001 ECX (CmpLegacy),
# 0x80000008 ECX (core count).
TOPOLOGY = ("0x00000001.0.ebx", "0x80000001.0.ecx", "0x80000008.0.ecx")


def replay_json(target, trace, *opts):
    r = target.run(["replay", "--json", *opts, str(trace)], timeout=60)
    return r, [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


@pytest.mark.kvm
def test_golden_replays_on_its_kernel_booted_with_two_vcpus(get_target, record_property):
    series = kvmvm.series_names()[0]  # 6.1: 6.12 under TCG oopsed with two vCPUs
    trace = REPO / "traces" / series / "hello.zst"
    target = get_target(series, smp=2)
    record_property("kernel", json.dumps({"column": f"{series} -smp 2",
                                          "describe": target.describe()}))
    r, lines = replay_json(target, trace)
    env = sorted({d["path"] for d in lines if d["kind"] == "environment"})
    div = [f"event {d['event']} ({d['context']}): {d['path']}" for d in lines
           if d["kind"] == "divergence"]
    assert (r.returncode, div) == (0, []), f"status {r.returncode}: {div} {r.stderr}"
    for field in TOPOLOGY:
        assert any(field in path for path in env), f"{field} not among {env}"
    r, strict = replay_json(target, trace, "--strict-env")
    assert r.returncode == 1, r.stderr
    assert any(d["kind"] == "environment" for d in strict), strict
