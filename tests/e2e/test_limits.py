"""Hostile traces (issue 11): every length, count and size a trace declares
is checked against a documented limit (docs/trace-format.md, "Limits")
before memory is allocated for it, so `show`, `diff` and `replay` hold a
bounded amount of data whatever the trace, and replay refuses absurd asks
before its first ioctl.  The traces are made by hand (tracegen.py): our
writer never writes them.

Peak RSS is measured per command with os.wait4 (see RUNNER).  Under the ASan build
(KVMTRACE_BIN=build/san/kvmtrace) its allocator and shadow memory make RSS
meaningless, so there only the statuses and messages are checked."""
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

import tracegen as tg

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAIN_BIN = REPO / "build" / "kvmtrace"
KVMTRACE = pathlib.Path(os.environ.get("KVMTRACE_BIN", PLAIN_BIN))
SANITIZED = KVMTRACE.resolve() != PLAIN_BIN.resolve()
RSS_LIMIT_KIB = 64 * 1024

SAME, TROUBLE, BAD_INPUT = 0, 2, 4


# The command is started by a small Python of its own, which reaps it with
# wait4 and prints its status and peak RSS.  Started straight from pytest,
# the child's ru_maxrss would include pytest's own: a vfork()ed child keeps
# the high-water mark of the memory it shared with its parent until exec,
# and pytest may be hundreds of MiB by the time these tests run.
RUNNER = """
import os, sys, time
fd, timeout, cmd = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
pid = os.posix_spawn(cmd[0], cmd, os.environ)
deadline = time.monotonic() + timeout
while True:
    got, status, usage = os.wait4(pid, os.WNOHANG)
    if got:
        break
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        os.wait4(pid, 0)
        sys.exit(99)
    time.sleep(0.01)
os.write(fd, f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}".encode())
"""


def run(*args, timeout=120):
    """(returncode, stdout, stderr, peak RSS in KiB) of one kvmtrace run."""
    r, w = os.pipe()
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            subprocess.run([sys.executable, "-c", RUNNER, str(w), str(timeout),
                            str(KVMTRACE), *map(str, args)],
                           stdout=out, stderr=err, pass_fds=(w,))
            os.close(w)
            w = -1
            result = os.read(r, 100).decode()
            if not result:
                raise subprocess.TimeoutExpired(args, timeout)
            status, rss = map(int, result.split())
            out.seek(0)
            err.seek(0)
            return (status, out.read().decode(errors="replace"),
                    err.read().decode(errors="replace"), rss)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def bounded(rss):
    if not SANITIZED:
        assert rss < RSS_LIMIT_KIB, f"peak RSS {rss / 1024:.1f} MiB"


def one_line(err, *words):
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def bomb(path, version, records):
    """tracegen.bomb() made in a process of its own (see tracegen.py)."""
    subprocess.run([sys.executable, str(pathlib.Path(tg.__file__)), "bomb", str(version),
                    str(records), str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def small_trace(tmp_path_factory):
    """A plain, tiny, valid trace to diff the bombs against."""
    p = tmp_path_factory.mktemp("limits") / "small.zst"
    p.write_bytes(tg.trace_v2([[tg.record(tg.REC_MEMWRITE, tg.memwrite_body(0, b"hi")),
                                tg.record(tg.REC_END, tg.end_body(1))]]))
    return p


@pytest.mark.parametrize("version", [1, 2])
def test_the_56k_diff_bomb_is_refused_in_bounded_memory(tmp_path, small_trace, version):
    """100 x 15 MiB of zeros: 1.5 GB from about 56 KB.  Past 256 MiB a
    trace may not expand more than 1024-fold (KT_MAX_EXPANSION): refused,
    after holding one frame at a time."""
    b = bomb(tmp_path / "bomb.zst", version, 100)
    assert b.stat().st_size < 80 * 1024, b.stat().st_size
    status, _, err, rss = run("show", b)
    assert status == BAD_INPUT
    one_line(err, str(b), "Limits")
    bounded(rss)
    for args in (("diff", b, b), ("diff", small_trace, b), ("diff", b, small_trace)):
        status, _, err, rss = run(*args)
        assert status == TROUBLE, err
        one_line(err, str(b), "Limits")
        bounded(rss)
    status, _, err, rss = run("replay", b)
    assert status == TROUBLE
    one_line(err, str(b))
    bounded(rss)


@pytest.mark.parametrize("version", [1, 2])
def test_a_bomb_within_the_expansion_limit_is_read_in_bounded_memory(tmp_path, small_trace,
                                                                      version):
    """15 x 15 MiB: under the expansion limit, so read to its end, one frame
    (and for diff, the two events of a differing pair) at a time."""
    b = bomb(tmp_path / "bomb.zst", version, 15)
    status, out, err, rss = run("show", b)
    assert status == 0, err
    assert out.count("event=memwrite") == 15
    bounded(rss)
    status, _, err, rss = run("diff", b, b)
    assert status == SAME, err
    bounded(rss)
    status, out, err, rss = run("diff", small_trace, b)
    assert status == 1, err
    assert "15 events with" in err or "14 only in new" in err, err
    bounded(rss)


def test_too_many_header_fields_are_refused(tmp_path):
    p = tmp_path / "fields.zst"
    p.write_bytes(tg.trace_v2([[tg.record(tg.REC_END, tg.end_body(0))]],
                              header=tg.header_tlv([(999, b"")] * 5000)))
    status, _, err, _ = run("show", p)
    assert status == BAD_INPUT
    one_line(err, str(p), "Limits")


@pytest.mark.parametrize("version", [1, 2])
def test_an_ioctl_with_more_than_a_mebibyte_of_arguments_is_refused(tmp_path, version):
    body = tg.ioctl_body(tg.KVM_RUN, role=tg.FD_VCPU, in_bytes=bytes((1 << 20) + 8))
    p = tmp_path / "big.zst"
    p.write_bytes((tg.trace_v1 if version == 1 else tg.trace_v2)(
        [[tg.record(tg.REC_IOCTL, body), tg.record(tg.REC_END, tg.end_body(1))]]))
    status, _, err, _ = run("show", p)
    assert status == BAD_INPUT
    one_line(err, str(p), "Limits")


def region(slot, size, gpa=0):
    return tg.struct.pack("<IIQQQ", slot, 0, gpa, size, 0x7f0000000000)


ABSURD = [
    ("1 TiB of guest memory", tg.KVM_SET_USER_MEMORY_REGION, region(0, 1 << 40),
     ["MiB of guest memory", "before issuing anything"]),
    ("memory slot 200", tg.KVM_SET_USER_MEMORY_REGION, region(200, 1 << 20),
     ["memory slot 200", "before issuing anything"]),
    ("vCPU 1000", tg.KVM_CREATE_VCPU, tg.struct.pack("<Q", 1000),
     ["vCPU 1000", "before issuing anything"]),
    # The sandbox's check of the requests says it (replayer/replay_inputs.c).
    ("an unknown ioctl", 0xDEADBEEF, b"", ["event 51", "0xdeadbeef", "not replaying it"]),
]


@pytest.mark.parametrize("what,request_,in_bytes,says", ABSURD, ids=[a[0] for a in ABSURD])
def test_replay_refuses_absurd_asks_before_the_first_ioctl(tmp_path, what, request_, in_bytes,
                                                           says):
    """The ask comes late in the trace, after ioctls replay could issue: the
    whole trace is checked first, so none is.  (No /dev/kvm is needed: it
    is not even opened.)"""
    recs = [tg.record(tg.REC_IOCTL, tg.ioctl_body(tg.KVM_CREATE_VM, role=tg.FD_SYSTEM, ret=3))]
    recs += [tg.record(tg.REC_MEMWRITE, tg.memwrite_body(0, b"x"))] * 50
    recs.append(tg.record(tg.REC_IOCTL, tg.ioctl_body(request_, role=tg.FD_VM,
                                                      in_bytes=in_bytes)))
    recs.append(tg.record(tg.REC_END, tg.end_body(len(recs))))
    p = tmp_path / "absurd.zst"
    p.write_bytes(tg.trace_v2([recs]))
    status, _, err, _ = run("replay", p, "--kvm-device", tmp_path / "no-such-kvm")
    assert status == TROUBLE
    one_line(err, str(p), *says)


def test_replay_refuses_a_header_asking_for_too_many_vcpus(tmp_path):
    config = tg.struct.pack("<IIQQQIIQ", 0, 1000, 2 << 20, 0, 0, 0, 0, 0)
    p = tmp_path / "vcpus.zst"
    p.write_bytes(tg.trace_v2([[tg.record(tg.REC_END, tg.end_body(0))]],
                              header=tg.header_tlv([(10, config)])))
    status, _, err, _ = run("replay", p, "--kvm-device", tmp_path / "no-such-kvm")
    assert status == TROUBLE
    one_line(err, str(p), "1000 vCPUs", "before issuing anything")


def test_replay_refuses_an_odd_digest_page_size(tmp_path):
    digest = tg.struct.pack("<QIIII", 0, 3, 1, 0, 0) + bytes(8)
    p = tmp_path / "digest.zst"
    p.write_bytes(tg.trace_v2([[tg.record(tg.REC_DIGEST, digest),
                                tg.record(tg.REC_END, tg.end_body(1))]]))
    status, _, err, _ = run("replay", p, "--kvm-device", tmp_path / "no-such-kvm")
    assert status == TROUBLE
    one_line(err, str(p), "pages of 3 bytes")
