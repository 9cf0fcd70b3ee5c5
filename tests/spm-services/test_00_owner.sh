#!/bin/bash
# The owner interface, driven through drivers/spm_test_owner: node 2 (SPM
# from boot, no owner) before, while and after the module owns it.
#
#   unowned: reclaim, compaction and longterm_pin on; allow_user=1 adds
#   user and migration
#   loading claims the node; caps= turns capabilities on; a refused
#   capability fails the load with its errno and leaves the node unowned
#   a second owner: EBUSY; demotion without reclaim: EINVAL; write_fence
#   without a write_fault callback: EINVAL; reclaim off under demotion:
#   EBUSY; unknown capability: EINVAL; allow_user while owned: EBUSY
#   owner and caps are read-only (EACCES)
#   unloading gives the node back with the unowned defaults, also when the
#   module "forgets" to release it (leak=1): the kernel releases it for the
#   module, logs it, and the node can be claimed again
#   modules get accessors, not the node masks: spm_nodes, spm_sysram_nodes,
#   spm_cap_nodes and spm_nodes_key are not exported (/proc/kallsyms)
. /spm/lib/tap.sh

N=/sys/devices/system/node/node2/spm
D=/sys/kernel/debug/spm_test_owner
P=/sys/module/spm_test_owner/parameters
UNOWNED="reclaim compaction longterm_pin"

# load ARGS...: "ok", or the error text of the failed load
load() {
	local out
	out=$(modprobe spm_test_owner "$@" 2>&1) && { echo ok; return; }
	echo "${out##*: }"
}

unload() {
	rmmod spm_test_owner 2>/dev/null
}

tap_plan 49

# --- unowned ------------------------------------------------------------
unload
tap_is "unowned: owner" none "$(cat $N/owner 2>&1)"
tap_is "unowned: caps" "$UNOWNED" "$(cat $N/caps 2>&1)"
tap_is "unowned: allow_user" 0 "$(cat $N/allow_user 2>&1)"
tap_is "unowned: allow_user=1 accepted" ok "$(try_write $N/allow_user 1)"
tap_is "unowned, allow_user=1: caps add user and migration" \
	"user reclaim compaction migration longterm_pin" "$(cat $N/caps 2>&1)"
tap_is "unowned: allow_user=0 accepted" ok "$(try_write $N/allow_user 0)"
tap_is "unowned, allow_user=0: caps" "$UNOWNED" "$(cat $N/caps 2>&1)"

# --- loads that must fail, leaving the node unowned -------------------------
tap_is "load caps=bogus: EINVAL" "Invalid argument" "$(load caps=user,bogus)"
tap_is "owner still none" none "$(cat $N/owner 2>&1)"
tap_is "load nid=0 (SysRAM node): ENODEV" "No such device" "$(load nid=0)"
tap_is "load caps=demotion (no reclaim): EINVAL" "Invalid argument" "$(load caps=demotion)"
tap_is "load no_write_fault=1 caps=write_fence: EINVAL" "Invalid argument" \
	"$(load no_write_fault=1 caps=write_fence)"
tap_is "load fence_action=bogus: EINVAL" "Invalid argument" "$(load fence_action=bogus)"
tap_is "after the failed loads: owner none" none "$(cat $N/owner 2>&1)"
tap_is "after the failed loads: caps" "$UNOWNED" "$(cat $N/caps 2>&1)"

# --- owned ----------------------------------------------------------------
tap_is "load caps=reclaim,user" ok "$(load caps=reclaim,user)"
tap_is "owned: owner" spm_test_owner "$(cat $N/owner 2>&1)"
tap_is "owned: caps (only the param's)" "user reclaim" "$(cat $N/caps 2>&1)"
tap_is "owned: debugfs caps" "user reclaim" "$(cat $D/caps 2>&1)"
tap_is "owned: allow_user follows the user cap" 1 "$(cat $N/allow_user 2>&1)"
tap_is "second owner of the node: EBUSY" "Device or resource busy" "$(try_write $D/claim_again 1)"
tap_is "second owner: spm_node_claim() said -EBUSY" -16 "$(cat $D/claim_again 2>&1)"
tap_is "owner unchanged" spm_test_owner "$(cat $N/owner 2>&1)"
tap_is "+bogus: EINVAL" "Invalid argument" "$(try_write $D/caps +bogus)"
tap_is "a name without +/-: EINVAL" "Invalid argument" "$(try_write $D/caps reclaim)"
tap_is "+demotion with reclaim on" ok "$(try_write $D/caps +demotion)"
tap_is "caps: demotion on" "user reclaim demotion" "$(cat $N/caps 2>&1)"
tap_is "turning reclaim off while demotion is on: EBUSY" "Device or resource busy" "$(try_write $D/caps -reclaim)"
tap_is "caps unchanged after EBUSY" "user reclaim demotion" "$(cat $N/caps 2>&1)"
tap_is "demotion off, then reclaim off" ok,ok "$(try_write $D/caps -demotion),$(try_write $D/caps -reclaim)"
tap_is "+demotion with reclaim off: EINVAL" "Invalid argument" "$(try_write $D/caps +demotion)"
tap_is "+write_fence with a write_fault callback, then -write_fence" ok,"user write_fence",ok \
	"$(try_write $D/caps +write_fence),$(cat $N/caps 2>&1),$(try_write $D/caps -write_fence)"
tap_is "caps after the runtime changes" user "$(cat $N/caps 2>&1)"
tap_is "allow_user=0 while owned: EBUSY" "Device or resource busy" "$(try_write $N/allow_user 0)"
tap_is "allow_user unchanged" 1 "$(cat $N/allow_user 2>&1)"
tap_is "owner is read-only (EACCES)" "Permission denied" "$(try_write $N/owner nobody)"
tap_is "caps is read-only (EACCES)" "Permission denied" "$(try_write $N/caps none)"
tap_is "fence_action: allow accepted, bogus refused" "ok,Invalid argument,allow" \
	"$(try_write $P/fence_action allow),$(try_write $P/fence_action bogus),$(cat $P/fence_action)"

# --- released ---------------------------------------------------------------
unload
tap_is "unloaded: owner none, unowned caps, allow_user 0" "none/$UNOWNED/0" \
	"$(cat $N/owner)/$(cat $N/caps)/$(cat $N/allow_user)"

# --- an owner without a write_fault callback --------------------------------
tap_is "load no_write_fault=1 caps=user" ok "$(load no_write_fault=1 caps=user)"
tap_is "no write_fault callback: +write_fence is EINVAL" "Invalid argument" \
	"$(try_write $D/caps +write_fence)"
tap_is "no write_fault callback: caps" user "$(cat $N/caps 2>&1)"
unload
tap_is "unloaded again: owner none" none "$(cat $N/owner 2>&1)"

# --- a module that unloads without releasing the node -----------------------
tap_is "load leak=1 caps=reclaim,user" ok "$(load leak=1 caps=reclaim,user)"
unload
tap_is "unloaded without release: owner none, unowned caps, allow_user 0" \
	"none/$UNOWNED/0" "$(cat $N/owner 2>&1)/$(cat $N/caps 2>&1)/$(cat $N/allow_user 2>&1)"
tap_is "the kernel logged the release" \
	"node 2: module spm_test_owner is going away without releasing it (owner spm_test_owner); released" \
	"$(dmesg | grep -o 'node 2: module .*released$' | head -1)"
tap_is "the node can be claimed again (load caps=user)" ok "$(load caps=user)"
unload

# --- what the kernel exports to modules ------------------------------------
tap_is "node masks and static key not exported" "" \
	"$(grep -oE ' __ksymtab_(spm_nodes|spm_sysram_nodes|spm_cap_nodes|spm_nodes_key)$' /proc/kallsyms | tr '\n' ' ')"
tap_is "the accessors are exported" \
	"__ksymtab_spm_node_has_cap __ksymtab_spm_node_is_spm __ksymtab_spm_nodes_any" \
	"$(grep -oE '__ksymtab_(spm_nodes_any|spm_node_is_spm|spm_node_has_cap)$' /proc/kallsyms | sort | tr '\n' ' ' | sed 's/ $//')"

tap_done
