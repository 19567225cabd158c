#!/usr/bin/python3
"""make bench: speed and size figures, printed as a table and written to
build/bench.md.  Timings on a shared 2-core machine are noisy: each KVM figure
is the median of several runs, and what matters are the ratios of one run.

KVM figures come from bench/kvm_bench.sh, run natively where /dev/kvm works
and in the kernel runner (tests/kernels/kvmvm.py) otherwise.  Writer and diff
figures need no KVM and run here.  The cost of record --kernel-exits
(bench/kexits_overhead.py) is measured natively only, as root."""
import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
EXITS = int(os.environ.get("BENCH_EXITS", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
DIFF_EXITS = int(os.environ.get("BENCH_DIFF_EXITS", "5000000"))  # 20M events in all
KEXIT_LOOPS = int(os.environ.get("BENCH_KEXIT_LOOPS", "100000"))
KEXIT_REPEATS = int(os.environ.get("BENCH_KEXIT_REPEATS", "5"))
# callgrind counts instructions, so one run at a fixed N is enough.
CG_EXITS = int(os.environ.get("BENCH_CG_EXITS", "20000"))


# GNU time, where installed, measures the peak RSS: a child that Python
# spawns keeps the high-water mark of the Python it was vfork()ed from (about
# 12 MiB here) in its ru_maxrss, which would floor every figure at that.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_measured(cmd):
    """Wall seconds and peak RSS (KiB) of one command."""
    rss_file = BUILD / "bench" / "rss.txt"
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode()
    rss = usage.ru_maxrss
    if GNU_TIME:  # its last line; one before says "Command exited with ..."
        rss = int(rss_file.read_text().split()[-1])
        rss_file.unlink()
    return elapsed, rss, p.returncode, err


def synth(path, exits, every=0):
    out = subprocess.run([str(BUILD / "synth-trace"), str(path), str(exits), str(every)],
                         check=True, capture_output=True, text=True).stdout.split()
    return dict(zip(out[::2], map(float, out[1::2])))


def kvm_figures(out_dir):
    cmd = ["bench/kvm_bench.sh", str(EXITS), str(REPEATS), str(out_dir), str(CG_EXITS)]
    r = subprocess.run([sys.executable, "tests/kernels/kvmvm.py", "run", "--kernel", "auto",
                        "--timeout", "3000", "--", *cmd],
                       cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: the KVM part failed ({r.returncode}):\n{r.stderr}")
    times, sizes, info = {}, {}, {"where": r.stderr.strip().splitlines()[-1]}
    for line in r.stdout.splitlines():
        f = line.split()
        if f[0] == "instr":
            info.setdefault("instr", {})[f[1]] = int(f[2])
        elif f[0] == "bare_loop":
            times.setdefault("bare_loop", []).append(float(f[4]))  # "seconds S"
        elif f[0] == "size":
            sizes[f[1]] = int(f[2])
        elif f[0] == "kernel":
            info["kernel"] = f[1]
        else:
            times.setdefault(f[0], []).append(float(f[1]))
    return {k: statistics.median(v) for k, v in times.items()}, sizes, info


def kexit_rows():
    """record --kernel-exits over record on cpuid_msr_loop, natively."""
    sys.path.insert(0, str(REPO / "tests" / "kernels"))
    import kvmvm
    if os.geteuid() != 0 or not kvmvm.kvm_usable():
        return [("record --kernel-exits / record", "not measured: needs root and /dev/kvm "
                 "on this host (bench/kexits_overhead.py)")]
    r = subprocess.run([sys.executable, str(REPO / "bench" / "kexits_overhead.py"),
                        str(KEXIT_LOOPS), str(KEXIT_REPEATS)], capture_output=True, text=True)
    if r.returncode != 0:
        return [("record --kernel-exits / record", f"failed: {r.stderr.strip()}")]
    k = {line.split()[1]: float(line.split()[2]) for line in r.stdout.splitlines()
         if line.startswith("kexits ")}
    rows = []
    for mode, what in (("all", "every kind"), ("cpuid_msr", "--kernel-exit-kinds=cpuid,msr")):
        rows.append((f"record --kernel-exits / record ({what})",
                     f"{k[mode + '_ratio']:.2f} wall, {k[mode + '_ratio_per_exit']:.2f} "
                     f"without the {k[mode + '_fixed_s']:.2f} s attach+detach, cpu "
                     f"{k[mode + '_cpu_ratio']:.2f}; {int(k[mode + '_bytes']):,} trace bytes "
                     f"(cpuid_msr_loop, {int(k['loops']):,} loops, native; aim <= 1.15)"))
    return rows


def main():
    out_dir = BUILD / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []

    t, sizes, info = kvm_figures(out_dir)
    exits = EXITS + 1
    rows.append(("KVM", info.get("where", "")))
    rows.append(("bare KVM_RUN loop", f"{exits / t['bare_loop']:,.0f} exits/s"))
    rows.append(("kvmtrace run", f"{exits / t['run']:,.0f} exits/s "
                 f"(run/bare {t['run'] / t['bare_loop']:.3f}; includes VM setup)"))
    rows.append(("kvmtrace record / run", f"{t['record'] / t['run']:.3f} (aim <= 1.02)"))
    rows.append(("trace bytes per exit", f"{sizes['trace'] / exits:.2f} "
                 "(port loop, a regs+sregs snapshot at every exit; aim <= 4)"))
    rows.append(("kvmtrace replay / record", f"{t['replay'] / t['record']:.3f} (aim <= 1.05)"))
    ins, cg_exits = info.get("instr", {}), CG_EXITS + 1
    if "run" in ins:
        rows.append(("instructions per exit: run", f"{ins['run'] / cg_exits:,.0f} "
                     f"(callgrind, all threads, {cg_exits:,} exits, setup included)"))
        rows.append(("instructions per exit: record over run",
                     f"{(ins['record'] - ins['run']) / cg_exits:,.0f} "
                     f"(record {ins['record'] / cg_exits:,.0f}; aim <= 1,000)"))
        rows.append(("instructions per exit: replay", f"{ins['replay'] / cg_exits:,.0f} "
                     f"(aim <= 1,500)"))
        rows.append(("trace bytes per exit (callgrind run)",
                     f"{sizes['cg_trace'] / cg_exits:.2f} ({cg_exits:,} exits)"))
    else:
        rows.append(("instructions per exit", "valgrind not installed: no figure"))
    vmm_exits = 2 * 3 * (EXITS // 6) + 4
    rows.append(("record -- mini-vmm / mini-vmm alone (the shim)",
                 f"{t['vmm_record'] / t['vmm_run']:.3f} ({vmm_exits:,} exits on 2 vCPU threads; "
                 f"{sizes['vmm_trace'] / vmm_exits:.2f} trace bytes per exit; the harness's "
                 f"record/run above is the aim)"))
    rows.append(("record --memory-changes -- mini-vmm / alone",
                 f"{t['vmm_record_changes'] / t['vmm_run_tenth']:.2f} ({vmm_exits // 10:,} exits; "
                 f"a hash of the 2 MiB of guest memory before every KVM_RUN, "
                 f"{(t['vmm_record_changes'] - t['vmm_run_tenth']) / (vmm_exits // 10) * 1e6:.0f}"
                 " us per exit)"))
    if "strace" in t:
        rows.append(("strace -f -e trace=ioctl / run", f"{t['strace'] / t['strace_run']:.2f}, "
                     f"{sizes['strace'] / (EXITS // 10 + 1):.1f} bytes of text per exit "
                     f"(no register snapshots; {EXITS // 10} exits)"))
    else:
        rows.append(("strace", "not installed: no reference figure"))
    rows += kexit_rows()

    w = synth(out_dir / "w.zst", 2_000_000)
    rows.append(("trace writer alone", f"{w['events_per_s']:,.0f} events/s, "
                 f"{w['bytes_per_exit']:.2f} bytes/exit (aim >= 10,000,000/s)"))
    secs, _, rc, err = run_measured([str(BUILD / "kvmtrace"), "show", "--stats",
                                     str(out_dir / "w.zst")])
    rows.append(("trace reader (show --stats)", f"{w['events'] / secs:,.0f} events/s"
                 + ("" if rc == 0 else f" (exit {rc}: {err.strip()})")))
    a, b = out_dir / "diff-a.zst", out_dir / "diff-b.zst"
    synth(a, DIFF_EXITS)
    synth(b, DIFF_EXITS, 10000)
    secs, rss, rc, err = run_measured([str(BUILD / "kvmtrace"), "diff", "--stat", str(a), str(b)])
    events = 2 * (2 * DIFF_EXITS + 1)
    rows.append(("kvmtrace diff", f"{events / secs:,.0f} events/s over {events:,} events, "
                 f"peak RSS {rss / 1024:.1f} MiB (aim >= 10,000,000/s, < 64 MiB); "
                 f"exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}"))
    for p in (a, b, out_dir / "w.zst"):
        p.unlink()

    width = max(len(k) for k, _ in rows)
    text = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    print(text)
    (BUILD / "bench.md").write_text("| figure | value |\n|---|---|\n" +
                                    "\n".join(f"| {k} | {v} |" for k, v in rows) + "\n")


if __name__ == "__main__":
    main()
