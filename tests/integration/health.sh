#!/bin/bash
# health.sh: health probes against the demo gateway and fake VMs.  An http
# probe that fails failure_threshold times in a row gets the VM restarted
# (new pid, records naming gateway-service-unhealthy); one failure below
# the threshold degrades the zone and one pass heals it without a restart;
# a hanging endpoint times out as a failure; an exec probe that sleeps
# forever is killed at its timeout and leaves no process; a tcp probe of a
# closed port fails, and a VM never ready ends failed{readiness-failed}
# with its VM gone.
. "$ZV_SRCDIR/tests/integration/lib.sh"

GW=$BUILD/demo/zv-demo-gateway
pa=$(free_port)
pb=$(free_port)
pc=$(free_port)
pd=$(free_port)
probe() {	# PORT INTERVAL TIMEOUT THRESHOLD: an http probe's zone lines
	echo "ingress_port = $1"
	echo "[health]"
	echo "probe = http"
	echo "http_path = /health"
	echo "interval = $2"
	echo "timeout = $3"
	echo "failure_threshold = $4"
	echo "start_period = 1s"
}
get() { curl -s -m 2 -o /dev/null "http://127.0.0.1:$1$2"; }
hlog() { cat "$T/state/zones/$1/health.log" 2>/dev/null | tr -c '[:print:]' '\n'; }

write_config
# alpha: unhealthy for three probes in a row -> restarted.
mapfile -t lines < <(probe "$pa" 300ms 200ms 3)
zone alpha "$GW --port $pa --name $T-alpha" "${lines[@]}"
# beta: one failure, far below its threshold.
mapfile -t lines < <(probe "$pb" 300ms 200ms 50)
zone beta "$GW --port $pb --name $T-beta" "${lines[@]}"
# gamma: its endpoint will hang.
mapfile -t lines < <(probe "$pc" 400ms 200ms 50)
zone gamma "$GW --port $pc --name $T-gamma" "${lines[@]}"
# delta: an exec probe that never ends.
# It passes until $T/hang exists, then sleeps (the script execs sleep).
cat > "$T/probe" <<PROBE
#!/bin/sh
[ -e "$T/hang" ] && exec sleep 1000.$$
exit 0
PROBE
chmod +x "$T/probe"
zone delta "$(fake delta)" "[health]" "probe = exec" "exec = $T/probe" \
    "interval = 300ms" "timeout = 150ms" "failure_threshold = 1000" \
    "start_period = 0s"
# epsilon: nothing listens on its port: never ready.
zone epsilon "$(fake epsilon)" "ingress_port = $pd" "start_timeout = 1500ms" \
    "[health]" "probe = tcp" "interval = 200ms" "timeout = 100ms" \
    "start_period = 1s" "${manual[@]}"
# plain: no probe at all.
zone plain "$(fake plain)"
start_daemon
watch_vms delta epsilon plain

# Readiness comes from the first passing probe.
for z in alpha beta gamma delta; do
	wait_for "$z running" 15 state_is $z running || fail "$z is $(zfield $z state)"
done

# --- zonectl health and status ------------------------------------------------
expect_rc 0 zc health beta
grep -q "^beta: ok (http probe, [0-9]*ms): GET /health: 200$" "$T/last.out" ||
    fail "zonectl health beta printed: $(cat "$T/last.out")"
health_is() { [ "$(zfield "$1" health)" = "$2" ]; }
wait_for "beta's health in status" 5 health_is beta ok ||
    fail "beta's health is $(zfield beta health)"
[ "$(json "z['beta']['probe']['kind']")" = http ] || fail "status lacks beta's probe"
[ "$(json "z['beta']['probe']['last']['ok']")" = true ] || fail "status lacks beta's last probe"
expect_rc 1 zc health plain
grep -q "no health probe is configured" "$T/last.err" ||
    fail "health of a zone without a probe: $(cat "$T/last.err")"
[ "$(zfield plain health)" = none ] || fail "plain's health is $(zfield plain health)"
[ "$(zfield plain probe)" = null ] || fail "plain has a probe in status"
expect_rc 4 zc health nosuchzone

# --- a single failure below the threshold: degraded, then healed -----------
beta_vm=$(zfield beta pid)
get "$pb" /fail-health
wait_for "beta degraded" 10 state_is beta running-degraded ||
    fail "beta is $(zfield beta state) with its health failing"
[ "$(zfield beta health)" = failing ] || fail "beta's health is $(zfield beta health)"
grep -q "zone beta: health probe failed (1 in a row): GET /health: 503" \
    "$T/daemon.log" || fail "the reason beta is degraded was not logged"
get "$pb" /heal
wait_for "beta healed" 10 state_is beta running || fail "beta is $(zfield beta state)"
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta's VM was restarted for one failure"
hlog beta | grep -q "GET /health: 503" || fail "the failure is not in beta's health.log"

# --- threshold reached: restart with a new pid -------------------------------
alpha_vm=$(zfield alpha pid)
get "$pa" /fail-health
restarted() { p=$(zfield alpha pid); [ "$p" != null ] && [ "$p" != "$alpha_vm" ] && state_is alpha running; }
wait_for "alpha restarted" 15 restarted ||
    fail "alpha was not restarted: $(zfield alpha state), pid $(zfield alpha pid)"
not_alive "$alpha_vm" || fail "the unhealthy VM $alpha_vm is still alive"
zc --json events alpha > "$T/alpha.events" || fail "events alpha failed"
grep -q "gateway-service-unhealthy" "$T/alpha.events" ||
    fail "no record names gateway-service-unhealthy"
grep -q '"auto-recovery"' "$T/alpha.events" ||
    fail "the restart is not an auto-recovery"
[ "$(hlog alpha | grep -c 'GET /health: 503')" -ge 3 ] ||
    fail "health.log lacks the three failures"

# --- a hanging endpoint times out as a failure -------------------------------
get "$pc" /hang
wait_for "gamma degraded" 10 state_is gamma running-degraded ||
    fail "gamma is $(zfield gamma state) with a hanging endpoint"
hlog gamma | grep -q "timed out after 200ms" || fail "no timeout in gamma's health.log"
expect_rc 1 zc health gamma
grep -q "^gamma: failed (http probe, [0-9]*ms): timed out after 200ms$" "$T/last.out" ||
    fail "zonectl health gamma printed: $(cat "$T/last.out")"
[ "$(zfield gamma health)" = failing ] || fail "gamma's health is $(zfield gamma health)"
zc --json diagnose gamma > "$T/gamma.diag" || fail "diagnose gamma failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["readiness"] == "degraded", d["readiness"]' "$T/gamma.diag" ||
    fail "gamma's readiness is not degraded"

# --- an exec probe that sleeps forever: killed, nothing left ----------------
wait_for "delta running" 10 state_is delta running || fail "delta is $(zfield delta state)"
touch "$T/hang"
wait_for "delta degraded" 10 state_is delta running-degraded ||
    fail "delta is $(zfield delta state) with its probe hanging"
probes() { grep -l "1000\.$$" /proc/[0-9]*/cmdline 2>/dev/null | wc -l; }
for i in $(seq 1 20); do
	[ "$(probes)" -le 1 ] || fail "$(probes) exec probes of delta at once"
	sleep 0.1
done
hlog delta | grep -q "timed out after 150ms" || fail "no timeout in delta's health.log"
zc stop delta > /dev/null || fail "stop delta failed"
no_probes() { [ "$(probes)" -eq 0 ]; }
wait_for "delta's probes gone" 5 no_probes ||
    fail "an exec probe outlived its zone"

# --- never ready: tcp probe refused, failed{readiness-failed}, VM gone ------
wait_for "epsilon failed" 10 state_is epsilon failed || fail "epsilon is $(zfield epsilon state)"
err=$(json "z['epsilon']['last_error']['code']")
[ "$err" = readiness-failed ] || fail "epsilon failed with $err"
[ "$(zfield epsilon cold_start_eligible)" = true ] || fail "readiness-failed is not eligible"
[ "$(vm_count epsilon)" -eq 0 ] || fail "epsilon's unready VM is still alive"
hlog epsilon | grep -q "Connection refused" || fail "the refused tcp probe is not in health.log"
expect_rc 1 zc health epsilon
grep -q "no VM is running" "$T/last.out" || fail "health of a failed zone: $(cat "$T/last.out")"

alive "$DAEMON_PID" || fail "zonevisord died"
check_vms
exit 0
