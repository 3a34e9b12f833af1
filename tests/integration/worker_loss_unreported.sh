# worker_loss_unreported.sh: a worker killed after it spawned a VM but
# before it reported it (found by the chaos soak: the parent knew no VM, so
# the zone's next worker started a second one beside it).  strace holds the
# worker at the exit of the clone that spawned the VM, the test kills it
# there.  Protects: the parent finds the unreported VM by the zone's marker
# among the processes reparented to it, stops it (owner-unsafe{orphaned-vm}
# until it is gone), and only then can the zone start a VM again: never two
# VMs of the zone at once.  The same when the worker dies a moment
# earlier, its spawn between clone and execve: that child has no marker
# yet, only the worker's name, and the parent kills it before it can exec.
# Needs strace(1) and ptrace: skipped without.
. "$ZV_SRCDIR/tests/integration/lib.sh"

command -v strace >/dev/null || { echo "SKIP: no strace" >&2; exit 77; }

write_config
zone delta "$(fake delta)" "autostart = no"
zone eps "$(fake eps)" "autostart = no"
start_daemon
wait_for "delta stopped" 10 state_is delta stopped || fail "delta is $(zfield delta state)"
watch_vms delta eps
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

# eps: hold the spawned child at the entry of its execve for 3 s (-f
# follows it from the worker's clone), then kill the worker.  A SIGKILLed
# tracee dies when strace lets it go; until then it holds the zone's worker
# lock, which the next worker waits up to 10 s for.
wait_for "eps stopped" 10 state_is eps stopped || fail "eps is $(zfield eps state)"
worker=$(zfield eps worker_pid)
strace -qq -f -o "$T/strace-eps.out" -p "$(ls "/proc/$worker/task" | paste -sd,)" \
    -e trace=execve -e inject=execve:delay_enter=3000000 2> "$T/strace-eps.err" &
tracer=$!
wait_for "strace to attach to eps's worker" 10 traced || fail "strace did not attach: $(cat "$T/strace-eps.err")"
# The held child: a child of the worker that still bears its name (each
# thread's children file may list it).
held() {
	local p
	for p in $(cat /proc/"$worker"/task/*/children 2>/dev/null | tr ' ' '\n' | sort -u); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = zv:eps ] && echo "$p"
	done
}
zc start eps > "$T/start-eps.out" 2>&1 &
starter=$!
has_held() { [ -n "$(held)" ]; }
wait_for "eps's spawn held before exec" 10 has_held || fail "no spawn held: $(cat "$T/strace-eps.out")"
child=$(held | head -n 1)
kill -KILL "$worker"
wait "$starter" && fail "start succeeded although its worker died: $(cat "$T/start-eps.out")"
wait_for "the held spawn killed" 10 not_alive "$child" ||
    fail "the spawn $child of the dead worker lives on (it would exec into a VM nobody knows)"
grep -q "not yet executed spawn of a lost worker $child" "$T/daemon.log" ||
    fail "the parent did not kill the spawn: $(grep "$child" "$T/daemon.log")"
# strace ends once the killed child is gone; it would follow a VM for ever.
tracer_gone() { ! kill -0 "$tracer" 2>/dev/null; }
wait_for "strace to end" 10 tracer_gone || { kill "$tracer"; fail "strace still traces: the spawn lives on"; }
wait "$tracer" 2>/dev/null
[ ! -s "$T/eps.starts" ] || fail "the spawn of the dead worker ran the VM"
wait_for "a new eps worker" 15 state_is eps stopped || fail "eps is $(zfield eps state)"
expect_rc 0 zc start eps
[ "$(vm_count eps)" -eq 1 ] || fail "eps has $(vm_count eps) VMs"
[ "$(wc -l < "$T/eps.starts")" -eq 1 ] || fail "eps started $(wc -l < "$T/eps.starts") times, expected 1"
check_vms
exit 0
