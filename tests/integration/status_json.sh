# status_json.sh: zonectl --json status is the contract scripts and
# monitoring rely on (DESIGN §11).  Protects: the supervisor object and
# every per-zone field, with its type, for a running, a stopped and a failed
# zone; status of named zones only; the table and JSON agree on states.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)" "ingress_port = 47001"
zone beta "$(fake beta)" "autostart = no"
zone gamma "/nonexistent/gateway-vm" "${manual[@]}"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "gamma failed" 10 state_is gamma failed || fail "gamma is $(zfield gamma state)"

zc --json status > "$T/status.json" || fail "zonectl --json status failed"
python3 - "$T/status.json" "$DAEMON_PID" <<'PY' || fail "status JSON does not hold the documented fields"
import json, sys
d = json.load(open(sys.argv[1]))
daemon = int(sys.argv[2])
errors = []
def check(cond, what):
    if not cond:
        errors.append(what)
s = d["supervisor"]
check(s["pid"] == daemon, "supervisor.pid %r != %d" % (s["pid"], daemon))
check(isinstance(s["version"], str) and s["version"], "supervisor.version")
check(s["protocol"] == 1, "supervisor.protocol")
check(isinstance(s["uptime_s"], int) and s["uptime_s"] >= 0, "supervisor.uptime_s")
check(s["zones"] == 3, "supervisor.zones")
check(s["shutting_down"] is False, "supervisor.shutting_down")
z = {x["name"]: x for x in d["zones"]}
check([x["name"] for x in d["zones"]] == ["alpha", "beta", "gamma"], "zones in name order")
need = ["name", "state", "pid", "since", "uptime_s", "restarts", "health", "probe",
        "cold_start_eligible", "last_error", "evidence", "recovery", "leases"]
for name, zone in z.items():
    for k in need:
        check(k in zone, "%s lacks %s" % (name, k))
    check(isinstance(zone["since"], int) and zone["since"] > 1.6e12, name + ".since is ms since the epoch")
    check(isinstance(zone["restarts"], int), name + ".restarts")
    check(isinstance(zone["cold_start_eligible"], bool), name + ".cold_start_eligible")
    r = zone["recovery"]
    for k in ["state", "next_attempt_in_ms", "consecutive_failures", "failed_recoveries"]:
        check(k in r, "%s.recovery lacks %s" % (name, k))
    check(isinstance(zone["leases"], int), name + ".leases")
a, b, g = z["alpha"], z["beta"], z["gamma"]
check(a["state"] == "running" and isinstance(a["pid"], int) and a["pid"] > 1, "alpha running with a pid")
check(isinstance(a["uptime_s"], int) and a["uptime_s"] >= 0, "alpha.uptime_s")
check(a["last_error"] is None, "alpha.last_error is null")
check(a["ingress_port"] == 47001, "alpha.ingress_port")
check(isinstance(a["worker_pid"], int) and a["worker_pid"] != a["pid"], "alpha.worker_pid")
check(b["state"] == "stopped" and b["pid"] is None and b["uptime_s"] is None, "beta stopped, pid and uptime null")
check(g["state"] == "failed" and g["pid"] is None, "gamma failed without pid")
check(g["last_error"]["code"] == "vm-spawn-failed", "gamma.last_error.code")
check("ENOENT" in g["last_error"]["message"], "gamma.last_error.message names errno")
check(g["cold_start_eligible"] is True, "spawn failures are cold-start eligible")
if errors:
    print("\n".join(errors))
    sys.exit(1)
PY

# Named zones only, in the order asked.
n=$(zc --json status gamma alpha | python3 -c 'import json,sys; print(",".join(z["name"] for z in json.load(sys.stdin)["zones"]))')
[ "$n" = "gamma,alpha" ] || fail "status gamma alpha listed $n"

# The table says the same as the JSON.
zc status > "$T/table" || true
grep -q "^alpha  *running  *$(zfield alpha pid) " "$T/table" || fail "table: $(cat "$T/table")"
grep -q "^gamma  *failed .*vm-spawn-failed" "$T/table" || fail "table: $(cat "$T/table")"
exit 0
