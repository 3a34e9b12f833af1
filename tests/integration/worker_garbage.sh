# worker_garbage.sh: a worker that sends a malformed frame.  Protects: the
# parent treats it as a lost worker (never a crash): it kills the worker,
# stops the VM left behind, forks a new worker and recovers the zone; the
# daemon answers throughout and other zones are untouched.  The garbage is
# written into the worker's end of its link through pidfd_getfd(2).
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta)"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"
watch_vms alpha
vm=$(zfield alpha pid)
worker=$(zfield alpha worker_pid)
beta_vm=$(zfield beta pid)

# The worker's link is its one Unix socket.
fd=$(for f in /proc/$worker/fd/*; do
	case "$(readlink "$f")" in socket:*) basename "$f" ;; esac
done | head -n 1)
[ -n "$fd" ] || fail "no socket in worker $worker"
# A frame of 3 bytes, each 0xc1 (a byte msgpack never uses).
"$BUILD/tests/fdwrite" "$worker" "$fd" 00000003c1c1c1 ||
    fail "could not write into worker $worker's link"

wait_for "the worker killed" 10 not_alive "$worker" ||
    fail "worker $worker survived sending garbage"
grep -q "zone alpha: bad message from worker $worker" "$T/daemon.log" || fail "the bad frame was not reported"
wait_for "the VM stopped" 10 not_alive "$vm" || fail "the lost worker's VM kept running"
recovered() { p=$(zfield alpha pid); [ "$p" != null ] && [ "$p" != "$vm" ] && state_is alpha running; }
wait_for "alpha recovered" 10 recovered || fail "alpha is $(zfield alpha state)"
alive "$DAEMON_PID" || fail "zonevisord died"
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta was disturbed"
expect_rc 0 zc status
check_vms
exit 0
