"""The guest corpus: every guests/NAME.json states what build/guests/NAME.bin
does under KVM (docs/guest-abi.md, "Expectations"), and this runs each one on
every kernel column and compares everything the expectation states: exactly
on the pinned series; on the native column a difference is a finding
(tests/conftest.py, kernel_behaviour), except for hello, which any KVM runs.

The well-formedness tests need no KVM: they catch a guest without an
expectation, a typo in a key, or exit counts that cannot match the console."""
import collections
import json
import pathlib
import re

import pytest

from expectations import describe, load, mismatches, peek_args, u64

REPO = pathlib.Path(__file__).resolve().parents[2]
SOURCES = REPO / "guests"
BINS = REPO / "build" / "guests"

END_NAMES = {"halted", "guest_exit", "shutdown"}
CONSOLE_KEYS = ("console", "console_regex", "console_lines_unordered")
KNOWN_KEYS = {"guest", "args", "status", "end", "regs", "vcpu_regs", "memory",
              "exits", *CONSOLE_KEYS}
REGS = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9",
        "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"}
# The harness's own statuses are even; the guest exit device's are odd.
STATUS_OF_END = {"halted": lambda s: s == 0, "shutdown": lambda s: s == 10,
                 "guest_exit": lambda s: s % 2 == 1}


def expectation_files():
    return sorted(SOURCES.glob("*.json"))


def guest_sources():
    return sorted(p for p in SOURCES.iterdir() if p.suffix in (".S", ".c"))


EXPECTATIONS = [pytest.param(load(p.stem), id=p.stem) for p in expectation_files()]


def test_every_guest_has_one_expectation():
    sources = collections.Counter(p.stem for p in guest_sources())
    assert [name for name, n in sources.items() if n > 1] == [], \
        "one source file per guest"
    assert sorted(sources) == [p.stem for p in expectation_files()]


@pytest.mark.parametrize("exp", EXPECTATIONS)
def test_expectation_is_well_formed(exp):
    assert set(exp) <= KNOWN_KEYS, f"unknown keys {set(exp) - KNOWN_KEYS}"
    assert (SOURCES / f"{exp['guest']}.json").exists(), "guest names its own file"
    assert all(isinstance(a, str) for a in exp["args"])
    assert exp["end"] in END_NAMES
    assert STATUS_OF_END[exp["end"]](exp["status"])
    assert sum(k in exp for k in CONSOLE_KEYS) == 1, "exactly one console key"
    assert not ("regs" in exp and "vcpu_regs" in exp)
    for regs in exp.get("vcpu_regs", [exp.get("regs", {})]):
        assert set(regs) <= REGS
        assert all(0 <= u64(v) < 1 << 64 for v in regs.values())
    for gpa, value in exp.get("memory", {}).items():
        assert int(gpa, 0) % 8 == 0 and 0 <= u64(value) < 1 << 64
    exits = exp["exits"]
    assert all(re.fullmatch(r"[A-Z0-9_]+", k) and v > 0 for k, v in exits.items())
    # Every console byte is one OUT; exact text must be paid for in IO exits.
    console = exp.get("console", "")
    lines = exp.get("console_lines_unordered", [])
    assert exits.get("IO", 0) >= len(console) + sum(len(l) + 1 for l in lines)
    halts = exits.get("HLT", 0)
    vcpus = len(exp.get("vcpu_regs", [None]))
    assert halts == (vcpus if exp["end"] == "halted" else 0)


@pytest.mark.parametrize("exp", EXPECTATIONS)
def test_guest_image_is_flat(exp):
    image = (BINS / f"{exp['guest']}.bin").read_bytes()
    # The entry stub at 0 jumps (E9) or calls (E8) over the result area.
    assert image[0] in (0xE8, 0xE9)
    assert len(image) > 0x1000 and not any(image[0x400:0x1000])


def run_guest(kernel, exp, tmp_path):
    summary = tmp_path / "summary.json"
    r = kernel.run(["run", str(BINS / f"{exp['guest']}.bin"), *exp["args"],
                    "--summary-json", str(summary), *peek_args(exp)])
    assert summary.exists(), f"no summary (status {r.returncode}): {r.stderr}"
    return r, json.loads(summary.read_text())


@pytest.mark.parametrize("exp", EXPECTATIONS)
def test_guest(kernel, exp, tmp_path, kernel_behaviour):
    r, summary = run_guest(kernel, exp, tmp_path)
    # kvmtrace's own account agrees with itself on any kernel.
    assert summary["status"] == r.returncode, r.stderr
    assert summary["total_exits"] == sum(summary["exits"].values())
    kernel_behaviour(kernel, exp["guest"], f"guests/{exp['guest']}.json",
                     describe(mismatches(exp, r.returncode, r.stdout, summary)))
