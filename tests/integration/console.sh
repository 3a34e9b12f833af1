# console.sh: the VM's stdout and stderr land in
# state_dir/zones/<zone>/console.log, which is rotated at [log] max_size
# keeping [log] keep old files.  Protects: VM output is never lost into
# zonevisord's own log or a terminal, and cannot fill the disk.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha --print hello-console)"
zone beta "$(fake beta --print marker --spew 6000)" "autostart = no" "" "[log]" "max_size = 4K" "keep = 2"
start_daemon
log=$T/state/zones/alpha/console.log
wait_for "console output" 10 grep -q "stdout: hello-console" "$log" || fail "stdout missing from $log"
wait_for "console stderr" 10 grep -q "stderr: hello-console" "$log" || fail "stderr missing from $log"
[ "$(stat -c %a "$T/state/zones/alpha")" = 700 ] || fail "zone directory mode $(stat -c %a "$T/state/zones/alpha")"
grep -q "stdout: hello-console" "$T/daemon.log" && fail "VM output leaked into zonevisord's log"

# Each start of beta writes about 6 KB; with max_size 4K the file rotates.
for i in 1 2 3 4; do
	expect_rc 0 zc restart beta
	wait_for "beta output $i" 10 grep -q "stderr: marker" "$T/state/zones/beta/console.log"
done
expect_rc 0 zc stop beta
b=$T/state/zones/beta/console.log
[ -f "$b.1" ] || fail "console.log was not rotated"
[ -f "$b.2" ] || fail "only one rotated file kept"
[ -f "$b.3" ] && fail "keep = 2, but console.log.3 exists"
size=$(stat -c %s "$b")
[ "$size" -le 8192 ] || fail "console.log grew to $size bytes with max_size 4K"
exit 0
