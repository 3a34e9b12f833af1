# json_all.sh: --json everywhere.  Every zonectl command, and each of its
# forms, accepts --json and prints JSON on stdout: one document, or for the
# streams (events, logs) one document per line; an error the daemon answers
# is {"error": {"code", "message"}} there too, with the usual exit code.
# Protects: scripts can parse whatever zonectl --json prints.
. "$ZV_SRCDIR/tests/integration/lib.sh"

base=$((20000 + RANDOM % 20000))
write_config
zone alpha "$(fake alpha --print hello-json)" "[tool-vm]" \
    "command = $FAKE --marker tool-alpha %port" "base_port = $base" \
    "max_leases = 1" "" "[health]" "probe = exec" "exec = /bin/true" \
    "interval = 1h"
zone beta "$(fake beta)" "autostart = no"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"

# check RC KIND ARGS...: zonectl --json ARGS exits RC and prints JSON:
# KIND doc (one document), lines (one per line, at least one), error (an
# {"error"} document) or empty-or-lines (events/logs that may print none).
n=0
check() {
	local rc=$1 kind=$2
	shift 2
	n=$((n + 1))
	expect_rc "$rc" zc --json "$@"
	python3 - "$kind" "$T/last.out" <<'PY' || fail "zonectl --json $* printed: $(head -c 600 "$T/last.out")"
import json, sys
kind, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
if kind in ("doc", "error"):
    d = json.loads(text)
    assert isinstance(d, dict), d
    if kind == "error":
        assert set(d) == {"error"} and d["error"]["code"] and d["error"]["message"], d
    else:
        assert "error" not in d, d
else:
    lines = text.splitlines()
    assert lines or kind == "empty-or-lines", "no lines"
    for l in lines:
        assert isinstance(json.loads(l), dict), l
PY
}

check 0 doc status
check 0 doc status alpha
check 3 doc status beta
check 4 error status no-such-zone
check 0 doc version
check 0 doc metrics
check 0 doc start alpha
check 0 doc start beta
check 0 doc stop beta
check 0 doc restart alpha
check 0 doc refresh-credentials alpha
check 0 doc restart --no-wait beta
check 0 doc stop --no-wait beta
wait_for "beta stopped" 10 state_is beta stopped || fail "beta is $(zfield beta state)"
check 0 doc start --all
check 0 doc stop --all
check 0 doc start --all
check 4 doc start no-such-zone	# {"results": [{ok: false, error}]}
check 0 lines events alpha
check 0 lines events -n 2 alpha
check 4 error events no-such-zone
check 0 lines logs alpha
check 0 lines logs -n 1 alpha
check 0 empty-or-lines logs -n 0 alpha
check 0 lines --timeout 1s logs -f alpha
check 4 error logs no-such-zone
check 0 doc diagnose alpha
check 4 error diagnose no-such-zone
check 0 doc health alpha
check 1 error health beta	# no probe
check 8 error reset alpha	# nothing to reset
check 0 doc reload --dry-run
check 0 doc reload
check 0 doc lease list
check 0 doc lease list alpha
check 0 doc lease acquire alpha --owner json-test
lid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["lease"]["id"])' "$T/last.out")
check 11 error lease acquire alpha
check 0 doc lease renew "$lid" --ttl 5m
check 10 error lease renew "$lid" --zone beta
check 0 doc lease release "$lid"
check 9 error lease release "$lid"
check 12 error lease acquire beta

# An invalid configuration: reload's error carries its lines.
echo "bogus_key = 1" >> "$T/zones.d/beta.conf"
check 1 error reload
python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))["error"]; assert e["code"] == "invalid-config" and e["lines"], e' "$T/last.out" ||
    fail "reload --json: $(cat "$T/last.out")"

# No zones at all: --all has nothing to do, and says so in JSON.
rm "$T/zones.d/alpha.conf" "$T/zones.d/beta.conf"
check 0 doc reload
check 0 doc start --all
[ "$(cat "$T/last.out")" = '{"results":[]}' ] || fail "start --all of no zones: $(cat "$T/last.out")"
check 0 doc status

# Every command of the usage text was checked.
for c in $("$ZC" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p;s/^  \([a-z-]*\)$/\1/p' | sort -u); do
	grep -q "^check [0-9]* [a-z-]* \(--timeout 1s \)\?$c\b" "$ZV_SRCDIR/tests/integration/json_all.sh" ||
	    fail "zonectl $c is not checked here"
done
[ "$n" -ge 40 ] || fail "only $n checks ran"
exit 0
