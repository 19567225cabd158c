#!/usr/bin/python3
"""Boot a Debian kernel under QEMU and run commands in it, with /dev/kvm.

QEMU runs it with `-accel kvm` where a probe showed that works (accel.py),
else under TCG, where `-cpu max` emulates AMD SVM, kvm_amd loads in the guest
and /dev/kvm works there.  The guest sees the host's / read-only and the repo
read-write at the same absolute path, so build/kvmtrace runs there as it is.
Boot once, run many commands:

    vm = KernelVM("6.12").start()
    r = vm.run(["build/kvmtrace", "run", "guest.bin"], timeout=30)
    r.returncode, r.stdout, r.stderr          # exact bytes (text=True: str)
    vm.kernel_version                          # package, version, uname -r
    vm.describe()                              # that, boot time, accel and why
    vm.close()

CLI:
    kvmvm.py run [--kernel SERIES|auto] [--kernel-image PATH --modules DIR]
                 [--timeout S] [--cwd DIR] [--env K=V] -- CMD ARGS...
    kvmvm.py list
    kvmvm.py prepare [--kernel SERIES|all]
`run` exits with the command's status (128+N for signal N, 124 when its
--timeout hit, 126/127 when it could not be executed, 125 when the kernel
could not be prepared or booted) and prints one `kernel: ...` line to stderr:
the kernel, and for a QEMU kernel the accelerator and why it was chosen.
Environment: KVMTRACE_QEMU (the QEMU binary), KVMTRACE_ACCEL=kvm|tcg (force
the accelerator), KVMTRACE_BOOT_TIMEOUT, KVMTRACE_VM_MEM, KVMTRACE_VM_SMP.
"""
import argparse
import atexit
import contextlib
import ctypes
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref

import accel
import initramfs
import kernel_cache
import kvmhost
from kernel_cache import KernelError

REPO = pathlib.Path(__file__).resolve().parents[2]
QEMU = os.environ.get("KVMTRACE_QEMU", "qemu-system-x86_64")
PORT_NAME = "org.kvmtrace.ctl"
BOOT_TIMEOUT = float(os.environ.get("KVMTRACE_BOOT_TIMEOUT", "300"))
# A kernel boots in seconds under a working -accel kvm; a probe that takes
# longer has shown that kvm does not serve (TCG takes about 8 s here).
PROBE_TIMEOUT = float(os.environ.get("KVMTRACE_ACCEL_PROBE_TIMEOUT", "60"))
# A command's reply may lag its own timeout by this much (a slow emulated
# guest draining output) before the VM counts as hung.
REPLY_GRACE = 60.0
PR_SET_PDEATHSIG = 1
RUNNER_FAILED, TIMED_OUT = 125, 124


class VMError(Exception):
    """The VM could not boot, or stopped answering; the message says why."""


kvm_usable = kvmhost.kvm_usable


def series_names():
    return [name for name, _ in kernel_cache.read_series()]


def _die_with_parent():
    # Runs in the QEMU child: its own process group (killed as one), and
    # SIGKILL when we die without running atexit (SIGKILL, SIGTERM).
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


_live_vms = weakref.WeakSet()


@atexit.register
def _close_all():
    for vm in list(_live_vms):
        vm.close()


class _Channel:
    """The host end of the control socket: JSON header lines and raw bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self, deadline):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
        else:
            self.sock.settimeout(None)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError from None
        if not chunk:
            raise EOFError
        self.buf += chunk

    def header(self, deadline):
        while b"\n" not in self.buf:
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def send(self, header, payload=b""):
        self.sock.settimeout(None)
        self.sock.sendall(json.dumps(header).encode() + b"\n" + payload)


def decode_output(data):
    """A command's output bytes as str, every byte kept (surrogateescape)."""
    return data.decode("utf-8", "surrogateescape")


class KernelVM:
    """One booted guest kernel.  series names a kernels.conf line; or give
    kernel_image and modules (a lib/modules/RELEASE dir) for your own."""

    def __init__(self, series=None, *, kernel_image=None, modules=None,
                 share=REPO, mem=None, smp=None, boot_timeout=BOOT_TIMEOUT, log=None,
                 qemu=None, accel=None):
        if series is None and kernel_image is None:
            series = series_names()[0]
        if (kernel_image is None) != (modules is None):
            raise ValueError("kernel_image and modules go together")
        self.series = series
        self.kernel_image = kernel_image
        self.modules = modules
        self.share = pathlib.Path(share).resolve()
        self.mem = mem or os.environ.get("KVMTRACE_VM_MEM", "1G")
        # One vCPU by default: with two, the 6.12 kernel under TCG was seen to
        # oops ("int3" in __schedule) while patching its own code.
        self.smp = int(smp or os.environ.get("KVMTRACE_VM_SMP", "1"))
        self.boot_timeout = boot_timeout
        self.log = log
        self.qemu = qemu or QEMU
        # An accel.Accel; None: decided at start (accel.choose).
        self.accel = accel
        self.failure = None  # one line: why the last start failed
        self.kernel = None
        self.release = None
        self.boot_seconds = None
        self.proc = None
        self.chan = None
        self.tmpdir = None
        self.lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------

    def prepare(self):
        """Fetch and unpack the kernel, build its initramfs; no boot."""
        if self.kernel_image is not None:
            self.kernel = kernel_cache.prepare_custom(self.kernel_image, self.modules)
        else:
            self.kernel = kernel_cache.prepare_series(self.series, log=self.log)
        return initramfs.build(self.kernel)

    def _probe_kvm(self):
        """'' when this kernel boots under -accel kvm with a working
        /dev/kvm inside, else why not (one line)."""
        probe = KernelVM(self.series, kernel_image=self.kernel_image, modules=self.modules,
                         share=self.share, boot_timeout=min(self.boot_timeout, PROBE_TIMEOUT),
                         log=self.log, qemu=self.qemu, accel=accel.Accel("kvm", "probe"))
        try:
            probe.start()
            return ""
        except VMError:
            return probe.failure
        finally:
            probe.close()

    def decide_accel(self):
        """The accelerator this VM boots with (accel.choose), and why."""
        if self.kernel is None:
            self.prepare()
        if self.accel is None:
            try:
                self.accel = accel.choose(self.kernel.describe(), self.qemu, self._probe_kvm)
            except accel.AccelError as e:
                raise VMError(str(e)) from None
        return self.accel

    def _accel_option(self):
        # Several vCPUs under multi-threaded TCG were seen to hang the guest
        # (6.1: soft lockups on both CPUs right after boot, now and then) or
        # oops it (6.12); one thread running them in turn is steady, and
        # faster on a busy 2-core host.
        if self.accel.name == "tcg" and self.smp > 1:
            return "tcg,thread=single"
        return self.accel.name

    def _qemu_argv(self, initrd, sock, console):
        fs = "security_model=none,multidevs=remap"
        return [
            self.qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-accel", self._accel_option(), "-cpu", "max", "-smp", str(self.smp),
            "-m", self.mem,
            "-kernel", str(self.kernel.image), "-initrd", str(initrd),
            "-append", f"console=ttyS0 panic=-1 quiet mitigations=off "
                       f"kvmtrace.repo={self.share}",
            "-serial", f"file:{console}",
            "-fsdev", f"local,id=hostroot,path=/,readonly=on,{fs}",
            "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
            "-fsdev", f"local,id=repo,path={self.share},{fs}",
            "-device", "virtio-9p-pci,fsdev=repo,mount_tag=repo",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=ctl,path={sock},server=on,wait=off",
            "-device", f"virtserialport,chardev=ctl,name={PORT_NAME}",
        ]

    def start(self):
        if self.proc is not None:
            return self
        if any(c.isspace() for c in str(self.share)) or "," in str(self.share):
            raise VMError(f"{self.share}: a shared path with blanks or commas cannot "
                          "go on the kernel command line / QEMU options")
        try:
            initrd = self.prepare()
        except KernelError as e:
            self.failure = str(e)
            raise VMError(str(e)) from None
        self.decide_accel()
        self.tmpdir = pathlib.Path(tempfile.mkdtemp(prefix="kvmvm-"))
        sock, console = self.tmpdir / "ctl.sock", self.tmpdir / "console.log"
        began = time.monotonic()
        try:
            with open(self.tmpdir / "qemu.log", "wb") as qemu_log:
                self.proc = subprocess.Popen(
                    self._qemu_argv(initrd, sock, console), stdin=subprocess.DEVNULL,
                    stdout=qemu_log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        except OSError as e:
            self.close()
            self.failure = f"cannot run {self.qemu}: {e.strerror}"
            raise VMError(self.failure) from None
        _live_vms.add(self)
        try:
            self.chan = _Channel(self._connect(sock, began + 30))
            hello = self.chan.header(began + self.boot_timeout)
        except (TimeoutError, EOFError, OSError) as e:
            why = "timed out" if isinstance(e, TimeoutError) else f"failed ({e!r})"
            msg = self._failure(f"boot {why} after {time.monotonic() - began:.1f}s")
            self.close()
            raise VMError(msg) from None
        self.boot_seconds = time.monotonic() - began
        self.release = hello["release"]
        problem = hello["kvm"]
        if not problem and self.release != self.kernel.release:
            problem = f"it reports uname -r {self.release}, expected {self.kernel.release}"
        if problem:
            self.failure = f"{self.kernel_version} booted, but {problem}"
            msg = f"{self.failure} ({self.accel.line()})"
            if hello["init_log"]:
                msg += "\ninit said:\n" + hello["init_log"]
            self.close()
            raise VMError(msg)
        return self

    def _connect(self, path, deadline):
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(path))
                return s
            except OSError:
                s.close()
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise EOFError("QEMU did not open its control socket") from None
                time.sleep(0.02)

    def _failure(self, what):
        """The whole story (several lines); self.failure gets one line."""
        name = self.kernel.describe() if self.kernel else self.series
        lines = [f"kernel {name}: {what} ({self.accel.line() if self.accel else 'no accel'})"]
        self.failure = what
        if self.proc is not None:
            # A QEMU that closed its socket is about to exit: get its status.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(1)
        if self.proc is not None and self.proc.poll() is not None:
            status = _status_words(self.proc.returncode)
            lines.append(f"QEMU {status}")
            said = self._first_qemu_error()
            self.failure = f"QEMU {status}" + (f": {said}" if said else "")
        for label, f in (("QEMU", "qemu.log"), ("console", "console.log")):
            p = self.tmpdir / f if self.tmpdir else None
            if p and p.exists():
                tail = p.read_text(errors="replace").splitlines()[-25:]
                if tail:
                    lines.append(f"--- {label} (last lines) ---")
                    lines += tail
        return "\n".join(lines)

    def _first_qemu_error(self):
        log = self.tmpdir / "qemu.log" if self.tmpdir else None
        if not log or not log.exists():
            return ""
        lines = [l.strip() for l in log.read_text(errors="replace").splitlines() if l.strip()]
        errors = [l for l in lines if "error" in l.lower()]
        return (errors or lines or [""])[0]

    def close(self):
        _live_vms.discard(self)
        if self.chan is not None:
            self.chan.sock.close()
            self.chan = None
        if self.proc is not None:
            for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, None)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            self.proc = None
        if self.tmpdir is not None:
            for f in self.tmpdir.iterdir():
                f.unlink()
            self.tmpdir.rmdir()
            self.tmpdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def kernel_version(self):
        """The exact kernel: package and version (or image path), uname -r."""
        if self.kernel is None:
            return f"series {self.series} (not prepared)"
        return f"{self.kernel.describe()} (uname -r {self.release or self.kernel.release})"

    def describe(self):
        """One line: the kernel, its boot time, the accelerator and why."""
        cpus = f" {self.smp} vCPUs" if self.smp > 1 else ""
        boot = f" boot {self.boot_seconds:.1f}s" if self.boot_seconds else ""
        how = ""
        if self.accel:
            single = self._accel_option().endswith("thread=single")
            how = f"; {self.accel.line()}" + (" (one TCG thread)" if single else "")
        return f"{self.kernel_version}{cpus}{boot}{how}"

    # --- commands ----------------------------------------------------------

    def run(self, cmd, timeout=120, cwd=None, env=None, input=None, text=False):
        """Run cmd (argv list, or a string for /bin/sh -c) in the guest.

        Returns subprocess.CompletedProcess with the exact exit status
        (negative: killed by that signal) and stdout/stderr apart.  Raises
        subprocess.TimeoutExpired (partial output attached) when the command
        outlived timeout seconds: it is killed, the VM stays usable.  env is
        merged over the guest's base environment; cwd defaults to ours."""
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else [os.fsdecode(a) for a in cmd]
        if isinstance(input, str):
            input = input.encode()
        req = {"argv": argv, "cwd": os.fsdecode(cwd or os.getcwd()),
               "env": {k: os.fsdecode(v) for k, v in (env or {}).items()},
               "timeout": timeout, "stdin_len": len(input or b"")}
        with self.lock:
            if self.chan is None:
                raise VMError(f"{self.kernel_version}: VM is not running")
            deadline = None if timeout is None else time.monotonic() + timeout + REPLY_GRACE
            try:
                self.chan.send(req, input or b"")
                reply = self.chan.header(deadline)
                out = self.chan.exact(reply["stdout_len"], deadline)
                err = self.chan.exact(reply["stderr_len"], deadline)
            except (TimeoutError, EOFError, OSError) as e:
                msg = self._failure(f"no reply to {argv!r} ({e!r}); VM stopped")
                self.close()
                raise VMError(msg) from None
        if reply["error"]:
            e = reply["error"]
            raise OSError(e["errno"], e["strerror"], e["filename"])
        if text:
            out, err = decode_output(out), decode_output(err)
        if reply["timed_out"]:
            raise subprocess.TimeoutExpired(cmd, timeout, output=out, stderr=err)
        return subprocess.CompletedProcess(cmd, reply["returncode"], out, err)


# --- CLI ----------------------------------------------------------------------

def _status_words(returncode):
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _exit_status(returncode):
    return 128 - returncode if returncode < 0 else returncode


def _run_native(args):
    env = dict(os.environ, **dict(args.env))
    try:
        r = subprocess.run(args.cmd, cwd=args.cwd, env=env, timeout=args.timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        print(f"kvmvm: {args.cmd[0]}: timed out after {args.timeout}s", file=sys.stderr)
        return TIMED_OUT
    finally:
        print(f"kernel: {kvmhost.describe()}", file=sys.stderr)
    return _exit_status(r.returncode)


def _run_in_vm(args):
    if args.kernel_image:
        vm = KernelVM(kernel_image=args.kernel_image, modules=args.modules,
                      log=lambda m: print(m, file=sys.stderr))
    else:
        vm = KernelVM(args.kernel, log=lambda m: print(m, file=sys.stderr))
    try:
        vm.start()
    except VMError as e:
        print(f"kvmvm: {e}", file=sys.stderr)
        return RUNNER_FAILED
    try:
        r = vm.run(args.cmd, timeout=args.timeout, cwd=args.cwd, env=dict(args.env))
        status = _exit_status(r.returncode)
    except subprocess.TimeoutExpired as e:
        r, status = e, TIMED_OUT
        print(f"kvmvm: {args.cmd[0]}: timed out after {args.timeout}s (killed)",
              file=sys.stderr)
    except OSError as e:
        print(f"kvmvm: {args.cmd[0]}: {e.strerror}", file=sys.stderr)
        r, status = None, 127 if isinstance(e, FileNotFoundError) else 126
    except VMError as e:
        print(f"kvmvm: {e}", file=sys.stderr)
        r, status = None, RUNNER_FAILED
    if r is not None:
        sys.stdout.buffer.write(r.stdout or b"")
        sys.stdout.flush()
        sys.stderr.buffer.write(r.stderr or b"")
    print(f"kernel: {vm.describe()}", file=sys.stderr)
    vm.close()
    return status


def cmd_run(args):
    if not args.cmd:
        print("kvmvm run: no command given (kvmvm.py run [options] -- CMD ARGS...)",
              file=sys.stderr)
        return 2
    if bool(args.kernel_image) != bool(args.modules):
        print("kvmvm run: --kernel-image and --modules go together", file=sys.stderr)
        return 2
    if not args.kernel_image and args.kernel == "auto":
        if kvm_usable():
            return _run_native(args)
        args.kernel = series_names()[0]
    return _run_in_vm(args)


def cmd_list(args):
    status = 0
    for name, pattern in kernel_cache.read_series():
        try:
            package, version = kernel_cache.resolve(name)
            where = kernel_cache.cache_root() / f"{package}_{version}".replace(":", "%3a")
            state = "cached" if (where / "info.json").exists() else "not fetched"
            print(f"{name:6} {pattern}  ->  {package} {version} ({state})")
        except KernelError as e:
            print(f"{name:6} {pattern}  ->  unresolved: {e}")
            status = 1
    return status


def cmd_prepare(args):
    names = series_names() if args.kernel == "all" else [args.kernel]
    for name in names:
        try:
            vm = KernelVM(name, log=lambda m: print(m, file=sys.stderr))
            initrd = vm.prepare()
        except KernelError as e:
            print(f"kvmvm: {e}", file=sys.stderr)
            return RUNNER_FAILED
        print(f"{name}: {vm.kernel.describe()} release {vm.kernel.release}\n"
              f"  {vm.kernel.image}\n  {initrd}")
    return 0


def _env_pair(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--env {text!r}: want KEY=VALUE")
    return key, value


def main(argv=None):
    p = argparse.ArgumentParser(prog="kvmvm.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="boot a kernel and run one command in it")
    run.add_argument("--kernel", default="auto",
                     help="series from kernels.conf, or auto (native /dev/kvm if "
                          "usable, else the first series)")
    run.add_argument("--kernel-image", help="boot this kernel image instead")
    run.add_argument("--modules", help="its lib/modules/RELEASE directory")
    run.add_argument("--timeout", type=float, help="kill the command after S seconds")
    run.add_argument("--cwd", default=os.getcwd(), help="working directory (default: ours)")
    run.add_argument("--env", type=_env_pair, action="append", default=[],
                     help="KEY=VALUE for the command's environment")
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    sub.add_parser("list", help="configured series and what each resolves to")
    prep = sub.add_parser("prepare", help="fetch a kernel and build its initramfs")
    prep.add_argument("--kernel", default="all", help="series, or all (default)")
    args = p.parse_args(argv)
    if args.command == "run" and args.cmd[:1] == ["--"]:
        args.cmd = args.cmd[1:]
    try:
        return {"run": cmd_run, "list": cmd_list, "prepare": cmd_prepare}[args.command](args)
    except (KernelError, accel.AccelError) as e:
        print(f"kvmvm: {e}", file=sys.stderr)
        return RUNNER_FAILED


if __name__ == "__main__":
    sys.exit(main())
