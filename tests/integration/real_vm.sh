# real_vm.sh: a real VM as a zone's gateway, end to end: qemu-system-x86_64
# under software emulation (TCG, no KVM) booting the Linux kernel and
# busybox initramfs that scripts/make-test-vm assembles from Debian packages,
# its port 80 forwarded to the zone's ingress_port by qemu's user-mode
# network.  Protects: zonevisord starts it and the http probe of /health,
# answered by the guest, makes the zone running (after tens of seconds of
# boot, within start_period); a SIGKILL of the qemu process is recovered
# with a new qemu (new pid) that boots and becomes running again, never two
# at once; zonectl stop ends it with stop_signal (qemu says it terminated
# on signal 15) and the zone is stopped with no qemu left.  Skipped without
# qemu-system-x86_64 or without the VM (run scripts/make-test-vm, which
# CI's .ci/run does; this test downloads nothing).  It looks for the VM in
# $ZV_TEST_VM, then $ZV_BUILDDIR/test-vm, then build/test-vm of the source
# tree (so the sanitizer build finds the one of the main build).  About a
# minute: two boots of about 15 s each to running on an idle machine (20 s
# under the full suite's load); every wait is bounded in wall-clock time (a
# boot by 150 s).
. "$ZV_SRCDIR/tests/integration/lib.sh"

QEMU=$(command -v qemu-system-x86_64) ||
    { echo "SKIP: no qemu-system-x86_64 (run scripts/make-test-vm, which installs it)" >&2; exit 77; }
VM=${ZV_TEST_VM:-}
if [ -z "$VM" ]; then
	for d in "$BUILD/test-vm" "$SRC/build/test-vm"; do
		[ -f "$d/vmlinuz" ] && [ -f "$d/initramfs.gz" ] && { VM=$d; break; }
	done
fi
[ -n "$VM" ] && [ -f "$VM/vmlinuz" ] && [ -f "$VM/initramfs.gz" ] ||
    { echo "SKIP: no test VM (vmlinuz, initramfs.gz) in ${ZV_TEST_VM:-$BUILD/test-vm or $SRC/build/test-vm}: run scripts/make-test-vm" >&2; exit 77; }

BOOT_LIMIT=150
port=$(free_port)
console=$T/state/zones/vm/console.log

# Fail with the end of the guest's console as well as the daemon log.
vfail() {
	echo "--- last lines of the VM's console.log:" >&2
	tail -n 30 "$console" >&2 2>/dev/null
	fail "$@"
}

# wait_secs DESCRIPTION SECONDS COMMAND...: poll every 0.5 s, bounded in
# wall-clock time (lib.sh's wait_for counts polls, which a slow probe
# stretches).
wait_secs() {
	local what=$1 end=$((SECONDS + $2))
	shift 2
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "timed out after ${end}s waiting for: $what" >&2
	return 1
}

# The qemu processes of this test: alive, command line naming $T (the
# -pidfile), read with builtins only.
qemu_pids() {
	local f a
	for f in /proc/[0-9]*/cmdline; do
		mapfile -d '' -t a 2>/dev/null < "$f" || continue
		[ "${#a[@]}" -gt 0 ] || continue
		case "${a[0]}" in *qemu-system-x86_64) ;; *) continue ;; esac
		case "${a[*]}" in *"$T/qemu.pid"*) f=${f#/proc/}; echo "${f%/cmdline}" ;; esac
	done
}

# From now on, note any moment when two qemus of the zone are alive at
# once (lib.sh's cleanup ends this watcher by pid; check_vms reads its
# output).
watch_qemus() {
	while :; do
		set -- $(qemu_pids)
		[ $# -gt 1 ] && echo "$(date +%s) two qemus alive at once: $*" >> "$T/vmwatch.out"
		sleep 0.2
	done
}

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
health_ok() { [ "$(curl -s -m 2 "http://127.0.0.1:$port/health")" = ok ]; }

write_config
zone vm "$QEMU -machine q35 -accel tcg -m 256 -nographic -no-reboot
    -kernel $VM/vmlinuz -initrd $VM/initramfs.gz
    -append 'console=ttyS0 quiet panic=-1'
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80
    -device virtio-net-pci,netdev=n0 -pidfile $T/qemu.pid" \
    "ingress_port = $port" "stop_signal = SIGTERM" "stop_timeout = 10s" \
    "start_timeout = ${BOOT_LIMIT}s" \
    "[health]" "probe = http" "http_path = /health" "interval = 2s" \
    "timeout = 1s" "failure_threshold = 3" "start_period = 120s" \
    "[recovery]" "restart_delay = 100ms"
t0=$(date +%s%N)
start_daemon
watch_qemus &
VMWATCH_PID=$!

# --- started, booted, probed: running ----------------------------------------
wait_secs "vm running" $BOOT_LIMIT state_is vm running ||
    vfail "the VM is $(zfield vm state) $(ms_since "$t0") ms after the start"
echo "first boot: running $(ms_since "$t0") ms after zonevisord started" >&2
vm=$(zfield vm pid)
[ "$(cat "/proc/$vm/comm" 2>/dev/null)" = qemu-system-x86 ] ||
    vfail "the zone's pid $vm is not qemu: $(cat "/proc/$vm/comm" 2>&1)"
[ "$(qemu_pids)" = "$vm" ] || vfail "qemus alive: $(qemu_pids), the zone's: $vm"
[ "$(zfield vm health)" = ok ] || vfail "the VM's health is $(zfield vm health)"
health_ok || vfail "GET /health on port $port did not answer ok"
expect_rc 0 zc health vm
grep -q "^vm: ok (http probe, [0-9]*ms): GET /health: 200$" "$T/last.out" ||
    vfail "zonectl health vm printed: $(cat "$T/last.out")"
grep -q "zv-test-vm: eth0 10.0.2.15/24" "$console" ||
    vfail "the guest's init did not report its network on the console"

# --- SIGKILL of qemu: recovered with a new qemu that boots again -------------
t1=$(date +%s%N)
kill -KILL "$vm"
recovered() {
	local p
	p=$(zfield vm pid)
	[ "$p" != null ] && [ "$p" != "$vm" ] && state_is vm running
}
wait_secs "vm recovered" $BOOT_LIMIT recovered ||
    vfail "not recovered: $(zfield vm state), pid $(zfield vm pid)"
echo "recovery: running again $(ms_since "$t1") ms after the SIGKILL" >&2
not_alive "$vm" || vfail "the killed qemu $vm is alive"
new=$(zfield vm pid)
[ "$(cat "/proc/$new/comm" 2>/dev/null)" = qemu-system-x86 ] ||
    vfail "the new pid $new is not qemu"
[ "$(qemu_pids)" = "$new" ] || vfail "qemus alive: $(qemu_pids), the zone's: $new"
health_ok || vfail "the new VM does not answer /health"
zc --json events vm > "$T/events" || vfail "events vm failed"
grep -q "vm-process-missing" "$T/events" || vfail "no record names vm-process-missing"
grep -q "SIGKILL" "$T/events" || vfail "no record names the SIGKILL"
grep -q '"auto-recovery"' "$T/events" || vfail "the cold start is not an auto-recovery"

# --- zonectl stop: stop_signal ends qemu, the zone is stopped ----------------
t2=$(date +%s%N)
expect_rc 0 zc --timeout 30s stop vm
echo "stop: $(ms_since "$t2") ms" >&2
state_is vm stopped || vfail "the zone is $(zfield vm state) after stop"
[ "$(zfield vm pid)" = null ] || vfail "a stopped zone shows pid $(zfield vm pid)"
wait_secs "qemu gone" 5 not_alive "$new" || vfail "qemu $new outlived the stop"
[ -z "$(qemu_pids)" ] || vfail "qemu left after the stop: $(qemu_pids)"
grep -q "terminating on signal 15" "$console" ||
    vfail "qemu was not ended by SIGTERM (stop_signal)"
health_ok && vfail "port $port still answers after the stop"

alive "$DAEMON_PID" || fail "zonevisord died"
check_vms
exit 0
