# shutdown.sh: SIGTERM to zonevisord.  Protects: every zone is stopped in
# parallel and gracefully, the daemon exits 0, the control socket is
# removed, and no process of the test is left behind; a VM that ignores its
# stop signal does not hold the shutdown past shutdown_timeout.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta --ignore-term)" "stop_timeout = 1s"
zone gamma "$(fake gamma --child)"
start_daemon
for z in alpha beta gamma; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done
pids="$(zfield alpha pid) $(zfield beta pid) $(zfield gamma pid) $(zfield alpha worker_pid)"

# SIGTERM the daemon and wait for it: sets rc and ms (how long it took).
term_daemon() {
	local t0 t1
	t0=$(date +%s%N)
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	rc=$?
	t1=$(date +%s%N)
	DAEMON_PID=
	ms=$(( (t1 - t0) / 1000000 ))
}

term_daemon
[ "$rc" -eq 0 ] || fail "zonevisord exited $rc after SIGTERM"
# Zones stop in parallel: about beta's stop_timeout, not the sum.
[ "$ms" -lt 3500 ] || fail "shutdown took ${ms}ms"
for p in $pids; do
	alive "$p" && fail "process $p survived the shutdown"
done
[ -z "$(leftovers)" ] || fail "left behind: $(leftovers)"
[ -e "$SOCK" ] && fail "control socket not removed"
grep -q "zonevisord stopped" "$T/daemon.log" || fail "no clean stop in the log"
grep -q "worker [0-9]* \(exited with status [1-9]\|killed\)" "$T/daemon.log" && fail "a worker did not exit cleanly"

# shutdown_timeout bounds a shutdown that stop_timeout would make long.
write_config "shutdown_timeout = 1s"
zone beta "$(fake beta --ignore-term)" "stop_timeout = 60s"
rm -f "$T/zones.d/alpha.conf" "$T/zones.d/gamma.conf"
start_daemon
wait_for "beta running" 10 state_is beta running || fail "beta did not start"
term_daemon
[ "$rc" -eq 0 ] || fail "zonevisord exited $rc after a forced shutdown"
[ "$ms" -lt 4000 ] || fail "shutdown_timeout 1s, but the shutdown took ${ms}ms"
[ -z "$(leftovers)" ] || fail "left behind after the forced shutdown: $(leftovers)"
exit 0
