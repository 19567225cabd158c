"""The seccomp sandbox (README.md, "The sandbox"), on every configured kernel.

While a guest runs, kvmtrace's process and each of its threads show
`Seccomp: 2` (filter mode) in /proc; a forbidden system call ends the
command with one line naming the call and status 22, from any command and
any thread; --no-sandbox turns it off and the trace header says which it
was.  The forbidden calls come from the hidden test hook
`kvmtrace --sandbox-selftest=WHAT COMMAND ...`, which makes the call WHAT
right after the command has entered the sandbox (or, with --no-sandbox,
where it would have).

KVMTRACE_BIN (the ASan+UBSan build in make e2e-san) is the binary tested."""
import pathlib
import re

import pytest

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
GUESTS = REPO / "build" / "guests"
REWRITE = REPO / "build" / "kt-rewrite"
GOLDEN = REPO / "traces" / "6.1" / "hello.zst"

SANDBOX, INTERRUPTED, TROUBLE = 22, 18, 2
# --sandbox-selftest=WHAT: the call it makes (as the message names it).
SELFTEST_CALLS = {"ioctl": "ioctl", "open": "openat", "socket": "socket",
                  "execve": "execve", "fork": "clone", "thread": "socket"}


def violation_line(command, call):
    return re.compile(rf"kvmtrace {command}: sandbox: forbidden system call {call}"
                      rf"( with request 0x[0-9a-f]+)? \(number \d+\); stopped with "
                      rf"status 22 \(--no-sandbox runs without it\)")


def seccomp_while_running(target, argv, threads, tmp_path):
    """Start argv (a guest that never ends on its own), wait until it has
    `threads` threads (the vCPU threads start after the sandbox is up), then
    read Seccomp of the process and of each thread, and end it with SIGINT.
    Returns (process status lines, per-thread Seccomp values, exit status)."""
    err = tmp_path / "stderr"
    script = f"""
{' '.join(map(str, argv))} >/dev/null 2>{err} & pid=$!
n=0
while [ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -lt {threads} ] && [ $n -lt 600 ]; do
    sleep 0.05; n=$((n + 1))
done
grep '^Seccomp' /proc/$pid/status
for t in /proc/$pid/task/*; do echo "thread $(grep '^Seccomp:' $t/status)"; done
kill -INT $pid; wait $pid; echo "status=$?"
"""
    r = target.sh(script, timeout=120)
    out = r.stdout
    status = int(re.search(r"status=(\d+)", out).group(1))
    process = dict(re.findall(r"^(Seccomp\w*):\s+(\d+)", out, re.M))
    per_thread = [int(v) for v in re.findall(r"^thread Seccomp:\s+(\d+)", out, re.M)]
    return process, per_thread, status, err.read_text() if err.exists() else ""


@pytest.mark.parametrize("cmd,threads", [("run", 2), ("record", 3)])
def test_run_and_record_are_in_the_sandbox_while_the_guest_runs(kernel, tmp_path, cmd,
                                                               threads):
    # run: main + one vCPU thread; record: and the writer's flusher, which
    # started before the sandbox and is in it all the same (TSYNC).
    out = ["-o", tmp_path / "spin.zst"] if cmd == "record" else []
    argv = [KVMTRACE, cmd, GUESTS / "spin.bin", "--guest-arg", "0", "--timeout", "60", *out]
    process, per_thread, status, err = seccomp_while_running(kernel, argv, threads, tmp_path)
    assert process.get("Seccomp") == "2", (process, err)
    assert process.get("Seccomp_filters") == "1", process
    assert len(per_thread) >= threads and set(per_thread) == {2}, per_thread
    assert status == INTERRUPTED, err


def test_no_sandbox_leaves_the_process_unfiltered(kernel, tmp_path):
    argv = [KVMTRACE, "record", GUESTS / "spin.bin", "--guest-arg", "0", "--timeout", "60",
            "--no-sandbox", "-o", tmp_path / "spin.zst"]
    process, per_thread, status, err = seccomp_while_running(kernel, argv, 3, tmp_path)
    assert process.get("Seccomp") == "0", (process, err)
    assert set(per_thread) == {0}, per_thread
    assert status == INTERRUPTED, err


def test_replay_is_in_the_sandbox_while_it_replays(kernel, tmp_path):
    # The spin guest's one KVM_RUN lasted a second before the timeout
    # kicked it; replay gives it as long again, in the sandbox, with its
    # watchdog thread (started after the sandbox went up).
    trace = tmp_path / "spin.zst"
    r = kernel.exec([KVMTRACE, "record", GUESTS / "spin.bin", "--guest-arg", "0",
                     "--timeout", "2", "-o", trace])
    assert r.returncode == 14, r.stderr
    process, per_thread, status, err = seccomp_while_running(
        kernel, [KVMTRACE, "replay", trace], 2, tmp_path)
    assert process.get("Seccomp") == "2", (process, err)
    assert set(per_thread) == {2}, per_thread


def own_trace(kernel, tmp_path):
    """hello recorded on this kernel (a golden of another kernel diverges)."""
    trace = tmp_path / "own.zst"
    r = kernel.exec([KVMTRACE, "record", GUESTS / "hello.bin", "-o", trace])
    assert r.returncode == 0, r.stderr
    return trace


def command_argv(command, tmp_path, kernel):
    if command in ("run", "record"):
        out = ["-o", tmp_path / "t.zst"] if command == "record" else []
        return [command, GUESTS / "hello.bin", *out]
    if command == "diff":
        return [command, GOLDEN, GOLDEN]
    if command == "replay":
        return [command, own_trace(kernel, tmp_path)]
    return [command, GOLDEN]


@pytest.mark.parametrize("command,what", [
    ("run", "ioctl"), ("run", "fork"), ("record", "open"), ("record", "thread"),
    ("replay", "thread"), ("replay", "socket"), ("show", "execve"), ("show", "ioctl"),
    ("diff", "socket"), ("diff", "open"),
])
def test_a_forbidden_call_ends_the_command_with_one_line_naming_it(kernel, tmp_path,
                                                                   command, what):
    r = kernel.exec([KVMTRACE, f"--sandbox-selftest={what}",
                     *command_argv(command, tmp_path, kernel)])
    assert r.returncode == SANDBOX, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert violation_line(command, SELFTEST_CALLS[what]).fullmatch(lines[0]), lines[0]
    if what == "ioctl":  # the request that was not allowed is named too
        assert "with request 0x5413" in lines[0]  # TIOCGWINSZ


@pytest.mark.parametrize("command", ["run", "record", "replay", "show", "diff"])
def test_without_the_sandbox_the_same_call_goes_through(kernel, tmp_path, command):
    r = kernel.exec([KVMTRACE, "--sandbox-selftest=socket",
                     *command_argv(command, tmp_path, kernel), "--no-sandbox"])
    assert r.returncode == 0, r.stderr
    assert "forbidden" not in r.stderr
    if command == "run":
        assert r.stdout == "Hello, world!\n"


def test_show_and_diff_say_the_same_in_the_sandbox_and_out(kernel, tmp_path):
    trace = tmp_path / "smp.zst"
    r = kernel.exec([KVMTRACE, "record", GUESTS / "smp.bin", "--vcpus", "4", "-o", trace])
    assert r.returncode == 0, r.stderr
    for argv in (["show", "-v", trace], ["show", "--json", trace], ["show", "--stats", trace],
                 ["diff", GOLDEN, trace], ["diff", "--json", trace, trace]):
        inside = kernel.exec([KVMTRACE, *argv])
        outside = kernel.exec([KVMTRACE, *argv, "--no-sandbox"])
        assert inside.returncode == outside.returncode, (argv, inside.stderr)
        assert inside.returncode in (0, 1), (argv, inside.stderr)
        if argv[1] != "--stats":  # timings aside, which --stats sums
            assert inside.stdout == outside.stdout, argv
        assert inside.stderr == outside.stderr, argv


def test_the_header_records_whether_the_sandbox_was_on(kernel, tmp_path):
    on, off = tmp_path / "on.zst", tmp_path / "off.zst"
    assert kernel.exec([KVMTRACE, "record", GUESTS / "hello.bin", "-o", on]).returncode == 0
    assert kernel.exec([KVMTRACE, "record", GUESTS / "hello.bin", "-o", off,
                        "--no-sandbox"]).returncode == 0
    assert kernel.show_header(on)["sandbox"] == "on"
    assert kernel.show_header(off)["sandbox"] == "off"
    # How a trace was recorded is not what it recorded: diff ignores it by
    # default, like the kvmtrace version.
    r = kernel.exec([KVMTRACE, "diff", on, off])
    assert r.returncode == 0 and "sandbox" not in r.stdout, r.stdout
    # replay -o writes a trace of its own, saying so too.
    again = tmp_path / "again.zst"
    r = kernel.exec([KVMTRACE, "replay", off, "-o", again])
    assert r.returncode == 0, r.stderr
    assert kernel.show_header(again)["sandbox"] == "on"


def test_replay_refuses_a_request_that_is_not_a_known_kvm_ioctl(kernel, tmp_path):
    # Event 2 of the golden is KVM_SET_TSS_ADDR: make it a number no header
    # names.  Replay allows the trace's own requests and no other, and
    # checks them all before the first ioctl, sandbox or not.
    bad = tmp_path / "bad.zst"
    kernel.exec([REWRITE, GOLDEN, bad, "--request", "2", str(0xAEFF)])
    for extra in ([], ["--no-sandbox"]):
        r = kernel.exec([KVMTRACE, "replay", bad, *extra])
        assert r.returncode == TROUBLE, r.stderr
        lines = r.stderr.strip().splitlines()
        assert lines == [f"kvmtrace: {bad}: event 2 asks for ioctl 0xaeff, which is not "
                         "a KVM request kvmtrace knows; not replaying it"], r.stderr


def test_an_unknown_selftest_is_a_usage_error(tmp_path):
    import subprocess
    r = subprocess.run([str(KVMTRACE), "--sandbox-selftest=nothing", "show", str(GOLDEN)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "no self-test 'nothing'" in r.stderr
