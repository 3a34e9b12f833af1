# reload.sh: configuration reload by zonectl reload and SIGHUP.  Protects:
# --dry-run prints the plan and changes nothing; an invalid configuration
# changes nothing (same VMs), zonectl reload exits 1 naming file, line and
# key, and status records the failed reload; a valid one acts on the
# difference only: a removed zone's VM stops and the zone leaves status, an
# added zone starts, a changed zone gets a new VM with trigger reload, a
# [recovery]-only change and an unchanged zone keep their VM and get no
# record; never two VMs of one zone at once; and twenty SIGHUPs in quick
# succession between two configurations end with exactly the zones of the
# last one, each with one VM, and no worker or VM of another left.
. "$ZV_SRCDIR/tests/integration/lib.sh"

# Records in a zone's lifecycle log.
nrecords() { zc --json events "$1" | wc -l; }

# Live workers of a zone (they name themselves zv:ZONE).
worker_count() {
	local p n=0
	for p in $(leftovers); do
		alive "$p" || continue
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "zv:$1" ] && n=$((n + 1))
	done
	echo "$n"
}

no_worker() { [ "$(worker_count "$1")" -eq 0 ]; }

# The zone names in status, sorted, on one line.
zone_names() { json '" ".join(sorted(z))'; }

# 0 once ZONE runs with exactly one VM, which is the one status shows.
one_vm() {
	state_is "$1" running || return 1
	[ "$(vm_count "$1")" -eq 1 ] || return 1
	[ "$(vm_pids "$1")" = "$(zfield "$1" pid)" ]
}

not_reloading() { [ "$(json 'd["supervisor"]["reloading"]')" = false ]; }

write_config
zone keep "$(fake keep)"
zone gone "$(fake gone)"
zone change "$(fake change)"
zone policy "$(fake policy)" "[recovery]" "restart_delay = 1s"
start_daemon
for z in keep gone change policy; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done
[ "$(json 'd["supervisor"]["last_reload"]')" = null ] || fail "a reload before any"
watch_vms keep gone change policy added flip flop
keep1=$(zfield keep pid)
gone1=$(zfield gone pid)
change1=$(zfield change pid)
policy1=$(zfield policy pid)
keep_n=$(nrecords keep)
policy_n=$(nrecords policy)

# The new configuration: gone removed, added added, change's command and
# policy's [recovery] changed, keep as it was.
rm "$T/zones.d/gone.conf"
zone added "$(fake added)"
zone change "$(fake change) --print v2"
zone policy "$(fake policy)" "[recovery]" "restart_delay = 2s"

# --dry-run: the plan, and nothing else.
expect_rc 0 zc reload --dry-run
grep -qx "added: added" "$T/last.out" || fail "dry run printed: $(cat "$T/last.out")"
grep -qx "removed: gone" "$T/last.out" || fail "dry run printed: $(cat "$T/last.out")"
grep -qx "changed: change (restart)" "$T/last.out" || fail "dry run printed: $(cat "$T/last.out")"
grep -qx "changed: policy (recovery only, no restart)" "$T/last.out" || fail "dry run printed: $(cat "$T/last.out")"
grep -qx "unchanged: keep" "$T/last.out" || fail "dry run printed: $(cat "$T/last.out")"
expect_rc 0 zc --json reload --dry-run
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is True, d
assert d["added"] == ["added"] and d["removed"] == ["gone"], d
assert {"zone": "change", "restart": True, "what": "restart"} in d["changed"], d
assert {"zone": "policy", "restart": False, "what": "recovery"} in d["changed"], d
assert d["unchanged"] == ["keep"], d
' "$T/last.out" || fail "dry run JSON: $(cat "$T/last.out")"
sleep 0.3
[ "$(zone_names)" = "change gone keep policy" ] || fail "a dry run changed the zones: $(zone_names)"
[ "$(zfield gone pid)" = "$gone1" ] && [ "$(zfield change pid)" = "$change1" ] ||
    fail "a dry run touched a VM"
[ "$(vm_count added)" -eq 0 ] || fail "a dry run started a VM"

# An invalid configuration, by SIGHUP and by zonectl: nothing changes.
printf '[gateway]\ncommand = /bin/true\nbogus_key = 1\n' > "$T/zones.d/bad.conf"
kill -HUP "$DAEMON_PID"
wait_for "the refusal logged" 10 grep -q "bad.conf:3.*bogus_key" "$T/daemon.log" ||
    fail "an invalid configuration on SIGHUP was not logged"
[ "$(json 'd["supervisor"]["last_reload"]["ok"]')" = false ] || fail "status does not record the failed reload"
json 'd["supervisor"]["last_reload"]["error"]' | grep -q "bad.conf:3.*bogus_key" ||
    fail "last_reload.error: $(json 'd["supervisor"]["last_reload"]')"
expect_rc 1 zc reload
grep -q "bad.conf:3: \[gateway\] bogus_key" "$T/last.err" || fail "zonectl reload printed: $(cat "$T/last.err")"
[ "$(zone_names)" = "change gone keep policy" ] || fail "an invalid reload changed the zones: $(zone_names)"
for z in keep gone change policy; do
	eval "want=\$${z}1"
	[ "$(zfield $z pid)" = "$want" ] || fail "an invalid reload replaced $z's VM"
done
rm "$T/zones.d/bad.conf"

# The reload itself.
expect_rc 0 zc reload
grep -qx "added: added" "$T/last.out" || fail "reload printed: $(cat "$T/last.out")"
grep -qx "changed: change (restart)" "$T/last.out" || fail "reload printed: $(cat "$T/last.out")"
wait_for "gone removed" 15 sh -c "! '$ZC' -s '$SOCK' status gone >/dev/null 2>&1" || fail "gone is still in status: $(zfield gone state)"
alive "$gone1" && fail "the removed zone's VM $gone1 is alive"
wait_for "added running" 15 one_vm added || fail "added is $(zfield added state)"
wait_for "change running again" 15 sh -c "[ \"\$('$ZC' -s '$SOCK' --json status change | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"zones\"][0][\"pid\"])')\" != '$change1' ]" ||
    fail "change kept its VM"
wait_for "change running" 15 one_vm change || fail "change is $(zfield change state)"
alive "$change1" && fail "change's old VM $change1 is alive"
wait_for "reload done" 15 not_reloading || fail "still reloading"
[ "$(zfield keep pid)" = "$keep1" ] || fail "the unchanged zone's VM was replaced"
[ "$(zfield policy pid)" = "$policy1" ] || fail "a [recovery] change replaced the VM"
[ "$(nrecords keep)" -eq "$keep_n" ] || fail "the unchanged zone got records"
[ "$(nrecords policy)" -eq "$policy_n" ] || fail "the [recovery]-only zone got records"
zc --json events change | grep '"trigger":"reload"' | grep -q '"kind":"stop-requested"' ||
    fail "change's stop is not recorded with trigger reload"
zc --json events change | grep '"trigger":"reload"' | grep -q '"kind":"vm-spawned"' ||
    fail "change's new VM is not recorded with trigger reload"
[ "$(zone_names)" = "added change keep policy" ] || fail "zones after the reload: $(zone_names)"
[ "$(worker_count gone)" -eq 0 ] || fail "the removed zone's worker is alive"
[ "$(json 'd["supervisor"]["last_reload"]["ok"]')" = true ] || fail "last_reload: $(json 'd["supervisor"]["last_reload"]')"

# Twenty SIGHUPs in quick succession, alternating two configurations: A
# has flip and change v3, B has flop and change v4.  The last one is A.
for i in $(seq 1 20); do
	if [ $((i % 2)) -eq 0 ]; then
		rm -f "$T/zones.d/flop.conf"
		zone flip "$(fake flip)"
		zone change "$(fake change) --print v3"
	else
		rm -f "$T/zones.d/flip.conf"
		zone flop "$(fake flop)"
		zone change "$(fake change) --print v4"
	fi
	kill -HUP "$DAEMON_PID"
	sleep 0.02
done
wait_for "the storm settles" 30 not_reloading || fail "still reloading after the SIGHUPs"
[ "$(zone_names)" = "added change flip keep policy" ] || fail "zones after the SIGHUPs: $(zone_names)"
for z in added change flip keep policy; do
	wait_for "$z runs once" 15 one_vm $z || fail "$z: state $(zfield $z state), $(vm_count $z) VMs"
	[ "$(worker_count $z)" -eq 1 ] || fail "$z has $(worker_count $z) workers"
done
tr '\0' ' ' < "/proc/$(zfield change pid)/cmdline" | grep -q -- "--print v3" ||
    fail "change does not run the last configuration's command"
wait_for "flop gone" 10 no_worker flop ||
    fail "a worker of flop is left"
[ "$(vm_count flop)" -eq 0 ] || fail "a VM of flop is left"
[ "$(zfield keep pid)" = "$keep1" ] || fail "the SIGHUPs replaced the unchanged zone's VM"
check_vms
alive "$DAEMON_PID" || fail "zonevisord died"
exit 0
