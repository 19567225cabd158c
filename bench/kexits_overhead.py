#!/usr/bin/python3
"""The cost of capturing in-kernel exits (kexits) on a CPUID-heavy guest:
`kvmtrace record` of cpuid_msr_loop (N x {CPUID; RDMSR}) alone, then under
build/kx-dump capturing every kind and only cpuid,msr (kvm_exit and
kvm_entry always), interleaved, R times; medians.  The recorder's figure is
its own wall and CPU time (kx-dump measures its child from the moment the
capture is attached, so kx_open/kx_close are reported apart).  Run as
root on a host with /dev/kvm:

    bench/kexits_overhead.py [N [R]]      defaults 100000 9
"""
import re
import resource
import statistics
import subprocess
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
R = int(sys.argv[2]) if len(sys.argv) > 2 else 9
KINDS = ["", "cpuid,msr"]
REC = ["build/kvmtrace", "record", "build/guests/cpuid_msr_loop.bin", "--guest-arg", str(N),
       "-o", "build/kexits-bench.zst", "--force", "--timeout", "600"]
SUMMARY = re.compile(r"(\d+) events, command ([\d.]+) s \(cpu ([\d.]+) s\)")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def alone():
    c0, t0 = children_cpu(), time.monotonic()
    subprocess.run(REC, capture_output=True, check=True)
    return time.monotonic() - t0, children_cpu() - c0


def captured(kinds):
    c0, t0 = children_cpu(), time.monotonic()
    p = subprocess.run(["build/kx-dump", "-q", "-s", *(["-k", kinds] if kinds else []), "--",
                        *REC], capture_output=True, text=True, check=True)
    wall_all, cpu_all = time.monotonic() - t0, children_cpu() - c0
    assert "lost" not in p.stderr, p.stderr
    events, wall, cpu = SUMMARY.search(p.stdout).groups()
    wall, cpu = float(wall), float(cpu)
    return wall, cpu, cpu_all - cpu, wall_all - wall, int(events)


def median(rows, i):
    return statistics.median(r[i] for r in rows)


def main():
    base, runs = [], {k: [] for k in KINDS}
    for _ in range(R):
        base.append(alone())
        for k in KINDS:
            runs[k].append(captured(k))
    bw, bc = median(base, 0), median(base, 1)
    print(f"N={N}, {R} runs, medians: record alone: wall {bw:.3f} s, cpu {bc:.3f} s")
    for k in KINDS:
        w, c, own, oc = (median(runs[k], i) for i in range(4))
        print(f"  with kexits ({k or 'every kind'}, {runs[k][0][4]} events): "
              f"wall {w:.3f} s ({w / bw:.2f}x), cpu {c:.3f} s ({c / bc:.2f}x); "
              f"reader's own cpu {own:.3f} s; kx_open + kx_close {oc:.3f} s")


if __name__ == "__main__":
    main()
