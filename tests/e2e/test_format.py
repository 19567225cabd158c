"""Trace format 2.0 end to end (docs/trace-format.md): what kvmtrace writes
now, the 1.0 and 1.1 goldens it still reads, frames cut or damaged anywhere, and
what a full disk does to `record`.

The write-error outcome, as documented in README.md and the format doc: the
first failed write stops the guest at its next exit (status 20), the run
says "guest stopped: the trace could not be written (ERROR)", then
"PATH: writing the trace failed: ERROR; it keeps its first N events, in
whole frames", and `show` reads exactly those N events, then reports the
trace truncated (status 16)."""
import json
import os
import pathlib
import re
import shutil
import struct
import subprocess

import pytest

import targets
import tracegen as tg

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
REWRITE = REPO / "build" / "kt-rewrite"
GUESTS = REPO / "build" / "guests"
GOLDENS = sorted((REPO / "traces").glob("*/*.zst"))

TRUNCATED, BAD_INPUT, INTERNAL = 16, 4, 20


def kvmtrace(*args, **kw):
    return subprocess.run([str(KVMTRACE), *map(str, args)], capture_output=True, text=True,
                          timeout=kw.pop("timeout", 120), **kw)


def version(path):
    """(major, minor) from the file magic in the first frame."""
    first = tg.frames(pathlib.Path(path).read_bytes())[0][2]
    assert first[:8] == b"KVMTRACE"
    return struct.unpack_from("<HH", first, 8)


def event_frames(data):
    """[(end offset, events in the frame)] of a version 2 trace's frames."""
    out = []
    for i, (off, n, content) in enumerate(tg.frames(data)):
        records = 0 if i == 0 else struct.unpack_from("<I", content, 4)[0]
        out.append((off + n, records))
    return out


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_golden_of_format_1_reads_and_rewrites_to_the_same_events(tmp_path, golden):
    assert version(golden) in ((1, 0), (1, 1))
    copy = tmp_path / "copy.zst"
    r = subprocess.run([str(REWRITE), str(golden), str(copy), "--drop", "999999999"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert version(copy)[0] == 2
    a, b = kvmtrace("show", "--json", golden), kvmtrace("show", "--json", copy)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout
    r = kvmtrace("diff", golden, copy)
    assert r.returncode == 0, r.stdout + r.stderr


def record(kvm, tmp_path, guest, *args, name=None):
    out = tmp_path / f"{name or guest}.zst"
    r = kvm.run(["record", GUESTS / f"{guest}.bin", "-o", out, "--force", *args])
    assert r.returncode == 0, r.stderr
    return out


def test_record_writes_format_2_0(kvm, tmp_path):
    assert version(record(kvm, tmp_path, "hello")) == (2, 0)


def shown_events(r):
    """Events `show --json` printed."""
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_a_cut_at_every_frame_boundary_reads_its_whole_frames(kvm, tmp_path):
    trace = record(kvm, tmp_path, "portloop", "--guest-arg", "12000")
    data = trace.read_bytes()
    full = shown_events(kvmtrace("show", "--json", trace))
    frames = event_frames(data)
    assert len(frames) >= 5
    cut = tmp_path / "cut.zst"
    complete = 0
    for i, (end, records) in enumerate(frames[:-1]):
        complete += records
        for at in (end, end + 1 + (end * 7919) % (frames[i + 1][0] - end - 1)):
            cut.write_bytes(data[:at])
            r = kvmtrace("show", "--json", cut)
            assert r.returncode == TRUNCATED, r.stderr
            assert f"trace truncated after event {complete}" in r.stderr
            assert shown_events(r) == full[:complete]


def test_a_damaged_byte_anywhere_is_an_error_never_other_data(kvm, tmp_path):
    trace = record(kvm, tmp_path, "portloop", "--guest-arg", "3000")
    data = bytearray(trace.read_bytes())
    full = shown_events(kvmtrace("show", "--json", trace))
    bad = tmp_path / "bad.zst"
    for k in range(40):
        damaged = bytearray(data)
        at = (k * 104729 + 17) % len(data)
        damaged[at] ^= 1 << (k % 8)
        bad.write_bytes(bytes(damaged))
        r = kvmtrace("show", "--json", bad)
        got = shown_events(r)
        if r.returncode == 0:
            # Some bits of a zstd frame change nothing that is decoded (the
            # header's unused bit, table entries no symbol uses): the same
            # bytes come out, checksum and all, so the same events.
            assert got == full, at
            continue
        assert r.returncode in (BAD_INPUT, TRUNCATED), (at, r.returncode, r.stderr)
        assert got == full[:len(got)], at


def _mount_tmpfs(where, size):
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("disk", ["tmpfs", "rlimit"])
def test_a_full_disk_stops_the_guest_and_keeps_every_whole_frame(kvm, tmp_path, disk,
                                                                  record_property):
    """A full disk: a 256 KiB tmpfs where it can be mounted (ENOSPC), else,
    like the rlimit case, a 256 KiB file-size limit (EFBIG).  The guest
    would run forever (--timeout 0)."""
    where, err_text = tmp_path, "File too large"
    if disk == "tmpfs" and kvm.native and _mount_tmpfs(tmp_path / "small", "256k"):
        where, err_text = tmp_path / "small", "No space left on device"
    record_property("full_disk", f"{disk}: {err_text}")
    trace = where / "full.zst"
    limit = "" if where != tmp_path else "ulimit -f 512; "
    try:
        r = kvm.sh(f"trap '' XFSZ; {limit}exec {KVMTRACE} record {GUESTS / 'portloop.bin'} "
                   f"--guest-arg 1000000000 --timeout 0 -o {trace}", timeout=60)
        assert r.returncode == INTERNAL, r.stderr
        lines = r.stderr.strip().splitlines()
        assert lines[-2] == f"kvmtrace: guest stopped: the trace could not be written ({err_text})"
        m = re.fullmatch(rf"kvmtrace: {re.escape(str(trace))}: writing the trace failed: "
                         rf"{err_text}; it keeps its first (\d+) events, in whole frames "
                         r"\(show reads them as a truncated trace\)", lines[-1])
        assert m, lines[-1]
        kept = int(m.group(1))
        assert kept > 1000
        r = kvmtrace("show", "--stats", trace)
        assert r.returncode == TRUNCATED
        assert r.stderr.strip().endswith(f"trace truncated after event {kept}")
    finally:
        if where != tmp_path:
            subprocess.run(["umount", str(where)])


def test_recording_to_dev_full_fails_naming_it(kvm):
    r = kvm.run(["record", GUESTS / "hello.bin", "-o", "/dev/full", "--force"])
    assert r.returncode == INTERNAL
    assert r.stderr.strip().splitlines()[-1].startswith(
        "kvmtrace: /dev/full: writing the trace failed: No space left on device")


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_record_into_a_directory_says_so(kvm, tmp_path, force):
    r = kvm.run(["record", GUESTS / "hello.bin", "-o", tmp_path, *force])
    assert r.returncode == BAD_INPUT
    assert r.stderr.strip() == f"kvmtrace: {tmp_path}: is a directory, not a trace file"
