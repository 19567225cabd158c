#!/bin/sh
# PID 1 of a kvmvm guest (busybox sh, from the initramfs).  Loads the modules
# for virtio, 9p and KVM, mounts the host's / read-only at /host with the repo
# read-write over it at the same path, then hands over to vm_agent.py running
# under the host's own python3 inside that tree.  Problems go to the console
# (the host keeps it as console.log) and to /run/kvmvm-init.log for the agent
# to report.
export PATH=/bin
bb=/bin/busybox
log=/init.log

note() {
	echo "kvmvm-init: $*"
	echo "$*" >> $log
}

die() {
	note "FATAL: $*"
	$bb poweroff -f
}

$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev

repo=
for word in $($bb cat /proc/cmdline); do
	case $word in
	kvmtrace.repo=*) repo=${word#kvmtrace.repo=} ;;
	esac
done

# The vendor's KVM module is the one the (virtual) CPU can run.
vendor=none
$bb grep -qw svm /proc/cpuinfo && vendor=amd
$bb grep -qw vmx /proc/cpuinfo && vendor=intel
[ $vendor = none ] && note "CPU has neither svm nor vmx: no KVM module will load"

while read -r group name file; do
	[ "$group" = base ] || [ "$group" = $vendor ] || continue
	out=$($bb insmod /modules/"$file" 2>&1) || note "insmod $name: $out"
done < /modules/load.list

# devtmpfs makes the node as the misc device registers; make it if not.
if [ ! -c /dev/kvm ] && [ -r /sys/class/misc/kvm/dev ]; then
	dev=$($bb cat /sys/class/misc/kvm/dev)
	$bb mknod /dev/kvm c "${dev%:*}" "${dev#*:}" || note "mknod /dev/kvm failed"
fi

opts=trans=virtio,version=9p2000.L,msize=512000
$bb mount -t 9p -o $opts,ro,cache=loose hostroot /host || die "cannot mount the host root (9p)"
$bb mount -t proc proc /host/proc
$bb mount -t sysfs sysfs /host/sys
$bb mount -t devtmpfs devtmpfs /host/dev
$bb mkdir -p /host/dev/pts /host/dev/shm
$bb mount -t devpts devpts /host/dev/pts
$bb mount -t tmpfs tmpfs /host/dev/shm
$bb mount -t tmpfs tmpfs /host/tmp
$bb mount -t tmpfs tmpfs /host/run
# The repo last, so that one under /tmp or /run is not hidden by the tmpfs.
if [ -n "$repo" ]; then
	$bb mkdir -p "/host$repo" 2>/dev/null
	$bb mount -t 9p -o $opts,cache=mmap repo "/host$repo" || die "cannot mount the repo at $repo"
fi
$bb cp /agent.py /host/run/kvmvm-agent.py
[ -f $log ] && $bb cp $log /host/run/kvmvm-init.log

export KVMVM_REPO="$repo"
exec $bb chroot /host /usr/bin/python3 -I /run/kvmvm-agent.py
