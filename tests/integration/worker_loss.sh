# worker_loss.sh: a zone's worker killed with SIGKILL.  Protects: the VM it
# owned (now reparented to zonevisord) is stopped by the parent before a new
# worker exists, so two VMs of the zone are never alive at once; the zone
# shows failed{worker-lost} and can be started again; other zones are not
# touched.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta)"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"
vm=$(zfield alpha pid)
worker=$(zfield alpha worker_pid)
beta_vm=$(zfield beta pid)

kill -KILL "$worker"
wait_for "alpha's VM stopped" 10 not_alive "$vm" || fail "the lost worker's VM $vm kept running"
new_worker() { w=$(zfield alpha worker_pid); [ "$w" != null ] && [ "$w" != "$worker" ]; }
wait_for "a new worker" 10 new_worker || fail "no new worker for alpha"
state_is alpha failed || fail "alpha is $(zfield alpha state)"
[ "$(json "z['alpha']['last_error']['code']")" = worker-lost ] || fail "alpha last_error $(zfield alpha last_error)"
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta was disturbed"
grep -q "stopping VM pid $vm left by its worker" "$T/daemon.log" || fail "the parent did not stop the orphan"

expect_rc 0 zc start alpha
state_is alpha running || fail "alpha is $(zfield alpha state) after start"
[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"
exit 0
