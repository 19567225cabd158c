"""Environment is not divergence: a trace replayed on a host that differs
only in what it reports about itself (here the CPU topology) replays with
status 0, the differences listed once as environment; --strict-env counts
them as divergences.  Contract of `kvmtrace replay --json`: one line
{"kind": "environment", ...} per host difference, {"kind": "divergence",
...} per real one."""
import json
import pathlib

import pytest

import kvmvm

REPO = pathlib.Path(__file__).resolve().parents[2]
# The topology fields of KVM_GET_SUPPORTED_CPUID that change with the
# number of CPUs: leaf 1 EBX (logical processor count), 0x80000001 ECX
# (CmpLegacy), 0x80000008 ECX (core count).
TOPOLOGY = ("0x00000001.0.ebx", "0x80000001.0.ecx", "0x80000008.0.ecx")


def replay(target, trace, *opts):
    r = target.run(["replay", "--json", *opts, str(trace)], timeout=60)
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r, lines


@pytest.mark.kvm
def test_golden_replays_on_the_same_kernel_with_two_vcpus(get_target, record_property):
    series = kvmvm.series_names()[0]  # 6.1: 6.12 under TCG oopsed with two vCPUs
    trace = REPO / "traces" / series / "hello.zst"
    target = get_target(series, smp=2)
    record_property("kernel", json.dumps({"column": f"{series} -smp 2",
                                          "describe": target.describe()}))
    r, lines = replay(target, trace)
    env = sorted({d["path"] for d in lines if d["kind"] == "environment"})
    div = [f"event {d['event']} ({d['context']}): {d['path']}" for d in lines
           if d["kind"] == "divergence"]
    assert (r.returncode, div) == (0, []), f"status {r.returncode}: {div} {r.stderr}"
    for field in TOPOLOGY:
        assert any(field in path for path in env), f"{field} not among {env}"
    r, strict = replay(target, trace, "--strict-env")
    assert r.returncode == 1, r.stderr
    assert any(d["kind"] == "divergence" for d in strict), strict
