# recovery.sh: the recovery policy against a real zonevisord.  Protects: a
# dead VM is cold-started after restart_delay, doubling for each recovery
# that fails before stable_after, up to restart_delay_max; after
# max_failed_recoveries in a row the zone is suspended (recorded once, no
# more attempts) until zonectl reset or start lifts it; a stable run starts
# the count afresh; a crash loop ends suspended too; a zone whose start at
# boot failed (nobody was told) is recovered like any eligible failure;
# never two VMs.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)" "" "[recovery]" "restart_delay = 300ms" \
    "restart_delay_max = 1200ms" "stable_after = 6s" "max_failed_recoveries = 3" \
    "suspend_for = 1h"
zone beta "$(fake beta --exit-after 0)" "" "[recovery]" "restart_delay = 100ms" \
    "stable_after = 2s" "max_failed_recoveries = 3" "suspend_for = 1h"
zone late "$(fake late)" "cwd = $T/later" "[recovery]" "restart_delay = 200ms" \
    "restart_delay_max = 400ms"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
watch_vms alpha beta late

# late's autostart fails (its working directory is missing); once the
# directory exists, the policy's next cold start brings it up.
wait_for "late's start to fail" 10 sh -c "grep -q 'zone late: operation .* failed: vm-spawn-failed' '$T/daemon.log'" ||
    fail "late is $(zfield late state)"
mkdir "$T/later"
wait_for "late recovered" 10 state_is late running ||
    fail "late's failed autostart was not recovered: $(zfield late state), recovery $(zfield late recovery)"
zc --json events late | grep '"kind":"operation-finished"' | tail -n 1 | grep -q '"auto-recovery"' ||
    fail "late did not come up by auto-recovery: $(zc events late | tail -n 5)"

# The time from SIGKILL to the next start of alpha's VM, in ms.
starts() { wc -l < "$T/alpha.starts"; }
kill_and_time() {
	local n pid t0 t1
	n=$(starts)
	pid=$(zfield alpha pid)
	t0=$(date +%s%N)
	kill -KILL "$pid"
	wait_for "alpha restarted" 10 sh -c "[ \$(wc -l < '$T/alpha.starts') -gt $n ]" ||
	    fail "alpha was not recovered after kill $((n))"
	t1=$(tail -n 1 "$T/alpha.starts" | cut -d' ' -f2)
	echo $(( (t1 - t0) / 1000000 ))
	wait_for "alpha running" 5 state_is alpha running || fail "alpha is $(zfield alpha state)"
}
# within MS LOW HIGH
within() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "recovery took $1 ms, expected $2..$3"; }

# Backoff: 300 ms, then (each recovery failing before stable_after) 600, 1200.
# stable_after is 6 s so that a slow machine (sanitizers, a busy CI) still
# kills each VM well within it.
d=$(kill_and_time); within "$d" 260 800
d=$(kill_and_time); within "$d" 530 1200
d=$(kill_and_time); within "$d" 1070 1800
[ "$(json "z['alpha']['recovery']['consecutive_failures']")" = 2 ] || fail "recovery $(zfield alpha recovery)"
# The third failed recovery suspends the zone: no attempt, one record.
n=$(starts)
kill -KILL "$(zfield alpha pid)"
wait_for "alpha suspended" 5 sh -c "[ \"\$($ZC -s $SOCK --json status alpha | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"zones\"][0][\"recovery\"][\"state\"])')\" = suspended ]" ||
    fail "alpha recovery is $(zfield alpha recovery)"
sleep 1.5
[ "$(starts)" -eq "$n" ] || fail "a suspended zone was started"
state_is alpha failed || fail "alpha is $(zfield alpha state)"
[ "$(zc --json events alpha | grep -c '"kind":"recovery-suspended"')" -eq 1 ] || fail "recovery-suspended not recorded exactly once"
zc diagnose alpha | grep -q "^recovery: *suspended" || fail "diagnose does not show the suspension"

# zonectl reset lifts it and the zone is recovered at the base delay.
t0=$(date +%s%N)
expect_rc 0 zc reset alpha
grep -q "suspension lifted" "$T/last.out" || fail "reset said: $(cat "$T/last.out")"
wait_for "alpha recovered" 5 state_is alpha running || fail "alpha is $(zfield alpha state) after reset"
t1=$(tail -n 1 "$T/alpha.starts" | cut -d' ' -f2)
within $(( (t1 - t0) / 1000000 )) 200 900
# Nothing left to reset: exit 8.
expect_rc 8 zc reset alpha
grep -q "nothing to reset" "$T/last.err" || fail "second reset said: $(cat "$T/last.err")"
expect_rc 4 zc reset gamma

# After stable_after, a failure counts from the base delay again.
sleep 6.2
d=$(kill_and_time); within "$d" 260 800

# A crash loop (beta's VM exits at once) ends suspended after 3 failed
# recoveries: the start plus 3 attempts, then nothing.
wait_for "beta suspended" 15 sh -c "[ \"\$($ZC -s $SOCK --json status beta | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"zones\"][0][\"recovery\"][\"state\"])')\" = suspended ]" ||
    fail "beta recovery is $(zfield beta recovery)"
[ "$(wc -l < "$T/beta.starts")" -eq 4 ] || fail "beta started $(wc -l < "$T/beta.starts") times, expected 4"
# zonectl start lifts a suspension too.
expect_rc 0 zc start beta
[ "$(json "z['beta']['recovery']['state']")" != suspended ] || fail "start did not lift the suspension"
check_vms
exit 0
