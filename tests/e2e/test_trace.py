"""record / show / replay / diff end to end, on every configured kernel.

Each test reads as the scenario it checks.  `kernel` (tests/conftest.py)
runs the kvmtrace under test inside each QEMU-booted kernel and natively
where /dev/kvm works; traces live under tmp_path, which the VM sees at the
same path.  Recording, show, replay and diff must be exact on every column;
what a guest does there is the kernel's (kernel_behaviour)."""
import json
import pathlib
import re

import pytest

import expectations
import kvmhost

REPO = pathlib.Path(__file__).resolve().parents[2]
GUESTS = REPO / "build" / "guests"
REWRITE = REPO / "build" / "kt-rewrite"

SEED_FLOW = [
    "KVM_GET_API_VERSION", "KVM_CREATE_VM", "KVM_SET_TSS_ADDR",
    "KVM_SET_USER_MEMORY_REGION", "KVM_CREATE_VCPU", "KVM_GET_VCPU_MMAP_SIZE",
    "KVM_GET_SREGS", "KVM_SET_SREGS", "KVM_SET_REGS", "KVM_RUN", "KVM_GET_REGS",
]

TRUNCATED = 16
BAD_INPUT = 4


def record(kernel, tmp_path, guest, *args, name=None):
    out = tmp_path / f"{name or guest}.zst"
    r = kernel.run(["record", str(GUESTS / f"{guest}.bin"), "-o", str(out), "--force", *args])
    assert r.returncode == 0, r.stderr
    assert f"trace written to {out}" in r.stderr
    return out


def requests_in_order(show_text):
    return [m.group(1) for m in re.finditer(r"ioctl\((KVM_[A-Z0-9_]+)", show_text)]


def is_subsequence(needle, hay):
    it = iter(hay)
    return all(any(x == y for y in it) for x in needle)


def test_show_lists_the_seed_flow_in_order(kernel, tmp_path):
    trace = record(kernel, tmp_path, "hello")
    r = kernel.run(["show", str(trace)])
    assert r.returncode == 0, r.stderr
    reqs = requests_in_order(r.stdout)
    assert is_subsequence(SEED_FLOW, reqs), reqs
    assert reqs[-1] == "KVM_GET_REGS"
    exits = re.findall(r"ioctl\(KVM_RUN\) = 0 -> (\w+)", r.stdout)
    assert exits == ["IO"] * 14 + ["HLT"]
    assert 'vcpu0 ioctl(KVM_RUN) = 0 -> IO direction=out port=0xe9 size=1 count=1 data="H"' \
        in r.stdout
    assert "cr0=0x80050033 [PE MP ET NE WP AM PG]" in r.stdout


def test_json_lines_parse_and_agree_with_the_text(kernel, tmp_path):
    trace = record(kernel, tmp_path, "hello")
    text = kernel.run(["show", str(trace)]).stdout
    r = kernel.run(["show", "--json", str(trace)])
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["index"] for e in events] == list(range(len(events)))
    reqs = [e["ioctl"]["request_name"] for e in events if e["event"] == "ioctl"]
    assert reqs == requests_in_order(text)
    runs = [e for e in events if e["event"] == "ioctl" and e["ioctl"]["request_name"] == "KVM_RUN"]
    assert runs[0]["exit"]["reason_name"] == "IO"
    assert runs[0]["exit"]["io"]["port"] == 0xE9 and runs[0]["exit"]["io"]["data"] == "H"
    snaps = [e for e in events if e["event"] == "snapshot"]
    assert len(snaps) == len(runs), "a regs+sregs snapshot at every exit"
    assert events[-1]["event"] == "end" and events[-1]["reason_name"] == "halted"


def test_show_stats_and_header(kernel, tmp_path):
    trace = record(kernel, tmp_path, "hello")
    r = kernel.run(["show", "--stats", str(trace)])
    assert r.returncode == 0
    assert re.search(r"^IO\s+14\s", r.stdout, re.M) and re.search(r"^HLT\s+1\s", r.stdout, re.M)
    r = kernel.run(["show", "--header", "--json", str(trace)])
    hdr = json.loads(r.stdout)
    assert hdr["api_version"] == 12
    assert hdr["guest_name"] == "hello.bin"
    assert hdr["caps"]["KVM_CAP_SYNC_REGS"] > 0
    assert hdr["kernel_release"] in kernel.version
    # The backend the trace names is the one the test harness names.
    backend = kvmhost.backend()[0] if kernel.native else \
        kernel.sh("test -d /sys/module/kvm_amd && echo svm || echo vmx").stdout.strip()
    assert hdr["kvm_backend"] == backend


def test_a_recorder_killed_with_sigkill_leaves_a_readable_prefix(kernel, tmp_path,
                                                                kvmtrace_bin):
    trace = tmp_path / "killed.zst"
    guest = GUESTS / "portloop.bin"
    kernel.sh(f"{kvmtrace_bin} record {guest} --guest-arg 100000000 --timeout 0 "
              f"-o {trace} >/dev/null 2>&1 & pid=$!; sleep 1.5; kill -9 $pid; wait $pid; true")
    r = kernel.run(["show", str(trace)])
    assert r.returncode == TRUNCATED, r.stderr
    m = re.search(r"trace truncated after event (\d+)", r.stderr)
    assert m and int(m.group(1)) > 100, r.stderr
    assert "KVM_RUN" in r.stdout


def test_replay_on_the_recording_kernel_is_identical(kernel, tmp_path):
    trace = record(kernel, tmp_path, "hello")
    r = kernel.run(["replay", str(trace)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 divergences" in r.stderr


def test_two_recordings_of_one_guest_diff_clean(kernel, tmp_path):
    a = record(kernel, tmp_path, "hello", name="a")
    b = record(kernel, tmp_path, "hello", name="b")
    r = kernel.run(["diff", str(a), str(b)])
    assert r.returncode == 0, r.stdout + r.stderr


def first_io_run(kernel, trace):
    r = kernel.run(["show", "--json", str(trace)])
    for e in map(json.loads, r.stdout.splitlines()):
        if e["event"] == "ioctl" and e["ioctl"]["request_name"] == "KVM_RUN":
            return e["index"]
    raise AssertionError("no KVM_RUN")


def test_one_changed_field_is_reported_at_that_event_and_field(kernel, tmp_path):
    a = record(kernel, tmp_path, "hello", name="a")
    b = tmp_path / "b.zst"
    index = first_io_run(kernel, a)
    # kt_run_out: 32 bytes of head, 256 of exit union, then the OUT data.
    assert kernel.sh(f"{REWRITE} {a} {b} --flip-out {index} 288").returncode == 0
    r = kernel.run(["diff", str(a), str(b)])
    assert r.returncode == 1
    assert f"@@ event {index} / {index}: vcpu0 ioctl(KVM_RUN) -> IO @@" in r.stdout
    assert '-  exit.io.data="H"' in r.stdout and '+  exit.io.data="I"' in r.stdout
    assert r.stdout.count("@@") == 2, r.stdout
    r = kernel.run(["replay", str(b)])
    assert r.returncode == 1
    assert f'event {index} (vcpu0 KVM_RUN): exit.io.data: "I" -> "H"' in r.stdout


def test_traces_of_different_lengths_align(kernel, tmp_path):
    a = record(kernel, tmp_path, "hello", name="a")
    b = tmp_path / "b.zst"
    index = first_io_run(kernel, a) + 4  # a later IO exit
    assert kernel.sh(f"{REWRITE} {a} {b} --drop {index}").returncode == 0
    r = kernel.run(["diff", str(a), str(b)])
    assert r.returncode == 1
    assert re.findall(r"^- event (\d+)", r.stdout, re.M) == [str(index)], r.stdout
    assert "+ event" not in r.stdout and "@@" not in r.stdout
    assert "0 events with 0 fields changed, 1 only in old, 0 only in new" in r.stderr


def test_truncated_and_corrupt_traces_fail_with_one_line(kernel, tmp_path):
    a = record(kernel, tmp_path, "hello", name="a")
    cut = tmp_path / "cut.zst"
    assert kernel.sh(f"{REWRITE} {a} {cut} --truncate-after 20").returncode == 0
    for cmd in (["replay", str(cut)], ["diff", str(a), str(cut)]):
        r = kernel.run(cmd)
        assert r.returncode == 2, (cmd, r.stderr)
        assert "trace truncated" in r.stderr.strip().splitlines()[-1]
    r = kernel.run(["show", str(cut)])
    assert r.returncode == TRUNCATED
    bad = tmp_path / "bad.zst"
    data = bytearray(a.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(data)
    for cmd in (["replay", str(bad)], ["diff", str(a), str(bad)]):
        r = kernel.run(cmd)
        assert r.returncode == 2, (cmd, r.stderr)
        assert len(r.stderr.strip().splitlines()) <= 2


def corpus():
    return sorted(p.stem for p in (REPO / "guests").glob("*.json"))


def exit_counts(stats_text):
    """The exit-reason table of `show --stats`: {"IO": 14, ...}."""
    counts, in_exits = {}, False
    for line in stats_text.splitlines():
        if line.startswith("exit reason"):
            in_exits = True
        elif in_exits and line.split():
            name, count = line.split()[:2]
            counts[name] = int(count)
    return counts


@pytest.mark.parametrize("guest", corpus())
def test_every_corpus_trace_matches_its_expectation_and_replays(kernel, tmp_path, guest,
                                                                 kernel_behaviour):
    exp = expectations.load(guest)
    trace = tmp_path / f"{guest}.zst"
    r = kernel.run(["record", str(GUESTS / f"{guest}.bin"), *exp["args"], "-o", str(trace)])
    assert f"trace written to {trace}" in r.stderr, r.stderr
    r = kernel.run(["show", "--stats", str(trace)])
    assert r.returncode == 0, r.stderr
    exits = exit_counts(r.stdout)
    kernel_behaviour(kernel, guest, "exit counts in the trace",
                     [f"exits: {exp['exits']} -> {exits}"] if exits != exp["exits"] else [])
    r = kernel.run(["replay", str(trace)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 divergences, 0 environment differences" in r.stderr


@pytest.mark.parametrize("sig", ["INT", "TERM"])
def test_sigint_and_sigterm_finish_the_trace(kernel, tmp_path, sig, kvmtrace_bin):
    trace = tmp_path / "stopped.zst"
    r = kernel.sh(f"{kvmtrace_bin} record {GUESTS / 'portloop.bin'} --guest-arg 100000000 "
                  f"--timeout 0 -o {trace} & pid=$!; sleep 1.5; kill -{sig} $pid; wait $pid")
    assert r.returncode == 18, r.stderr
    assert f"trace written to {trace}" in r.stderr
    assert "interrupted by SIG" + sig in r.stderr
    r = kernel.run(["show", str(trace)])
    assert r.returncode == 0, r.stderr  # read to the END record: nothing lost
    assert "reason=interrupted" in r.stdout
