# stop_timeout.sh: stopping a VM that will not stop.  Protects: stop_signal
# is what the VM receives; a VM that ignores it is SIGKILLed once
# stop_timeout has passed (not before, and not much after), and the zone
# ends stopped with no process left.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha --ignore-term)" "stop_timeout = 1500ms"
zone beta "$(fake beta)" "stop_signal = SIGUSR1"
start_daemon
wait_for "zones running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"

# stop_signal reaches the VM.
expect_rc 0 zc stop beta
grep -q "sending SIGUSR1 to VM pid" "$T/daemon.log" || fail "SIGUSR1 was not sent"
[ "$(json "z['beta']['last_exit']['signal']")" = SIGUSR1 ] || fail "beta last_exit $(zfield beta last_exit)"

# A VM ignoring SIGTERM is killed at stop_timeout.
vm=$(zfield alpha pid)
t0=$(date +%s%N)
expect_rc 0 zc stop alpha
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 1400 ] || fail "stop took ${ms}ms: SIGKILL came before stop_timeout (1500ms)"
[ "$ms" -lt 4000 ] || fail "stop took ${ms}ms: SIGKILL came long after stop_timeout (1500ms)"
alive "$vm" && fail "VM $vm survived the stop"
state_is alpha stopped || fail "alpha is $(zfield alpha state)"
[ "$(json "z['alpha']['last_exit']['signal']")" = SIGKILL ] || fail "alpha last_exit $(zfield alpha last_exit)"
grep -q "still alive after stop_timeout" "$T/daemon.log" || fail "the SIGKILL was not logged"
exit 0
