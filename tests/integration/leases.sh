#!/bin/bash
# leases.sh: tool VM leases.  Acquire fills the slots in order, each tool
# VM started with %port, %slot, %lease and %zone substituted in its argv,
# then says "no free slot"; renew moves the expiry; a tool VM killed from
# outside ends its lease and frees its slot; release stops the VM; an idle
# lease expires; a tool VM that ignores SIGTERM is killed at stop_timeout;
# a gateway stop or restart releases every lease (unless
# release_on_restart = no); and bad requests change nothing, each with its
# own exit code.
. "$ZV_SRCDIR/tests/integration/lib.sh"

base=$((20000 + RANDOM % 20000))
tool() {	# ZONE [fake-vm options]: [tool-vm] command, on two lines
	local z=$1
	shift
	echo "command = $FAKE --marker tool-$z --start-file $T/tool-$z.starts"
	echo "	--print port=%port,slot=%slot,lease=%lease,zone=%zone $*"
}

write_config
mapfile -t l < <(tool alpha)
zone alpha "$(fake alpha)" "[tool-vm]" "${l[@]}" \
    "max_leases = 2" "base_port = $base" "idle_ttl = 1h"
mapfile -t l < <(tool beta)
zone beta "$(fake beta)" "[tool-vm]" "${l[@]}" \
    "max_leases = 1" "base_port = $((base + 10))" "idle_ttl = 1s"
zone gamma "$(fake gamma)"
mapfile -t l < <(tool delta)
zone delta "$(fake delta)" "autostart = no" "[tool-vm]" "${l[@]}" \
    "base_port = $((base + 20))"
mapfile -t l < <(tool eps --ignore-term)
zone eps "$(fake eps)" "stop_timeout = 1s" "[tool-vm]" "${l[@]}" \
    "base_port = $((base + 30))"
mapfile -t l < <(tool keep)
zone keep "$(fake keep)" "[tool-vm]" "${l[@]}" \
    "base_port = $((base + 40))" "release_on_restart = no"
zone broken "$(fake broken)" "[tool-vm]" "command = $T/no-such-tool %port" \
    "base_port = $((base + 50))"
start_daemon
for z in alpha beta gamma eps keep broken; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done

# lease list as Python data: l = [{...}, ...]
leases() { zc --json lease list ${2:-} | python3 -c "import json, sys; l = json.load(sys.stdin)['leases']; print($1)"; }
# A field of the lease acquired last (saved by acquire).
lf() { python3 -c "import json; print(json.load(open('$T/acq.json'))['lease']['$1'])"; }
acquire() { zc --json lease acquire "$@" > "$T/acq.json" || fail "acquire $* failed"; }
events_of() { zc --json events "$1" -n 200; }

# Acquire fills slot 0, then slot 1, each on base_port + slot.
acquire alpha --owner agent-1
id0=$(lf id); pid0=$(lf pid)
[ "$(lf slot)" = 0 ] && [ "$(lf port)" = "$base" ] || fail "first lease: slot $(lf slot) port $(lf port)"
[ "$(lf owner)" = agent-1 ] || fail "owner not kept: $(lf owner)"
alive "$pid0" || fail "tool VM $pid0 is not alive"
tr '\0' ' ' < "/proc/$pid0/cmdline" | grep -q -- "--print port=$base,slot=0,lease=$id0,zone=alpha " ||
    fail "tool VM argv lacks the substituted tokens: $(tr '\0' ' ' < "/proc/$pid0/cmdline")"
wait_for "tool VM output" 5 grep -q "port=$base,slot=0" "$T/state/zones/alpha/tool-0.log" ||
    fail "tool VM output did not reach tool-0.log"
[ -f "$T/state/zones/alpha/leases/$id0" ] || fail "no lease record for $id0"
acquire alpha
id1=$(lf id); pid1=$(lf pid)
[ "$(lf slot)" = 1 ] && [ "$(lf port)" = $((base + 1)) ] || fail "second lease: slot $(lf slot)"
expect_rc 11 zc lease acquire alpha
grep -q "no free slot" "$T/last.err" || fail "no 'no free slot' message: $(cat "$T/last.err")"
[ "$(leases 'len(l)' alpha)" = 2 ] || fail "lease list does not show 2 leases"
[ "$(zfield alpha leases)" = 2 ] || fail "status does not count 2 leases"
zc lease list | grep -q "$id0" || fail "the table of lease list lacks $id0"

# Renew moves the expiry to now + ttl.
before=$(leases "[x['expires_at'] for x in l if x['id'] == '$id0'][0]" alpha)
zc --json lease renew "$id0" --ttl 2h > "$T/renew.json" || fail "renew failed"
after=$(python3 -c "import json; print(json.load(open('$T/renew.json'))['lease']['expires_at'])")
[ $((after - before)) -gt $((3600 * 1000 - 60000)) ] || fail "renew moved the expiry from $before to $after only"

# Bad input: each refused with its own code, nothing changed.
expect_rc 9 zc lease renew 01234567-89ab-cdef-0123-456789abcdef
grep -q "no lease" "$T/last.err" || fail "unknown lease: $(cat "$T/last.err")"
expect_rc 10 zc lease release "$id0" --zone beta
grep -q "alpha" "$T/last.err" || fail "lease of another zone: $(cat "$T/last.err")"
expect_rc 3 zc lease acquire delta
expect_rc 12 zc lease acquire gamma
expect_rc 4 zc lease acquire nosuchzone
for ttl in 0 bogus 48h 10ms -5s; do
	expect_rc 2 zc lease acquire beta --ttl "$ttl"
	[ -s "$T/last.err" ] || fail "--ttl $ttl: no message"
done
expect_rc 2 zc lease release
expect_rc 2 zc lease frobnicate alpha
[ "$(leases "sorted(x['pid'] for x in l)" alpha)" = "$(python3 -c "print(sorted([$pid0, $pid1]))")" ] ||
    fail "bad requests changed the leases"
[ ! -e "$T/tool-beta.starts" ] || fail "a refused acquire started a tool VM"

# A tool VM killed from outside ends its lease and frees its slot.
kill -KILL "$pid1"
wait_for "lease $id1 gone" 5 sh -c "! $ZC -s $SOCK lease list alpha | grep -q $id1" ||
    fail "a dead tool VM kept its lease"
events_of alpha | grep "lease-released" | grep -q "by itself" || fail "no lease-released record for the dead tool VM"
acquire alpha
[ "$(lf slot)" = 1 ] || fail "slot 1 was not freed"
id1=$(lf id); pid1=$(lf pid)

# Release stops the tool VM, then answers.
zc lease release "$id0" > "$T/rel.out" || fail "release failed"
not_alive "$pid0" || fail "released tool VM $pid0 is alive"
[ ! -e "$T/state/zones/alpha/leases/$id0" ] || fail "the record of a released lease remains"
events_of alpha > "$T/ev.json"
for k in lease-acquired lease-renewed lease-released; do
	grep -q "\"$k\"" "$T/ev.json" || fail "no $k record"
done
grep "\"lease-acquired\"" "$T/ev.json" | grep -q "$id0" || fail "lease-acquired does not name the lease"
expect_rc 9 zc lease release "$id0"

# Idle expiry: beta's leases live 1 s without a renew.
acquire beta
idb=$(lf id); pidb=$(lf pid)
wait_for "beta lease expired" 6 not_alive "$pidb" || fail "an idle lease did not expire"
wait_for "beta slot free" 3 sh -c "! $ZC -s $SOCK lease list beta | grep -q $idb" || fail "expired lease still listed"
events_of beta > "$T/evb.json"
grep -q '"lease-expired"' "$T/evb.json" && grep -q '"lease-released"' "$T/evb.json" ||
    fail "no lease-expired and lease-released records for beta"

# A tool VM that ignores SIGTERM is killed at stop_timeout.
acquire eps
pide=$(lf id)
pidepid=$(lf pid)
sleep 0.3	# let the fake VM install its SIGTERM handler
zc lease release "$pide" || fail "release of a tool VM ignoring SIGTERM failed"
not_alive "$pidepid" || fail "tool VM $pidepid survived"
events_of eps | grep '"lease-released"' | grep -q "signal 9" || fail "the eps tool VM was not SIGKILLed"

# release_on_restart = no: a restart keeps the lease; a stop ends it.
acquire keep
pidk=$(lf pid)
zc restart keep > /dev/null || fail "restart keep failed"
alive "$pidk" || fail "restart released a lease of a zone with release_on_restart = no"
zc stop keep > /dev/null || fail "stop keep failed"
wait_for "keep tool VM stopped" 5 not_alive "$pidk" || fail "stop did not release keep's lease"

# A restart (release_on_restart = yes) releases every lease.
acquire alpha
pid2=$(lf pid)
zc restart alpha > /dev/null || fail "restart alpha failed"
wait_for "alpha tool VMs stopped" 5 sh -c "! kill -0 $pid1 2>/dev/null && ! kill -0 $pid2 2>/dev/null" ||
    fail "restart kept alpha's leases"
[ "$(leases 'len(l)' alpha)" = 0 ] || fail "alpha still lists leases after its restart"

# So does a cold start: the gateway VM dies and is recovered.
acquire alpha
pid5=$(lf pid)
gw=$(zfield alpha pid)
kill -KILL "$gw"
gw_replaced() { [ "$(zfield alpha pid)" != "$gw" ] && state_is alpha running; }
wait_for "alpha cold-started" 10 gw_replaced || fail "alpha was not recovered: $(zfield alpha state)"
wait_for "alpha running again" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"
wait_for "tool VM released by the cold start" 5 not_alive "$pid5" || fail "a cold start kept alpha's lease"

# The tool-VM plane: ok with a [tool-vm], none without, failed when the
# tool VM cannot be spawned (exit 1, no lease, the slot still free).
dg() { zc --json diagnose "$1" | python3 -c "import json, sys; d = json.load(sys.stdin); print(d['tool_vm_plane'])"; }
[ "$(dg alpha)" = ok ] || fail "alpha's tool-VM plane is $(dg alpha)"
[ "$(dg gamma)" = none ] || fail "gamma's tool-VM plane is $(dg gamma)"
expect_rc 1 zc lease acquire broken
grep -q "no-such-tool" "$T/last.err" || fail "spawn failure not explained: $(cat "$T/last.err")"
[ "$(dg broken)" = failed ] || fail "broken's tool-VM plane is $(dg broken)"
[ "$(leases 'len(l)' broken)" = 0 ] || fail "a failed acquire left a lease"

# A gateway stop releases every lease.
acquire alpha
pid3=$(lf pid)
acquire alpha
pid4=$(lf pid)
zc stop alpha > /dev/null || fail "stop alpha failed"
wait_for "alpha tool VMs stopped" 5 sh -c "! kill -0 $pid3 2>/dev/null && ! kill -0 $pid4 2>/dev/null" ||
    fail "stop kept alpha's tool VMs"
[ -z "$(ls "$T/state/zones/alpha/leases")" ] || fail "lease records remain after the stop"
exit 0
