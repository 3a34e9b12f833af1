# lifecycle.sh: start, stop and restart through zonectl against a real
# zonevisord.  Protects: autostart at boot; a zone with autostart = no stays
# stopped; start/stop/restart wait and report the state they reached; a
# restart replaces the VM (new pid, old one gone, never two at once);
# restart of a stopped zone starts it; --no-wait answers at once with an
# operation id; --all; status exit codes 0 and 3.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta)" "autostart = no"
start_daemon

wait_for "alpha running" 10 state_is alpha running || fail "alpha did not autostart"
state_is beta stopped || fail "beta (autostart = no) is $(zfield beta state)"
a1=$(zfield alpha pid)
alive "$a1" || fail "alpha's pid $a1 is not alive"
[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"
# The VM holds stdio and nothing else of zonevisord's; it leads its session.
fds=$(ls "/proc/$a1/fd" | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 " ] || fail "the VM inherited descriptors: $fds"
[ "$(cut -d' ' -f6 "/proc/$a1/stat")" = "$a1" ] || fail "the VM is not a session leader"
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "control socket mode $(stat -c %a "$SOCK")"
[ "$(zfield alpha operation_id)" != null ] || fail "autostart has no operation id"
case "$(zfield alpha operation_id)" in
alpha-start-*-*-*-*-*) ;;
*) fail "operation id $(zfield alpha operation_id) is not alpha-start-<uuid>" ;;
esac

# start waits until running and says so.
expect_rc 0 zc start beta
grep -q "^beta: running (pid [0-9]*)" "$T/last.out" || fail "start printed: $(cat "$T/last.out")"
b1=$(zfield beta pid)
alive "$b1" || fail "beta's pid $b1 is not alive"
state_is beta running || fail "beta is $(zfield beta state) after start"

# start of a running zone changes nothing.
expect_rc 0 zc start beta
[ "$(zfield beta pid)" = "$b1" ] || fail "start of a running zone replaced its VM"

# restart: a new VM, the old one gone, one VM at a time.
expect_rc 0 zc restart beta
b2=$(zfield beta pid)
[ "$b2" != "$b1" ] || fail "restart kept pid $b1"
alive "$b1" && fail "old VM $b1 still alive after restart"
alive "$b2" || fail "new VM $b2 not alive"
[ "$(vm_count beta)" -eq 1 ] || fail "beta has $(vm_count beta) VMs after restart"
[ "$(zfield beta restarts)" = 1 ] || fail "restarts is $(zfield beta restarts), expected 1"
[ "$(wc -l < "$T/beta.starts")" -eq 2 ] || fail "beta started $(wc -l < "$T/beta.starts") times, expected 2"

# stop waits until the VM is gone.
expect_rc 0 zc stop alpha
grep -q "^alpha: stopped" "$T/last.out" || fail "stop printed: $(cat "$T/last.out")"
alive "$a1" && fail "alpha's VM $a1 survived stop"
state_is alpha stopped || fail "alpha is $(zfield alpha state)"
[ "$(zfield alpha pid)" = null ] || fail "stopped zone shows pid $(zfield alpha pid)"
[ "$(zfield alpha desired)" = stopped ] || fail "desired state is $(zfield alpha desired)"

# status exit codes: 3 for a named zone that is not running, else 0.
expect_rc 3 zc status alpha
expect_rc 0 zc status beta
expect_rc 0 zc status
grep -q "^alpha  *stopped" "$T/last.out" || fail "status table: $(cat "$T/last.out")"

# restart of a stopped zone starts it.
expect_rc 0 zc restart alpha
state_is alpha running || fail "restart of a stopped zone left it $(zfield alpha state)"

# --no-wait answers with the operation id; the zone gets there anyway.
expect_rc 0 zc restart --no-wait alpha
grep -q "^alpha: restart accepted (alpha-restart-" "$T/last.out" || fail "--no-wait printed: $(cat "$T/last.out")"
wait_for "alpha restarted" 10 sh -c "[ \$(wc -l < '$T/alpha.starts') -eq 3 ]" || fail "no-wait restart did not happen"
wait_for "alpha running" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"

# --all stops and starts every zone, several operations in flight at once.
expect_rc 0 zc stop --all
state_is alpha stopped && state_is beta stopped || fail "stop --all left $(zfield alpha state)/$(zfield beta state)"
[ "$(vm_count alpha)" -eq 0 ] && [ "$(vm_count beta)" -eq 0 ] || fail "VMs left after stop --all"
expect_rc 0 zc start --all
state_is alpha running && state_is beta running || fail "start --all left $(zfield alpha state)/$(zfield beta state)"

# Two restarts of one zone asked at once run one after the other.
zc restart --no-wait beta >/dev/null
expect_rc 0 zc restart beta
[ "$(vm_count beta)" -eq 1 ] || fail "beta has $(vm_count beta) VMs after overlapping restarts"
exit 0
