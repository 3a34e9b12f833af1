# fork_limit.sh: forks that fail (EAGAIN), by putting zonevisord or a
# worker in a pids cgroup whose pids.max is what it holds already.
# Protects: a lost worker that cannot be forked again is retried with a
# growing delay (1s, 2s, 4s ... at most 30s: a bounded number of attempts,
# little CPU), zonevisord does not crash and keeps answering, the other
# zones keep running, and the zone gets its worker and VM back once forks
# work; a worker whose VM cannot be forked fails it cleanly
# (vm-spawn-failed naming EAGAIN), the recovery policy backs off, and the
# VM comes back once forks work; never two VMs of a zone.  Uses the cgroup
# v1 pids controller, or cgroup v2 with pids; skipped where neither can be
# written.
. "$ZV_SRCDIR/tests/integration/lib.sh"

# A pids cgroup of our own: CG, and ORIG, where the processes come from.
CG=
ORIG=
if [ -d /sys/fs/cgroup/pids ] && mkdir "/sys/fs/cgroup/pids/zv-test-$$" 2> /dev/null; then
	CG=/sys/fs/cgroup/pids/zv-test-$$
	ORIG=/sys/fs/cgroup/pids$(sed -n 's/^[0-9]*:pids:\(.*\)/\1/p' /proc/self/cgroup)
elif grep -qw pids /sys/fs/cgroup/cgroup.controllers 2> /dev/null &&
    mkdir "/sys/fs/cgroup/zv-test-$$" 2> /dev/null; then
	CG=/sys/fs/cgroup/zv-test-$$
	ORIG=/sys/fs/cgroup$(sed -n 's/^0::\(.*\)/\1/p' /proc/self/cgroup)
	if [ ! -f "$CG/pids.max" ]; then
		rmdir "$CG"
		CG=
	fi
fi
if [ -z "$CG" ] || [ ! -w "$CG/pids.max" ] || [ ! -w "$ORIG/cgroup.procs" ]; then
	[ -n "$CG" ] && rmdir "$CG"
	echo "SKIP: $TEST_NAME: no writable pids cgroup (v1 /sys/fs/cgroup/pids or v2 with pids)" >&2
	exit 77
fi
# Every process back where it came from, the cgroup removed; then
# lib.sh's cleanup with this test's exit code.
remove_cgroup() {
	local rc=$? i p
	echo max > "$CG/pids.max"
	for i in $(seq 1 40); do
		for p in $(cat "$CG/cgroup.procs" 2> /dev/null); do
			echo "$p" > "$ORIG/cgroup.procs" 2> /dev/null
		done
		rmdir "$CG" 2> /dev/null && break
		sleep 0.05
	done
	[ -d "$CG" ] && echo "warning: could not remove $CG" >&2
	(exit $rc)
	cleanup
}
trap remove_cgroup EXIT
# cap PID...: put the processes in the cgroup; then no more processes in it.
cap() {
	local p
	for p in "$@"; do
		echo "$p" > "$CG/cgroup.procs" || fail "cannot move $p into $CG"
	done
	cat "$CG/pids.current" > "$CG/pids.max"
}
uncap() { echo max > "$CG/pids.max"; }

write_config
quick=("[recovery]" "restart_delay = 200ms" "restart_delay_max = 1s" "max_failed_recoveries = 100")
zone alpha "$(fake alpha)" "${quick[@]}"
zone beta "$(fake beta)" "${quick[@]}"
start_daemon
for z in alpha beta; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done
watch_vms alpha beta
beta_vm=$(zfield beta pid)

# --- zonevisord cannot fork: alpha's worker is lost and not replaced.
vm=$(zfield alpha pid)
worker=$(zfield alpha worker_pid)
cap "$DAEMON_PID"
kill -KILL "$worker"
wait_for "the lost worker's VM stopped" 10 not_alive "$vm" || fail "VM $vm outlived its worker"
forks() { grep -c "zone alpha: fork of its worker failed" "$T/daemon.log"; }
fork_failed() { [ "$(forks)" -ge 1 ]; }
wait_for "a failed fork" 10 fork_failed || fail "zonevisord did not log a failed fork"
grep "zone alpha: fork of its worker failed" "$T/daemon.log" | grep -q "Resource temporarily unavailable" ||
    fail "the fork failure does not say why: $(grep "fork of" "$T/daemon.log")"
n0=$(forks)
t0=$(cpu_ticks "$DAEMON_PID")
sleep 3
n=$(( $(forks) - n0 ))
used=$(( $(cpu_ticks "$DAEMON_PID") - t0 ))
[ "$n" -le 3 ] || fail "$n forks of alpha's worker in 3s: no backoff"
grep -q "zone alpha: fork of its worker failed; trying again in 2s" "$T/daemon.log" ||
    fail "the delay between forks does not grow: $(grep "fork of" "$T/daemon.log")"
[ "$used" -le 20 ] || fail "zonevisord used $used ticks of CPU in 3s: it spins"
alive "$DAEMON_PID" || fail "zonevisord died"
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta was disturbed"
state_is alpha failed || fail "alpha is $(zfield alpha state) without a worker"
[ "$(diag alpha "d['worker']['alive']")" = false ] || fail "diagnose: $(diag alpha "d['worker']")"
[ "$(vm_count alpha)" -eq 0 ] || fail "alpha has $(vm_count alpha) VMs without a worker"
uncap
new_vm() { p=$(zfield alpha pid); [ "$p" != null ] && [ "$p" != "$vm" ] && state_is alpha running; }
wait_for "alpha running again" 20 new_vm || fail "alpha is $(zfield alpha state) once forks work"
[ "$(zfield alpha worker_pid)" != "$worker" ] || fail "alpha has no new worker"
grep -q "zone alpha: forked its worker again" "$T/daemon.log" || fail "no word that the fork worked again"

# --- beta's worker cannot fork: its VM dies and cannot be spawned again.
worker=$(zfield beta worker_pid)
alpha_vm=$(zfield alpha pid)
cap "$worker"
kill -KILL "$beta_vm"
spawn_backs_off beta EAGAIN "$worker"
[ "$(zfield alpha pid)" = "$alpha_vm" ] || fail "alpha was disturbed"
uncap
wait_for "beta running again" 10 zone_up beta || fail "beta is $(zfield beta state) once forks work"
[ "$(zfield beta worker_pid)" = "$worker" ] || fail "beta's worker was replaced"
[ "$(vm_count beta)" -eq 1 ] || fail "beta has $(vm_count beta) VMs"
check_vms
exit 0
