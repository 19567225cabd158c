"""Regression: replaying a multi-vCPU trace leaked 4 KiB per vCPU thread
(LeakSanitizer: the argument scratch of each replay lane, allocated from
lane_main and never freed).  The replay lanes now own their scratch
buffers (replayer/replay.c, struct lane) and free them with the lane.

Always the ASan+UBSan build (build/san/kvmtrace, made by
`make SANITIZE=1 all`, which make test builds before the end-to-end tests),
with LeakSanitizer on, in the sandbox as a replay normally runs: LSan's
leak check at exit must work inside it too."""
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = REPO / "build" / "kvmtrace"
SANITIZED = REPO / "build" / "san" / "kvmtrace"
GUESTS = REPO / "build" / "guests"

# verbosity=2: LeakSanitizer's tracer says when it attaches to and detaches
# from each thread at exit, which shows the leak check really ran (inside
# the sandbox) rather than passing for want of running.
LSAN = {"ASAN_OPTIONS": "detect_leaks=1:verbosity=2"}


@pytest.fixture(scope="module")
def sanitized():
    if not SANITIZED.exists():
        pytest.fail(f"{SANITIZED} is missing: `make SANITIZE=1 all` builds it "
                    "(make test does, before the end-to-end tests)", pytrace=False)
    return SANITIZED


@pytest.mark.parametrize("vcpus", [2, 4])
def test_replaying_a_multi_vcpu_trace_leaks_nothing(kvm, tmp_path, sanitized, vcpus):
    trace = tmp_path / "smp.zst"
    r = kvm.exec([KVMTRACE, "record", GUESTS / "smp.bin", "--vcpus", str(vcpus), "-o", trace])
    assert r.returncode == 0, r.stderr
    for extra in ([], ["--runs", "2"]):
        r = kvm.exec([sanitized, "replay", trace, *extra], env=LSAN)
        assert "LeakSanitizer" not in r.stderr, r.stderr
        assert "ERROR: AddressSanitizer" not in r.stderr, r.stderr
        assert "forbidden" not in r.stderr, r.stderr
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"==\d+==Attached to thread \d+", r.stderr), "no leak check ran"
        assert re.search(r"==\d+==Detached from thread \d+", r.stderr), "no leak check ran"
