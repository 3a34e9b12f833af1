# metrics.sh: zonectl metrics and the HTTP endpoint of metrics_listen.
# Protects: the text is Prometheus exposition 0.0.4 (checked by a strict
# parser: every sample name{labels} value, every family with HELP and
# TYPE before its samples and never split, label values escaped, values
# numbers, counters ending in _total); a zone's state, liveness and the
# supervisor's metrics say what status says; a SIGKILLed VM raises the
# zone's restarts counter once the recovery policy replaced it; --json
# carries the same text; over HTTP, GET /metrics answers 200 with the
# exposition content type and the same families, another path 404, POST
# 405, garbage and an oversized request 400, the 17th client at once 503;
# a reload cannot move the endpoint (noted, kept); a bad metrics_listen is
# a configuration error naming file, line and key; and none of it disturbs
# the zones (same VMs, zonectl answering throughout).
. "$ZV_SRCDIR/tests/integration/lib.sh"

# The strict parser: prom.py FILE validates FILE; prom.py FILE NAME LABELS
# then prints the value of the one sample NAME{LABELS} ("" for none);
# prom.py FILE --families prints the family names, one a line.
cat > "$T/prom.py" <<'PY'
import math, re, sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABEL = LNAME + "=" + LVALUE
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.+)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)

def fail(msg, n=None):
    sys.exit("prom.py: %s%s" % ("line %d: " % n if n else "", msg))

text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    fail("the text does not end with a newline")
helps, types, samples, order = {}, {}, {}, []
current = None
for n, line in enumerate(text[:-1].split("\n"), 1):
    m = HELP.match(line)
    if m:
        name = m.group(1)
        if name in helps:
            fail("second HELP for %s" % name, n)
        if name in types or name in samples:
            fail("HELP of %s after its TYPE or samples" % name, n)
        helps[name] = m.group(2)
        current = name
        order.append(name)
        continue
    m = TYPE.match(line)
    if m:
        name = m.group(1)
        if name in types:
            fail("second TYPE for %s" % name, n)
        if name != current:
            fail("TYPE of %s not right after its HELP" % name, n)
        if name in samples:
            fail("TYPE of %s after its samples" % name, n)
        types[name] = m.group(2)
        if m.group(2) == "counter" and not name.endswith("_total"):
            fail("counter %s does not end in _total" % name, n)
        continue
    if line.startswith("#") or line == "":
        fail("unexpected line %r" % line, n)
    m = SAMPLE.match(line)
    if not m:
        fail("not a sample: %r" % line, n)
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    if name not in helps or name not in types:
        fail("%s has no HELP or no TYPE before it" % name, n)
    if name != current:
        fail("sample of %s outside its family's group" % name, n)
    if value not in ("+Inf", "-Inf", "NaN"):
        try:
            v = float(value)
        except ValueError:
            fail("value %r is not a number" % value, n)
        if math.isnan(v) or math.isinf(v):
            fail("value %r spelled wrong" % value, n)
    names = re.findall("(" + LNAME + ")=" + LVALUE, labels)
    if len(set(names)) != len(names):
        fail("a label twice: %r" % line, n)
    if labels in samples.get(name, {}):
        fail("series %s{%s} twice" % (name, labels), n)
    samples.setdefault(name, {})[labels] = value
for name in helps:
    if name not in types:
        fail("%s has HELP but no TYPE" % name)
if len(sys.argv) == 3 and sys.argv[2] == "--families":
    print("\n".join(sorted(order)))
elif len(sys.argv) == 4:
    print(samples.get(sys.argv[2], {}).get(sys.argv[3], ""))
PY

prom() { python3 "$T/prom.py" "$@"; }

# value FILE NAME LABELS: the value of one sample, failing if it is absent.
value() {
	local v
	v=$(prom "$@") || fail "$1 is not valid exposition text"
	[ -n "$v" ] || fail "$1 has no sample $2{$3}"
	echo "$v"
}

# metrics_now: zonectl metrics into $T/m.
metrics_now() { zc metrics > "$T/m"; }

# restarts_above ZONE N: the zone's restarts counter is above N now.
restarts_above() {
	metrics_now && [ "$(prom "$T/m" zonevisor_zone_restarts_total "zone=\"$1\"")" -gt "$2" ]
}

port=$(free_port)
url=http://127.0.0.1:$port
write_config "metrics_listen = 127.0.0.1:$port"
zone alpha "$(fake alpha)" "[recovery]" "restart_delay = 100ms" "restart_delay_max = 1s"
zone beta "$(fake beta)"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"
grep -q "metrics: serving $url/metrics" "$T/daemon.log" || fail "the endpoint was not announced"

# zonectl metrics: valid text that says what status says.
zc metrics > "$T/m1" || fail "zonectl metrics failed"
prom "$T/m1" || fail "zonectl metrics is not valid exposition text"
[ "$(value "$T/m1" zonevisor_up "")" = 1 ] || fail "zonevisor_up"
[ "$(value "$T/m1" zonevisor_zones "")" = 2 ] || fail "zonevisor_zones"
version=$(zc --json version | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["version"])')
value "$T/m1" zonevisor_build_info "version=\"$version\",protocol=\"1\"" > /dev/null
[ "$(value "$T/m1" zonevisor_zones_by_state 'state="running"')" = 2 ] || fail "zones_by_state running"
[ "$(value "$T/m1" zonevisor_zones_by_state 'state="failed"')" = 0 ] || fail "zones_by_state failed"
for s in stopped starting running running-degraded stopping restarting failed owner-unsafe; do
	want=0
	[ "$s" = running ] && want=1
	[ "$(value "$T/m1" zonevisor_zone_state "zone=\"alpha\",state=\"$s\"")" = $want ] ||
	    fail "zonevisor_zone_state of alpha in $s is not $want"
done
[ "$(value "$T/m1" zonevisor_zone_up 'zone="alpha"')" = 1 ] || fail "alpha not up in metrics"
[ "$(value "$T/m1" zonevisor_zone_up 'zone="beta"')" = 1 ] || fail "beta not up in metrics"
[ "$(value "$T/m1" zonevisor_zone_leases 'zone="alpha"')" = 0 ] || fail "alpha leases"
[ "$(value "$T/m1" zonevisor_zone_persistence_degraded 'zone="alpha"')" = 0 ] || fail "persistence"
[ "$(value "$T/m1" zonevisor_last_reload_success "")" = 1 ] || fail "last_reload_success"
up=$(value "$T/m1" zonevisor_zone_vm_uptime_seconds 'zone="alpha"')
python3 -c "import sys; sys.exit(not 0 <= float('$up') < 60)" || fail "alpha uptime $up"
restarts=$(value "$T/m1" zonevisor_zone_restarts_total 'zone="alpha"')
[ "$(value "$T/m1" zonevisor_zone_recovery_failures_total 'zone="alpha",kind="cold-start"')" = 0 ] ||
    fail "recovery failures before any failure"

# --json: the same text in the answer's result.
zc --json metrics > "$T/m.json" || fail "zonectl --json metrics failed"
python3 - "$T/m.json" <<'PY' || fail "zonectl --json metrics: $(head -c 300 "$T/m.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["content_type"] == "text/plain; version=0.0.4; charset=utf-8", d["content_type"]
assert d["text"].startswith("# HELP zonevisor_up "), d["text"][:80]
assert "zonevisor_zone_state{zone=\"alpha\",state=\"running\"} 1\n" in d["text"]
PY
expect_rc 2 zc metrics extra

# A SIGKILLed VM: the policy cold-starts it, and the counter says so.
vm=$(zfield alpha pid)
kill -KILL "$vm"
new_vm() { state_is alpha running && [ "$(zfield alpha pid)" != "$vm" ]; }
wait_for "alpha recovered" 15 new_vm || fail "alpha not recovered: $(zfield alpha state)"
wait_for "restarts counter raised" 10 restarts_above alpha "$restarts" ||
    fail "zonevisor_zone_restarts_total of alpha stayed $restarts after a recovery"
prom "$T/m" || fail "metrics after the recovery are not valid"
[ "$(value "$T/m" zonevisor_zone_state 'zone="alpha",state="running"')" = 1 ] || fail "alpha state after recovery"
[ "$(value "$T/m" zonevisor_zone_restarts_total 'zone="beta"')" = 0 ] || fail "beta restarted"

alpha_vm=$(zfield alpha pid)
beta_vm=$(zfield beta pid)

# HTTP: GET /metrics.
code=$(curl -s --max-time 5 -D "$T/h.hdr" -o "$T/h1" -w '%{http_code}' "$url/metrics") ||
    fail "curl $url/metrics failed"
[ "$code" = 200 ] || fail "GET /metrics: $code"
tr -d '\r' < "$T/h.hdr" | grep -qix 'content-type: text/plain; version=0.0.4; charset=utf-8' ||
    fail "content type: $(cat "$T/h.hdr")"
prom "$T/h1" || fail "GET /metrics is not valid exposition text"
zc metrics > "$T/m2" || fail "zonectl metrics failed"
[ "$(prom "$T/h1" --families)" = "$(prom "$T/m2" --families)" ] ||
    fail "HTTP and zonectl metrics differ in families: $(diff <(prom "$T/h1" --families) <(prom "$T/m2" --families))"
[ "$(value "$T/h1" zonevisor_zone_state 'zone="beta",state="running"')" = 1 ] || fail "beta over HTTP"
# HEAD: the headers only; a query string is ignored.
[ "$(curl -s --max-time 5 -I -o /dev/null -w '%{http_code}' "$url/metrics")" = 200 ] || fail "HEAD /metrics"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/metrics?x=1")" = 200 ] || fail "GET /metrics?x=1"
[ "$(curl -s --max-time 5 --http1.0 -o /dev/null -w '%{http_code}' "$url/metrics")" = 200 ] || fail "HTTP/1.0"

# Anything else.
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/other")" = 404 ] || fail "GET /other is not 404"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/")" = 404 ] || fail "GET / is not 404"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$url/metrics")" = 405 ] || fail "POST is not 405"

# raw BYTES-EXPRESSION: send it (a Python bytes expression), print the
# status line of the answer (or "closed").
raw() {
	timeout 10 python3 - "$port" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(eval(sys.argv[2]))
except OSError:
    pass
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except OSError:
    pass
print(data.split(b"\r\n")[0].decode(errors="replace") if data else "closed")
PY
}
[ "$(raw 'b"garbage\r\n\r\n"')" = "HTTP/1.1 400 Bad Request" ] || fail "garbage: $(raw 'b"garbage\r\n\r\n"')"
[ "$(raw 'b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) * 4')" = "HTTP/1.1 400 Bad Request" ] ||
    fail "a TLS hello is not 400"
[ "$(raw 'b"GET /metrics HTTP/2.0\r\n\r\n"')" = "HTTP/1.1 400 Bad Request" ] || fail "HTTP/2.0 is not 400"
[ "$(raw 'b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n"')" = "HTTP/1.1 400 Bad Request" ] || fail "a bad header is not 400"
[ "$(raw 'b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"')" = "HTTP/1.1 400 Bad Request" ] ||
    fail "an oversized request is not 400"
[ "$(raw 'b"GET /metrics HTTP/1.1\nHost: x\n\n"')" = "HTTP/1.1 200 OK" ] || fail "bare LF request"

# At most 16 clients at once: the 17th gets 503 while zonectl still answers.
timeout 20 python3 - "$port" "$SOCK" "$ZC" <<'PY' || fail "client limit"
import socket, subprocess, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
status = s.recv(200).split(b"\r\n")[0]
assert status == b"HTTP/1.1 503 Service Unavailable", status
subprocess.run([sys.argv[3], "-s", sys.argv[2], "status"], check=True, stdout=subprocess.DEVNULL, timeout=10)
for h in held:
    h.close()
PY
got_200() { [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/metrics")" = 200 ]; }
wait_for "a client slot again" 5 got_200 || fail "no 200 after the held clients left"

# A reload cannot move the endpoint: noted, kept.
other=$(free_port)
sed -i "s/^metrics_listen = .*/metrics_listen = 127.0.0.1:$other/" "$T/zonevisor.conf"
zc reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
grep -q "metrics_listen cannot change while zonevisord runs; keeping 127.0.0.1:$port" "$T/reload.out" ||
    fail "reload did not note metrics_listen: $(cat "$T/reload.out")"
got_200 || fail "the endpoint moved or went away after a reload"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$other/metrics")" = 000 ] ||
    fail "something answers on the new port"

# A bad metrics_listen is a configuration error naming file, line and key.
sed -i "s/^metrics_listen = .*/metrics_listen = 127.0.0.1:99999/" "$T/zonevisor.conf"
"$ZVD" -n -f "$T/zonevisor.conf" > "$T/check.out" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "zonevisord -n with a bad metrics_listen exited $rc: $(cat "$T/check.out")"
line=$(grep -n '^metrics_listen' "$T/zonevisor.conf" | cut -d: -f1)
grep -q "zonevisor.conf:$line: \[supervisor\] metrics_listen: " "$T/check.out" ||
    fail "the error does not name file, line and key: $(cat "$T/check.out")"

# Nothing of it disturbed the zones.
[ "$(zfield alpha pid)" = "$alpha_vm" ] && state_is alpha running || fail "alpha was disturbed"
[ "$(zfield beta pid)" = "$beta_vm" ] && state_is beta running || fail "beta was disturbed"
[ "$(vm_count alpha)" -eq 1 ] && [ "$(vm_count beta)" -eq 1 ] || fail "VM counts $(vm_count alpha) $(vm_count beta)"
alive "$DAEMON_PID" || fail "zonevisord died"
exit 0
