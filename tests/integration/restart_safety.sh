# restart_safety.sh: a restart never costs more than it must.  Protects: a
# restart whose preflight fails (the command is gone) leaves the old VM
# running with the same pid; a restart that times out in its stop phase
# fails recovery-timeout, starts no VM for its stale generation, and ends
# failed{stale-generation-closed} with the close recorded; at no moment are
# two VMs of the zone alive.
. "$ZV_SRCDIR/tests/integration/lib.sh"

cp "$FAKE" "$T/vm"
write_config
zone alpha "$T/vm --marker alpha --start-file $T/alpha.starts"
zone beta "$(fake beta --ignore-term)" "stop_timeout = 2s"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"

# Preflight: the VM's command disappears; the restart must not touch the VM.
vm=$(zfield alpha pid)
rm "$T/vm"
expect_rc 1 zc restart alpha
grep -q "vm-spawn-failed" "$T/last.err" && grep -q "preflight" "$T/last.err" ||
    fail "restart said: $(cat "$T/last.err")"
state_is alpha running || fail "alpha is $(zfield alpha state) after a failed preflight"
[ "$(zfield alpha pid)" = "$vm" ] || fail "the VM changed from $vm to $(zfield alpha pid)"
alive "$vm" || fail "the old VM was killed"
[ "$(wc -l < "$T/alpha.starts")" -eq 1 ] || fail "a VM was spawned"
op=$(zfield alpha operation_id)
zc --json events alpha | python3 -c '
import json, sys
op = sys.argv[1]
rs = [r for r in map(json.loads, sys.stdin) if r["operation_id"] == op]
assert [r["kind"] for r in rs] == ["restart-requested", "operation-failed"], rs
assert rs[1]["error_code"] == "vm-spawn-failed", rs[1]
' "$op" || fail "the failed preflight is not recorded as such"

# Timeout: beta's old VM takes 2 s to die; the restart may take 1 s.
old=$(zfield beta pid)
expect_rc 1 zc --timeout 1s restart beta
grep -q "recovery-timeout" "$T/last.err" || fail "timed-out restart said: $(cat "$T/last.err")"
one_vm() {
	[ "$(vm_count beta)" -le 1 ] || { echo "two VMs of beta alive" > "$T/two"; return 1; }
	state_is beta failed
}
wait_for "beta settles" 10 one_vm || fail "beta is $(zfield beta state)"
[ -e "$T/two" ] && fail "two VMs of beta were alive at once"
not_alive "$old" || fail "the old VM survived"
[ "$(vm_count beta)" -eq 0 ] || fail "a VM of the stale restart runs"
[ "$(json "z['beta']['last_error']['code']")" = stale-generation-closed ] || fail "beta last_error $(zfield beta last_error)"
[ "$(zfield beta cold_start_eligible)" = true ] || fail "stale-generation-closed must be eligible"
[ "$(wc -l < "$T/beta.starts")" -eq 1 ] || fail "the stale restart spawned a VM"
zc --json events beta | python3 -c '
import json, sys
rs = list(map(json.loads, sys.stdin))
assert any(r["kind"] == "operation-failed" and r.get("error_code") == "recovery-timeout" for r in rs)
assert any(r["kind"] == "vm-close-finished" and r.get("error_code") == "stale-generation-closed" for r in rs)
' || fail "the timeout and the stale close are not recorded"
# And the zone starts again.
expect_rc 0 zc start beta
[ "$(vm_count beta)" -eq 1 ] || fail "beta has $(vm_count beta) VMs"
exit 0
