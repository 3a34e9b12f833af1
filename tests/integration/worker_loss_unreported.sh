# worker_loss_unreported.sh: a worker killed after it spawned a VM but
# before it reported it (found by the chaos soak: the parent knew no VM, so
# the zone's next worker started a second one beside it).  strace holds the
# worker at the exit of the clone that spawned the VM, the test kills it
# there.  Protects: the parent finds the unreported VM by the zone's marker
# among the processes reparented to it, stops it (owner-unsafe{orphaned-vm}
# until it is gone), and only then can the zone start a VM again: never two
# VMs of the zone at once.  Needs strace(1) and ptrace: skipped without.
. "$ZV_SRCDIR/tests/integration/lib.sh"

command -v strace >/dev/null || { echo "SKIP: no strace" >&2; exit 77; }

write_config
zone delta "$(fake delta)" "autostart = no"
start_daemon
wait_for "delta stopped" 10 state_is delta stopped || fail "delta is $(zfield delta state)"
watch_vms delta
worker=$(zfield delta worker_pid)

# Hold the worker for 20 s as its clone returns: the VM exists, unreported.
# Every thread of it (the zone runs on a thread of its own), not its child.
strace -qq -o "$T/strace.out" -p "$(ls "/proc/$worker/task" | paste -sd,)" \
    -e trace=clone,clone3 -e inject=clone,clone3:delay_exit=20000000 \
    2> "$T/strace.err" &
tracer=$!
traced() { ! grep -q '^TracerPid:[[:space:]]*0$' "/proc/$worker/status"; }
if ! wait_for "strace to attach" 10 traced; then
	kill "$tracer" 2>/dev/null
	echo "SKIP: strace cannot attach (no ptrace here)" >&2
	exit 77
fi
zc start delta > "$T/start.out" 2>&1 &
starter=$!
one_vm() { [ "$(vm_count delta)" -eq 1 ]; }
wait_for "delta's VM to exist" 10 one_vm || fail "no VM was spawned: $(cat "$T/strace.out")"
vm=$(vm_pids delta)
[ "$(zfield delta pid)" = null ] || fail "the worker reported VM $(zfield delta pid) before it was held: $(cat "$T/strace.out")"
kill -KILL "$worker"
wait "$tracer" 2>/dev/null
wait "$starter" && fail "start succeeded although its worker died: $(cat "$T/start.out")"

# The parent stops the VM nobody reported, then the zone may start again.
wait_for "the unreported VM stopped" 10 not_alive "$vm" ||
    fail "VM $vm, spawned by the dead worker, still runs (delta: $(zfield delta state))"
grep -q "its worker died before it reported VM pid $vm" "$T/daemon.log" ||
    fail "the parent did not find the unreported VM"
new_worker() { p=$(zfield delta worker_pid); [ "$p" != null ] && [ "$p" != "$worker" ]; }
wait_for "a new worker" 10 new_worker || fail "delta got no new worker"
expect_rc 0 zc start delta
[ "$(vm_count delta)" -eq 1 ] || fail "delta has $(vm_count delta) VMs"
[ "$(wc -l < "$T/delta.starts")" -eq 2 ] || fail "delta started $(wc -l < "$T/delta.starts") times, expected 2"
check_vms
exit 0
