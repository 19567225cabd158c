"""Inputs must be regular files (common/file.h, kt_open_regular): a guest
image or trace that is a FIFO, a socket, a device or a directory is refused
with one line naming the file and what it is, status 4 for run, record and
show, 2 for replay and diff.  Regression: a FIFO made `run` and `show` hang
for good with nothing on stderr (the open blocked waiting for a writer).
No KVM is needed: inputs are checked before /dev/kvm is opened."""
import os
import pathlib
import re
import socket
import subprocess

import pytest

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
GOLDEN = REPO / "traces" / "6.1" / "hello.zst"

BAD_INPUT, TROUBLE = 4, 2
STATUS = {"run": BAD_INPUT, "record": BAD_INPUT, "show": BAD_INPUT, "replay": TROUBLE,
          "diff": TROUBLE}


def argv_with(command, path, tmp_path):
    if command == "record":
        return [command, path, "-o", tmp_path / "out.zst"]
    if command == "diff":
        return [command, GOLDEN, path]
    return [command, path]


def kvmtrace(argv):
    # A hang is the bug: 10 s is far more than any refusal takes.
    return subprocess.run([str(KVMTRACE), *map(str, argv)], capture_output=True, text=True,
                          timeout=10, stdin=subprocess.DEVNULL)


def check_refused(command, path, what, tmp_path):
    r = kvmtrace(argv_with(command, path, tmp_path))
    assert r.returncode == STATUS[command], (command, r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert lines == [f"kvmtrace: {path}: is {what}, not a regular file"], r.stderr


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", list(STATUS))
def test_a_fifo_is_refused_at_once(tmp_path, fifo, command):
    check_refused(command, fifo, "a FIFO", tmp_path)


@pytest.mark.parametrize("command", ["run", "show", "replay"])
def test_a_fifo_with_a_writer_is_refused_too(tmp_path, fifo, command):
    # Someone at the other end does not make a pipe a file.
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        os.write(fd, GOLDEN.read_bytes()[:4096])
        check_refused(command, fifo, "a FIFO", tmp_path)
    finally:
        os.close(fd)


@pytest.mark.parametrize("command", list(STATUS))
def test_a_socket_is_refused(tmp_path, command):
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(str(path))
        s.listen(1)
        check_refused(command, path, "a socket", tmp_path)
    finally:
        s.close()


@pytest.mark.parametrize("command", list(STATUS))
def test_a_character_device_is_refused(tmp_path, command):
    # /dev/zero would feed a reader forever; /dev/null reads as empty.
    for dev in ("/dev/zero", "/dev/null"):
        check_refused(command, dev, "a character device", tmp_path)


@pytest.mark.parametrize("command", ["show", "replay", "diff"])
def test_a_directory_as_trace_is_refused(tmp_path, command):
    check_refused(command, tmp_path, "a directory", tmp_path)


def test_a_symlink_to_a_regular_file_is_fine(tmp_path):
    link = tmp_path / "link.zst"
    link.symlink_to(GOLDEN)
    r = kvmtrace(["show", "--header", link])
    assert r.returncode == 0, r.stderr
    assert re.search(r"guest_name=hello\.bin", r.stdout), r.stdout
