#!/bin/sh
# Instructions per exit, counted by valgrind's callgrind (repeatable where
# timings are not): run, record and replay of the port loop at a fixed N,
# all threads.  Part of `make bench`, run where /dev/kvm works.
#   bench/callgrind.sh EXITS OUTDIR
# Prints "instr NAME COUNT" lines (NAME: run, record, replay).
set -eu
cd "$(dirname "$0")/.."
n=$1 out=$2
guest=build/guests/portloop.bin
mkdir -p "$out"
command -v valgrind >/dev/null 2>&1 || { echo "instr none 0"; exit 0; }
count() {  # name command...
	name=$1; shift
	valgrind --tool=callgrind --callgrind-out-file="$out/cg.$name" "$@" >/dev/null 2>&1 || true
	# The "totals:" line of the profile: every thread's instructions.
	echo "instr $name $(awk '/^totals:/ {print $2}' "$out/cg.$name")"
}
# --no-sandbox: valgrind does not emulate seccomp() (syscall 317), and the
# filter runs in the kernel, where callgrind counts nothing anyway.
count run build/kvmtrace run $guest --guest-arg "$n" --timeout 0 --no-sandbox
count record build/kvmtrace record $guest --guest-arg "$n" --timeout 0 -o "$out/cg.zst" \
	--force --no-sandbox
count replay build/kvmtrace replay "$out/cg.zst" --no-sandbox
echo "size cg_trace $(stat -c %s "$out/cg.zst")"
