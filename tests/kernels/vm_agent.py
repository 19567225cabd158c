"""The command agent inside a kvmvm guest: PID 1 after vm_init.sh, running
under the host's python3 in the host tree (chroot).  It talks to kvmvm.py
over the virtio-serial port named org.kvmtrace.ctl, one command at a time.

Protocol, both ways a JSON header line followed by raw bytes it announces:
  agent -> host  {"hello": 1, "release": uname -r, "kvm": "" or why not, "init_log"}
  host -> agent  {"argv": [...], "cwd", "env", "timeout", "stdin_len"} + stdin
  agent -> host  {"returncode", "timed_out", "error", "stdout_len", "stderr_len"}
                 + stdout + stderr
Each command runs in its own session; on timeout, and when it ends, its
process group is killed, so nothing it started outlives it.
"""
import fcntl
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

PORT_NAME = "org.kvmtrace.ctl"
KVM_GET_API_VERSION = 0xAE00  # _IO(KVMIO, 0x00)
KVM_CREATE_VM = 0xAE01        # _IO(KVMIO, 0x01), arg: machine type 0
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "KVMVM_GUEST": "1",
}
# Output still arriving this long after a timed-out command was killed
# belongs to something that left its process group; stop waiting for it.
DRAIN_SECONDS = 5
GROUP_EXIT_SECONDS = 2
REPO = os.environ.get("KVMVM_REPO", "/nonexistent")


def find_port():
    for entry in pathlib.Path("/sys/class/virtio-ports").iterdir():
        name = entry / "name"
        if name.exists() and name.read_text().strip() == PORT_NAME:
            return "/dev/" + entry.name
    raise SystemExit(f"kvmvm-agent: no virtio port named {PORT_NAME}")


def kvm_problem(path="/dev/kvm"):
    """'' when path is a usable KVM, else why not.  Usable means what
    kvmtrace needs: KVM_GET_API_VERSION answers 12 and KVM_CREATE_VM gives a
    VM (a device that merely opens, like /dev/null, is not KVM).  The host
    side (kvmhost.py) imports this same function."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return f"open {path}: {e.strerror}"
    try:
        try:
            version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        except OSError as e:
            return f"{path}: KVM_GET_API_VERSION: {e.strerror}"
        if version != 12:
            return f"{path}: KVM API version {version}, want 12"
        try:
            os.close(fcntl.ioctl(fd, KVM_CREATE_VM, 0))
        except OSError as e:
            return f"{path}: KVM_CREATE_VM: {e.strerror}"
        return ""
    finally:
        os.close(fd)


class Channel:
    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def _fill(self):
        # A port reads as end-of-file while the host side is not connected;
        # the host connects before we boot, so this only bridges a race.
        while True:
            chunk = os.read(self.fd, 1 << 16)
            if chunk:
                self.buf += chunk
                return
            time.sleep(0.02)

    def line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def send(self, header, *payloads):
        data = json.dumps(header).encode() + b"\n" + b"".join(payloads)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]


def reap_orphans():
    # As PID 1 we inherit whatever the commands left behind.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_group(pgid):
    """SIGKILL the group and reap it, so the next command sees none of it
    (not even zombies).  A member stuck in the kernel may outlast this."""
    deadline = time.monotonic() + GROUP_EXIT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        reap_orphans()
        time.sleep(0.005)


_found = {}


def program_path(name, path_var):
    """name resolved through PATH, remembered when it is on the read-only
    host root: each miss along PATH costs a 9p round trip to the host."""
    if "/" in name:
        return name
    key = (name, path_var)
    if key not in _found:
        found = shutil.which(name, path=path_var)
        if found is None or found.startswith(REPO + "/"):
            return name
        _found[key] = found
    return _found[key]


def run(req, stdin):
    env = dict(BASE_ENV)
    env.update(req.get("env") or {})
    argv = [os.fsencode(a) for a in req["argv"]]
    try:
        proc = subprocess.Popen(
            argv, executable=program_path(req["argv"][0], env.get("PATH", "")),
            cwd=req.get("cwd"), env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        err = {"errno": e.errno, "strerror": e.strerror,
               "filename": os.fsdecode(e.filename) if e.filename is not None else None}
        return {"error": err, "returncode": None, "timed_out": False}, b"", b""
    timed_out = False
    try:
        out, err = proc.communicate(stdin or None, timeout=req.get("timeout"))
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        try:
            out, err = proc.communicate(timeout=DRAIN_SECONDS)
        except subprocess.TimeoutExpired:
            # Something outside the group holds the pipes open: give up on
            # the output rather than wait for it forever.
            proc.kill()
            proc.wait()
            out, err = b"", b""
    kill_group(proc.pid)
    return {"error": None, "returncode": proc.returncode, "timed_out": timed_out}, out, err


def main():
    chan = Channel(os.open(find_port(), os.O_RDWR))
    init_log = pathlib.Path("/run/kvmvm-init.log")
    chan.send({"hello": 1, "release": os.uname().release, "kvm": kvm_problem(),
               "init_log": init_log.read_text() if init_log.exists() else ""})
    while True:
        req = json.loads(chan.line())
        stdin = chan.exact(req.get("stdin_len", 0))
        header, out, err = run(req, stdin)
        header.update(stdout_len=len(out), stderr_len=len(err))
        chan.send(header, out, err)


if __name__ == "__main__":
    main()
