"""What a guest's run is expected to show (guests/NAME.json, described in
docs/guest-abi.md, "Expectations"), and where a run differs from it, field
by field: the e2e corpus test asserts on it, the matrix's native column
reports it as findings."""
import collections
import json
import pathlib
import re

GUESTS = pathlib.Path(__file__).resolve().parents[2] / "guests"
# Guests whose expectation any KVM must meet, even one whose behaviour is
# otherwise only compared (the native column): kvm-hello-world's guest.
ANY_KVM = {"hello"}


def load(guest):
    return json.loads((GUESTS / f"{guest}.json").read_text(encoding="utf-8"))


def u64(value):
    """Expectation numbers are JSON integers or "0x..." strings (for values
    too long to read as decimals)."""
    return int(value, 0) if isinstance(value, str) else value


def gpa_key(gpa):
    """The summary names peeked addresses as lower-case unpadded hex."""
    return hex(int(gpa, 0))


def peek_args(exp):
    return [a for gpa in exp.get("memory", {}) for a in ("--peek", gpa)]


def _console(exp, out):
    if "console" in exp:
        return [] if out == exp["console"] else [("console", repr(exp["console"]), repr(out))]
    if "console_regex" in exp:
        ok = re.fullmatch(exp["console_regex"], out)
        return [] if ok else [("console", f"/{exp['console_regex']}/", repr(out))]
    want = collections.Counter(exp["console_lines_unordered"])
    got = collections.Counter(out.splitlines())
    ok = out.endswith("\n") and got == want
    return [] if ok else [("console", f"lines {sorted(want.elements())}", repr(out))]


def _exits(exp, summary):
    want, got = exp["exits"], summary["exits"]
    out = [(f"exits.{k}", want.get(k, 0), got.get(k, 0))
           for k in sorted(set(want) | set(got)) if want.get(k, 0) != got.get(k, 0)]
    if summary["total_exits"] != sum(got.values()):
        out.append(("total_exits", sum(got.values()), summary["total_exits"]))
    return out


def _regs(exp, vcpus):
    wanted = exp.get("vcpu_regs", [exp["regs"]] if "regs" in exp else [])
    out = []
    for i, want in enumerate(wanted):
        got = vcpus[i]["regs"] if i < len(vcpus) else {}
        for reg, value in want.items():
            if got.get(reg) != u64(value):
                have = hex(got[reg]) if reg in got else "(no vCPU)"
                out.append((f"vcpu{i}.{reg}", hex(u64(value)), have))
    return out


def _memory(exp, summary):
    out = []
    for gpa, value in exp.get("memory", {}).items():
        got = summary.get("memory", {}).get(gpa_key(gpa))
        if got != u64(value):
            out.append((f"memory.{gpa}", hex(u64(value)), "(absent)" if got is None else hex(got)))
    return out


def mismatches(exp, status, stdout, summary):
    """[(field, expected, got)] where a run (its exit status, console and
    --summary-json) differs from the expectation; [] when it meets it."""
    out = [(k, exp[k], v) for k, v in (("status", status), ("end", summary["end"]))
           if exp[k] != v]
    return out + _console(exp, stdout) + _exits(exp, summary) + \
        _regs(exp, summary["vcpus"]) + _memory(exp, summary)


def describe(items):
    """The mismatches as `field: expected -> got` strings."""
    return [f"{field}: {want} -> {got}" for field, want, got in items]
