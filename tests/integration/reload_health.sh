# reload_health.sh: a reload that changes only a zone's [health] is applied
# by the zone's running worker, and its VM is left alone.  Protects: adding
# an exec probe that fails makes the zone running-degraded with the same VM
# (status shows the exec probe); changing the probe to one that passes makes
# it running again, same VM; removing [health] leaves the zone running with
# health none, same VM; zonectl reload says "health only, no restart"; no
# lifecycle record of a VM (vm-spawned, vm-exited) after the first start;
# never two VMs of the zone at once; and no probe process is left behind.
. "$ZV_SRCDIR/tests/integration/lib.sh"

# Lifecycle records of kind KIND in ZONE's log.
nkind() {
	zc --json events "$1" | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l).get("kind") == sys.argv[1]))' "$2"
}

# The zone's [health] lines for an exec probe of COMMAND.
probe_lines() {
	echo "[health]"
	echo "probe = exec"
	echo "exec = $1"
	echo "interval = 200ms"
	echo "timeout = 100ms"
	echo "failure_threshold = 1000"
	echo "start_period = 0s"
}

health_is() { [ "$(zfield alpha health)" = "$1" ]; }
probe_kind_is() { [ "$(json "(z['alpha']['probe'] or {}).get('kind', 'none')")" = "$1" ]; }
not_reloading() { [ "$(json 'd["supervisor"]["reloading"]')" = false ]; }

# same_vm: the VM status shows is the first one, and the only one.
same_vm() {
	[ "$(zfield alpha pid)" = "$pid1" ] || fail "alpha's VM changed: $(zfield alpha pid), was $pid1"
	alive "$pid1" || fail "alpha's VM pid $pid1 is gone"
	[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"
}

# reload_to DESCRIPTION: zonectl reload; it must say health only.
reload_to() {
	expect_rc 0 zc reload
	grep -qx "changed: alpha (health only, no restart)" "$T/last.out" ||
	    fail "$1: reload printed: $(cat "$T/last.out")"
	wait_for "$1: reload done" 10 not_reloading || fail "$1: still reloading"
}

write_config
zone alpha "$(fake alpha)"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
pid1=$(zfield alpha pid)
[ "$(zfield alpha health)" = none ] || fail "health before any probe: $(zfield alpha health)"
spawned=$(nkind alpha vm-spawned)
[ "$spawned" -eq 1 ] || fail "$spawned vm-spawned records after the first start"
watch_vms alpha

# 1. A failing exec probe: degraded, same VM.
mapfile -t lines < <(probe_lines /bin/false)
zone alpha "$(fake alpha)" "${lines[@]}"
expect_rc 0 zc reload --dry-run
grep -qx "changed: alpha (health only, no restart)" "$T/last.out" || fail "dry run printed: $(cat "$T/last.out")"
reload_to "exec /bin/false"
wait_for "alpha running-degraded" 10 state_is alpha running-degraded ||
    fail "alpha is $(zfield alpha state) with a failing probe"
same_vm
probe_kind_is exec || fail "probe after the reload: $(json "z['alpha']['probe']")"
health_is failing || fail "health with a failing probe: $(zfield alpha health)"
grep -q "health probe now exec: /bin/false" "$T/daemon.log" || fail "the worker did not log the new probe"

# 2. A passing one: running again, same VM.
mapfile -t lines < <(probe_lines /bin/true)
zone alpha "$(fake alpha)" "${lines[@]}"
reload_to "exec /bin/true"
wait_for "alpha running" 10 state_is alpha running ||
    fail "alpha is $(zfield alpha state) with a passing probe"
wait_for "alpha health ok" 10 health_is ok || fail "health with a passing probe: $(zfield alpha health)"
same_vm

# 3. [health] removed: no probe, same VM.  Degrade it first, so that the
# removal is seen to heal it too.
mapfile -t lines < <(probe_lines /bin/false)
zone alpha "$(fake alpha)" "${lines[@]}"
reload_to "exec /bin/false again"
wait_for "alpha running-degraded again" 10 state_is alpha running-degraded ||
    fail "alpha is $(zfield alpha state) with a failing probe"
zone alpha "$(fake alpha)"
reload_to "no [health]"
wait_for "alpha running without a probe" 10 state_is alpha running ||
    fail "alpha is $(zfield alpha state) without a probe"
wait_for "alpha health none" 10 health_is none || fail "health without a probe: $(zfield alpha health)"
probe_kind_is none || fail "probe without [health]: $(json "z['alpha']['probe']")"
same_vm
# No probe runs any more: health.log stops growing.
n1=$(wc -c < "$T/state/zones/alpha/health.log")
sleep 0.5
n2=$(wc -c < "$T/state/zones/alpha/health.log")
[ "$n1" -eq "$n2" ] || fail "health.log grew without a probe ($n1 -> $n2 bytes)"

# Nothing happened to the VM, as the lifecycle log tells it.
[ "$(nkind alpha vm-spawned)" -eq 1 ] || fail "vm-spawned records: $(nkind alpha vm-spawned)"
[ "$(nkind alpha vm-exited)" -eq 0 ] || fail "vm-exited records: $(nkind alpha vm-exited)"
check_vms
[ "$(zfield alpha restarts)" -eq 0 ] || fail "alpha restarted $(zfield alpha restarts) times"
echo "PASS: $TEST_NAME"
