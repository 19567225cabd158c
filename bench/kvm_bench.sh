#!/bin/sh
# The KVM half of `make bench`, run where /dev/kvm works (natively or in the
# kernel runner).  Prints "name seconds" lines and "size name bytes".
#   bench/kvm_bench.sh EXITS REPEATS OUTDIR [CALLGRIND_EXITS]
set -eu
cd "$(dirname "$0")/.."
n=$1 reps=$2 out=$3 cg=${4:-20000}
guest=build/guests/portloop.bin
mkdir -p "$out"
now() { date +%s.%N; }
timed() {  # name command...
	name=$1; shift
	t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
	echo "$name $(echo "$t1 - $t0" | awk '{print $1 - $3}')"
}
echo "kernel $(uname -r)"
for i in $(seq "$reps"); do
	build/bare-loop $guest "$n" | sed 's/^/bare_loop /'
	timed run build/kvmtrace run $guest --guest-arg "$n" --timeout 0
	timed record build/kvmtrace record $guest --guest-arg "$n" --timeout 0 -o "$out/pl.zst" --force
	timed replay build/kvmtrace replay "$out/pl.zst"
	# The test VMM (tests/vmm) alone and under the shim (record -- PROGRAM):
	# two vCPU threads, 3 exits a round each, n/6 rounds.
	timed vmm_run build/mini-vmm build/vmm/guest.bin 2 "$((n / 6))"
	timed vmm_record build/kvmtrace record -o "$out/vmm.zst" --force -- \
		build/mini-vmm build/vmm/guest.bin 2 "$((n / 6))"
	# --memory-changes hashes all guest memory per KVM_RUN: a tenth of it.
	timed vmm_run_tenth build/mini-vmm build/vmm/guest.bin 2 "$((n / 60))"
	timed vmm_record_changes build/kvmtrace record -o "$out/vmm-c.zst" --force \
		--memory-changes -- build/mini-vmm build/vmm/guest.bin 2 "$((n / 60))"
done
# strace is the reference, not the subject: once, on a tenth of the exits.
if command -v strace >/dev/null 2>&1; then
	s=$((n / 10))
	timed strace_run build/kvmtrace run $guest --guest-arg "$s" --timeout 0
	timed strace strace -f -e trace=ioctl --kvm=vcpu -o "$out/pl.strace" \
		build/kvmtrace run $guest --guest-arg "$s" --timeout 0
fi
echo "size trace $(stat -c %s "$out/pl.zst")"
bench/callgrind.sh "$cg" "$out"
echo "size vmm_trace $(stat -c %s "$out/vmm.zst")"
[ -f "$out/pl.strace" ] && echo "size strace $(stat -c %s "$out/pl.strace")"
true
