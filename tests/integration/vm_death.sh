# vm_death.sh: what happens when a gateway VM dies or cannot run.
# Protects: SIGKILL of a running VM -> failed{vm-process-missing} naming the
# signal, cold-start eligible, escalated, and a start brings it back; an exit
# status is reported as such; a command that cannot be executed ->
# failed{vm-spawn-failed} naming errno, and zonectl start says so with exit
# 1; when the VM's leader dies, the rest of its process group and the
# strays it left outside the group die too (nothing of it survives).  The
# recovery policy is held off for an hour here (recovery.sh tests it).
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)" "${manual[@]}"
zone beta "$(fake beta --exit-after 300 --exit-code 7)" "autostart = no" "${manual[@]}"
zone gamma "/nonexistent/gateway-vm --flag" "autostart = no"
printf '#!/bin/sh\nexit 0\n' > "$T/noexec"
chmod 0644 "$T/noexec"
zone delta "$T/noexec" "autostart = no"
zone eps "$(fake eps --child --escaped-child "$T/eps.escaped")" "autostart = no" "${manual[@]}"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"

# SIGKILL the VM.
vm=$(zfield alpha pid)
kill -KILL "$vm"
wait_for "alpha failed" 10 state_is alpha failed || fail "alpha is $(zfield alpha state) after SIGKILL"
[ "$(json "z['alpha']['last_error']['code']")" = vm-process-missing ] || fail "code $(json "z['alpha']['last_error']")"
json "z['alpha']['last_error']['message']" | grep -q "SIGKILL" || fail "message does not name the signal: $(json "z['alpha']['last_error']['message']")"
[ "$(json "z['alpha']['last_exit']['signal']")" = SIGKILL ] || fail "last_exit $(zfield alpha last_exit)"
[ "$(zfield alpha cold_start_eligible)" = true ] || fail "vm-process-missing must be cold-start eligible"
[ "$(zfield alpha pid)" = null ] || fail "failed zone still shows a pid"
grep -q "escalat" "$T/daemon.log" || fail "the worker did not escalate"
# The policy scheduled a recovery (in an hour here), recorded it, and waits.
[ "$(json "z['alpha']['recovery']['state']")" = scheduled ] || fail "recovery $(zfield alpha recovery)"
next=$(json "z['alpha']['recovery']['next_attempt_in_ms']")
[ "$next" -gt 3000000 ] && [ "$next" -le 3960000 ] || fail "next attempt in $next ms, expected about 1h"
zc --json events -n 3 alpha | grep -q '"kind":"recovery-scheduled"' || fail "recovery-scheduled not recorded"
# A reset with nothing to reset (no failed recovery yet) changes nothing:
# the recovery stays scheduled (it used to be cancelled, leaving the zone
# down for good; found by the soak).
expect_rc 8 zc reset alpha
[ "$(json "z['alpha']['recovery']['state']")" = scheduled ] || fail "a refused reset changed the recovery: $(zfield alpha recovery)"
state_is alpha failed || fail "alpha left failed on its own: $(zfield alpha state)"
expect_rc 0 zc start alpha
new=$(zfield alpha pid)
[ "$new" != "$vm" ] && alive "$new" || fail "start after failure: pid $new"

# A VM that exits with a status.
expect_rc 0 zc start beta
wait_for "beta failed" 10 state_is beta failed || fail "beta is $(zfield beta state)"
json "z['beta']['last_error']['message']" | grep -q "exited with status 7" || fail "beta message: $(json "z['beta']['last_error']['message']")"
[ "$(json "z['beta']['last_exit']['code']")" = 7 ] || fail "beta last_exit $(zfield beta last_exit)"

# A command that does not exist, and one that is not executable.
expect_rc 1 zc start gamma
grep -q "vm-spawn-failed" "$T/last.err" && grep -q "ENOENT" "$T/last.err" || fail "start gamma said: $(cat "$T/last.err")"
state_is gamma failed || fail "gamma is $(zfield gamma state)"
[ "$(json "z['gamma']['last_error']['code']")" = vm-spawn-failed ] || fail "gamma code"
expect_rc 1 zc start delta
grep -q "EACCES" "$T/last.err" || fail "start delta said: $(cat "$T/last.err")"
# Failed starts disturbed nobody.
[ "$(zfield alpha pid)" = "$new" ] || fail "alpha's VM changed"

# The VM's group and its escaped strays die with it.
expect_rc 0 zc start eps
wait_for "escaped child recorded" 10 test -s "$T/eps.escaped" || fail "no escaped child"
stray=$(cut -d' ' -f1 "$T/eps.escaped")
alive "$stray" || fail "escaped child $stray not alive"
# The VM, its child in its group, the stray outside it: three processes.
[ "$(vm_count eps)" -eq 3 ] || fail "eps should have 3 processes, has $(vm_count eps)"
kill -KILL "$(zfield eps pid)"
wait_for "eps failed" 10 state_is eps failed || fail "eps is $(zfield eps state)"
no_eps() { [ "$(vm_count eps)" -eq 0 ]; }
wait_for "eps processes gone" 5 no_eps || fail "eps left $(vm_count eps) processes behind"
not_alive "$stray" || fail "escaped stray $stray survived its VM"
exit 0
