# parent_death.sh: zonevisord killed with SIGKILL.  Protects: its workers
# notice (PR_SET_PDEATHSIG and EOF on their link), stop their VMs
# gracefully and exit, so nothing keeps running without an owner.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta --ignore-term)" "stop_timeout = 1s"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"
vms="$(zfield alpha pid) $(zfield beta pid)"
workers="$(zfield alpha worker_pid) $(zfield beta worker_pid)"

kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
for p in $vms $workers; do
	wait_for "process $p to end" 10 not_alive "$p" || fail "process $p outlived zonevisord"
done
[ -z "$(leftovers)" ] || fail "left behind: $(leftovers)"
grep -q "lost the link to the parent\|SIGTERM: stopping the VM" "$T/daemon.log" || fail "workers did not notice"
exit 0
