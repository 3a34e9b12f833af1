#!/bin/bash
# secrets.sh: [secrets] from a file, zonevisord's environment and a helper
# reach the VM, as environment variables or as files in
# CREDENTIALS_DIRECTORY, and nowhere else: no log, record, console log,
# zonectl output, command line, or environment but the VM's (for
# delivery = env; with files, not even the VM's).  A file readable by
# others, a helper that fails and one that hangs past its deadline are
# refused with the zone and the secret named, never the value.
# refresh-credentials restarts with fresh values, and when they cannot be
# had leaves a running VM alone and fails a stopped zone (eligible).
. "$ZV_SRCDIR/tests/integration/lib.sh"

# Unique values, to be searched for everywhere.
v_file="zv-file-secret-$$-$RANDOM"
v_file2="zv-file-secret-two-$$-$RANDOM"
v_env="zv-env-secret-$$-$RANDOM"
v_exec="zv-exec-secret-$$-$RANDOM"
umask 077
printf '%s\n' "$v_file" > "$T/token"
cat > "$T/helper" <<HELPER
#!/bin/sh
echo "$v_exec"
HELPER
printf '#!/bin/sh\necho partial\nexit 3\n' > "$T/failing"
printf '#!/bin/sh\nexec sleep 1000.%s\n' "$$" > "$T/hanging"
chmod 700 "$T/helper" "$T/failing" "$T/hanging"
export ZV_TEST_SECRET="$v_env"

write_config
zone envd "$(fake envd)" "[secrets]" "TOKEN = file:$T/token" \
    "API_KEY = env:ZV_TEST_SECRET" "DB = exec:$T/helper"
zone filed "$(fake filed)" "[secrets]" "TOKEN = file:$T/token" \
    "DB = exec:$T/helper" "delivery = files"
zone fails "$(fake fails)" "[secrets]" "DB = exec:$T/failing" "${manual[@]}"
zone missing "$(fake missing)" "[secrets]" "TOKEN = file:$T/nonexistent" \
    "${manual[@]}"
zone hangs "$(fake hangs)" "[secrets]" "DB = exec:$T/hanging" "timeout = 300ms" \
    "${manual[@]}"
start_daemon
unset ZV_TEST_SECRET
watch_vms envd filed
for z in envd filed; do
	wait_for "$z running" 10 state_is $z running || fail "$z is $(zfield $z state)"
done

# --- delivery = env: the VM's environment holds every value --------------
envd=$(zfield envd pid)
tr '\0' '\n' < "/proc/$envd/environ" > "$T/envd.environ"
grep -qx "TOKEN=$v_file" "$T/envd.environ" || fail "file secret not in the VM's environment"
grep -qx "API_KEY=$v_env" "$T/envd.environ" || fail "env secret not in the VM's environment"
grep -qx "DB=$v_exec" "$T/envd.environ" || fail "exec secret not in the VM's environment"

# --- delivery = files: CREDENTIALS_DIRECTORY, 0700, files 0400 ------------
filed=$(zfield filed pid)
creds=$(tr '\0' '\n' < "/proc/$filed/environ" | sed -n 's/^CREDENTIALS_DIRECTORY=//p')
[ -n "$creds" ] || fail "no CREDENTIALS_DIRECTORY in the VM's environment"
[ "$(stat -c %a "$creds")" = 700 ] || fail "credentials directory mode $(stat -c %a "$creds")"
[ "$(cat "$creds/TOKEN")" = "$v_file" ] || fail "TOKEN file holds the wrong value"
[ "$(cat "$creds/DB")" = "$v_exec" ] || fail "DB file holds the wrong value"
[ "$(stat -c %a "$creds/TOKEN")" = 400 ] || fail "TOKEN file mode $(stat -c %a "$creds/TOKEN")"

# --- refused sources: the zone and the secret named, no value -------------
wait_for "fails failed" 10 state_is fails failed || fail "fails is $(zfield fails state)"
[ "$(json "z['fails']['last_error']['code']")" = secret-resolution-failed ] ||
    fail "fails: $(json "z['fails']['last_error']")"
json "z['fails']['last_error']['message']" | grep -q "zone fails: secret DB: exec $T/failing: exited with status 3" ||
    fail "fails: $(json "z['fails']['last_error']['message']")"
[ "$(json "z['fails']['cold_start_eligible']")" = true ] || fail "a secret failure is not eligible"
wait_for "hangs failed" 10 state_is hangs failed || fail "hangs is $(zfield hangs state)"
json "z['hangs']['last_error']['message']" | grep -q "secret DB: exec $T/hanging: killed after its deadline of 300ms" ||
    fail "hangs: $(json "z['hangs']['last_error']['message']")"
wait_for "missing failed" 10 state_is missing failed || fail "missing is $(zfield missing state)"
json "z['missing']['last_error']['message']" | grep -q "zone missing: secret TOKEN: file $T/nonexistent: No such file" ||
    fail "missing: $(json "z['missing']['last_error']['message']")"
hung() { grep -l "1000\.$$" /proc/[0-9]*/cmdline 2>/dev/null | grep -q .; }
! hung || fail "the hanging helper is still alive"

# --- refresh: fresh values and a new VM -----------------------------------
printf '%s\n' "$v_file2" > "$T/token"
expect_rc 0 zc refresh-credentials envd
envd2=$(zfield envd pid)
[ "$envd2" != "$envd" ] || fail "refresh-credentials kept the old VM"
tr '\0' '\n' < "/proc/$envd2/environ" | grep -qx "TOKEN=$v_file2" ||
    fail "the refreshed VM lacks the new value: $(tr "\0" " " < "/proc/$envd2/environ")"
zc --json events envd > "$T/envd.events"
grep -q '"credentials-refresh-requested"' "$T/envd.events" || fail "no credentials-refresh-requested record"
grep -q '"trigger": *"credentials-refresh"' "$T/envd.events" || grep -q '"credentials-refresh"' "$T/envd.events" ||
    fail "no record with trigger credentials-refresh"

# A file others may read is refused; the running VM stays.
chmod 644 "$T/token"
expect_rc 1 zc refresh-credentials envd
grep -q "secret-resolution-failed" "$T/last.err" || fail "refresh said: $(cat "$T/last.err")"
grep -q "mode 0644" "$T/last.err" || fail "refresh said: $(cat "$T/last.err")"
[ "$(zfield envd pid)" = "$envd2" ] || fail "a failed refresh replaced the VM"
state_is envd running || fail "envd is $(zfield envd state) after a failed refresh"

# A stopped zone whose secrets fail: failed, eligible, outage cause kept.
expect_rc 0 zc stop filed
chmod 644 "$T/token"
expect_rc 1 zc refresh-credentials filed
state_is filed failed || fail "filed is $(zfield filed state)"
[ "$(json "z['filed']['last_error']['code']")" = secret-resolution-failed ] ||
    fail "filed: $(json "z['filed']['last_error']")"
[ -z "$(ls -A "$creds" 2>/dev/null)" ] || fail "credentials left behind: $(ls -A "$creds")"

# --- the values are nowhere else ------------------------------------------
for out in "status" "--json status" "diagnose envd" "--json diagnose envd" \
    "--json events envd" "events filed" "--json events fails"; do
	# shellcheck disable=SC2086
	zc $out >> "$T/zonectl.out" 2>&1
done
cp "$T/daemon.log" "$T/daemon.copy"
for v in "$v_file" "$v_file2" "$v_env" "$v_exec"; do
	grep -rlaF "$v" "$T" --exclude=token --exclude=helper --exclude='*.environ' \
	    --exclude=envd.events --exclude=values > "$T/found" 2>/dev/null
	[ ! -s "$T/found" ] || fail "a secret value is in $(cat "$T/found")"
	grep -qaF "$v" "$T/envd.events" && fail "a secret value is in the records"
done
# Every process's command line and environment, read in one pass (a file
# holds the values: a command line would show them).
printf '%s\n' "$v_file" "$v_file2" "$v_env" "$v_exec" > "$T/values"
python3 - "$T/values" "$DAEMON_PID" "$(zfield envd pid)" "$$" <<'PY' > "$T/procs.out" ||
import os, sys
values = open(sys.argv[1]).read().split()
v_env = values[2].encode()
daemon, envd, shell = (int(a) for a in sys.argv[2:5])
bad = []
for d in os.listdir("/proc"):
    if not d.isdigit() or int(d) == os.getpid():
        continue
    pid = int(d)
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read()
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read()
        with open("/proc/%d/stat" % pid, "rb") as f:
            ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        continue            # gone meanwhile
    shown = cmd.replace(b"\0", b" ")[:200].decode(errors="replace")
    for v in (x.encode() for x in values):
        if v in cmd:
            bad.append("a secret value is in the command line of %d" % pid)
        # The env: source's value is zonevisord's own by the operator's
        # choice, and its workers inherit it; the VM of envd holds them all.
        if v in env and pid not in (envd, shell) and not (
                v == v_env and daemon in (pid, ppid)):
            bad.append("a secret value is in the environment of %d (%s)"
                       % (pid, shown))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
    fail "$(head -n 3 "$T/procs.out")"
check_vms
exit 0
