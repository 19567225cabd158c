#!/usr/bin/python3
"""The cost of `kvmtrace record --kernel-exits` on a CPUID-heavy guest:
record of cpuid_msr_loop (N x {CPUID; RDMSR}) without kernel exits, with
every kind, and with only cpuid,msr (kvm_exit and kvm_entry always),
interleaved, R times; medians of wall and CPU time (the recorder's own, its
threads included).  The fixed part, loading and attaching the BPF program
before the run and detaching it after (an RCU grace period per tracepoint,
which the kernel serializes), is measured apart on N = 1 and reported
beside the part that grows with the exits.  Run as root on a host with
/dev/kvm; `make bench` runs it there.

    bench/kexits_overhead.py [N [R]]      defaults 100000 7

Prints one "kexits NAME VALUE" line per figure (seconds, ratios, bytes)
for bench/run.py, then a summary."""
import os
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
R = int(sys.argv[2]) if len(sys.argv) > 2 else 7
KVMTRACE = os.environ.get("KVMTRACE_BIN", os.path.join(REPO, "build", "kvmtrace"))
GUEST = os.path.join(REPO, "build", "guests", "cpuid_msr_loop.bin")
TRACE = os.path.join(REPO, "build", "kexits-bench.zst")
MODES = {"off": [], "all": ["--kernel-exits"],
         "cpuid_msr": ["--kernel-exit-kinds=cpuid,msr"]}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def record(n, mode):
    cmd = [KVMTRACE, "record", GUEST, "--guest-arg", str(n), "-o", TRACE, "--force",
           "--timeout", "600", *MODES[mode]]
    c0, t0 = children_cpu(), time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, children_cpu() - c0
    if p.returncode != 0 or "kernel exits" in p.stderr:
        sys.exit(f"kexits_overhead: {' '.join(cmd)}: {p.returncode}\n{p.stderr}")
    return wall, cpu, os.path.getsize(TRACE)


def medians(n, reps):
    runs = {m: [] for m in MODES}
    for _ in range(reps):
        for m in MODES:
            runs[m].append(record(n, m))
    return {m: tuple(statistics.median(r[i] for r in rs) for i in range(3))
            for m, rs in runs.items()}


def main():
    if os.geteuid() != 0:
        sys.exit("kexits_overhead: needs root (BPF tracing)")
    fixed = medians(1, R)
    big = medians(N, R)
    out = [("kexits loops", N), ("kexits runs", R)]
    for m in MODES:
        wall, cpu, size = big[m]
        out += [(f"kexits {m}_wall_s", wall), (f"kexits {m}_cpu_s", cpu),
                (f"kexits {m}_fixed_s", fixed[m][0]), (f"kexits {m}_bytes", size)]
    base = big["off"][0] - fixed["off"][0]
    for m in ("all", "cpuid_msr"):
        out += [(f"kexits {m}_ratio", big[m][0] / big["off"][0]),
                (f"kexits {m}_ratio_per_exit", (big[m][0] - fixed[m][0]) / base),
                (f"kexits {m}_cpu_ratio", big[m][1] / big["off"][1])]
    for k, v in out:
        print(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}")
    print(f"\nN={N}, {R} runs interleaved, medians; fixed = the same on N=1", file=sys.stderr)
    for m in MODES:
        wall, cpu, size = big[m]
        print(f"  record {m:>9}: wall {wall:.3f} s (fixed {fixed[m][0]:.3f} s), "
              f"cpu {cpu:.3f} s, trace {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
