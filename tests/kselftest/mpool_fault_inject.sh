#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection: make mempool.ko's own allocations fail, and check that
# every failure is a clean error (insmod fails, or create returns -ENOMEM),
# that nothing leaks (mempool.ko's own count of its allocations, and
# kmemleak when the kernel has it), and that the kernel stays healthy (the
# modules load, work and unload afterwards; the VM runner fails the run on
# any report).
#
# How: /proc/self/fail-nth makes the Nth fault-injection point of one task
# fail, and failslab and fail_page_alloc decide which allocations are such
# points.  A sweep runs one operation with N = 1, 2, 3, ... until N passes
# its last allocation, so every allocation it makes fails once:
#
#   slab   failslab counts every slab allocation (ignore-gfp-wait=N):
#          kmalloc/kvmalloc of metadata, vmalloc's own bookkeeping, percpu
#          and debugfs objects, kmemleak's records;
#   page   fail_page_alloc counts every page allocation of any order
#          (ignore-gfp-wait=N, ignore-gfp-highmem=N, min-order=0): the
#          pages of vzalloc()'d segments (vmalloc retries a failed bulk
#          allocation page by page, so one failure is absorbed), page
#          tables, KASAN's vmalloc shadow, new slab and percpu pages.
#
# Probability stays 0, so nothing else fails; each injection decrements
# the attribute's "times", which tells whether the Nth point was reached.
#
#   - create through the stress module's debugfs trigger (create, fill a
#     block, destroy), for each kind, with and without debug mode: every
#     slab and every page allocation in turn; it must succeed or return
#     -ENOMEM, and mempool.ko's count of its allocations must come back;
#   - the same create with every slab, then every page allocation of this
#     task failing at once (make-it-fail and task-filter, probability 100):
#     -ENOMEM;
#   - insmod of mempool.ko and of mpool_stress.ko (whose init creates a
#     pool), slab allocations: each of the last ones, where the module's
#     init runs, and every 16th of the kernel's module loader before them;
#     the module loads or fails, and unloads;
#   - then: the modules load, work and unload; kmemleak (when the kernel
#     has it) finds nothing allocated by them.
#
# Allocation-failure warnings (warn_alloc, pcpu_alloc) are expected
# meanwhile: an MPOOL-ALLOW window in the kernel log tells the runner.
# Not covered: allocations outside this task (percpu's background chunk
# work), and vmalloc's pages by failslab (only fail_page_alloc sees them).
. "$(dirname "$0")/lib.sh"

require_root
require_module mempool mpool_stress
FS=$DBG/failslab
FP=$DBG/fail_page_alloc
if [ ! -d $FS ] || [ ! -d $FP ] || [ ! -e /proc/self/fail-nth ]; then
	echo "# SKIP: needs CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and" \
	     "CONFIG_FAULT_INJECTION_DEBUG_FS (no $FS here)"
	exit $ksft_skip
fi
ST=$DBG/mpool_stress/status
MAXN=2000		# more allocation points than any operation makes
TIMES=1000000

tap_plan 19

# kv FILE KEY: set $val to KEY's value in a "key value" file (no fork).
kv() {
	val=
	while read -r k v; do
		if [ "$k" = "$2" ]; then
			val=$v
			return 0
		fi
	done < "$1"
}

# injections: set $inj to the injections made so far (no fork).
injections() {
	read -r a < $FS/times
	read -r b < $FP/times
	inj=$((2 * TIMES - a - b))
}

kmsg() { echo "$*" > /dev/kmsg; }
t0=$(date +%s)
took() { echo "# ($(($(date +%s) - t0)) s since the start)"; }

# Only fail-nth fails anything: probability 0, every injection counted.
fi_setup() {
	for d in $FS $FP; do
		echo 0 > $d/probability
		echo 1 > $d/interval
		echo 0 > $d/space
		echo $TIMES > $d/times
		echo 0 > $d/verbose
		echo N > $d/task-filter
	done
	echo 0 > $FP/min-order
}

# fi_mode slab|page: which allocations count as fault-injection points.
fi_mode() {
	if [ "$1" = slab ]; then
		echo N > $FS/ignore-gfp-wait
		echo Y > $FP/ignore-gfp-wait
		echo Y > $FP/ignore-gfp-highmem
	else
		echo Y > $FS/ignore-gfp-wait
		echo N > $FP/ignore-gfp-wait
		echo N > $FP/ignore-gfp-highmem
	fi
}

# The kernel's defaults back.
fi_restore() {
	for d in $FS $FP; do
		echo 0 > $d/probability
		echo 1 > $d/times
		echo 2 > $d/verbose
		echo N > $d/task-filter
	done
	echo Y > $FS/ignore-gfp-wait
	echo Y > $FP/ignore-gfp-wait
	echo Y > $FP/ignore-gfp-highmem
	echo 1 > $FP/min-order
}

# sweep_create SPEC MODE: fail each allocation of one create in turn.
# This shell is the task: fd 4 arms fail-nth, fd 3 runs the create, and
# no system call between them allocates (in page mode a page fault of this
# shell could take the failure: it would count as absorbed).
sweep_create() {
	fi_mode "$2"
	n=0 bad=0 nomem=0 absorbed=0 leak=0
	while [ $n -lt $MAXN ]; do
		n=$((n + 1))
		injections
		before=$inj
		echo $n >&4
		echo "$1" >&3 2>&5
		echo 0 >&4
		injections
		kv $ST create
		res=$val
		kv $ST outstanding
		[ "$val" = "$base_out" ] || leak=$((leak + 1))
		if [ $inj -eq $before ]; then
			# Past the last allocation: the create must succeed.
			[ "$res" = 0 ] || bad=$((bad + 1))
			break
		fi
		case $res in
		0) absorbed=$((absorbed + 1)) ;;
		-12) nomem=$((nomem + 1)) ;;
		*)
			echo "# $1 ($2): failing allocation $n gave $res"
			bad=$((bad + 1))
			;;
		esac
	done
	n=$((n - 1))
	echo "# $1 ($2): $n allocation points; $nomem failed the create" \
	     "with -ENOMEM, $absorbed were absorbed (fallback or optional)"
	check "create '$1', its $2 allocations failing in turn: clean, no leak" \
	      [ $bad -eq 0 -a $leak -eq 0 -a $n -gt 0 -a $n -lt $MAXN ]
}

# insmod_at MODULE N: insmod with its Nth slab allocation failing.  It
# loads (and is unloaded again) or fails, nothing between; $hit says
# whether the Nth point was reached.  Busybox's insmod retries a failed
# finit_module() with init_module(), so most failures are retried and
# load: the point is that nothing breaks on the way.
insmod_at() {
	injections
	before=$inj
	sh -c "echo $2 > /proc/self/fail-nth &&
	       exec insmod $MPOOL_MODDIR/$1.ko" 2>/dev/null
	rc=$?
	injections
	hit=0
	[ $inj -eq $before ] || hit=1
	if loaded "$1"; then
		[ $rc -eq 0 ] || bad=$((bad + 1))
		rmmod "$1" || bad=$((bad + 1))
	else
		[ $rc -ne 0 ] || bad=$((bad + 1))
		failed=$((failed + 1))
	fi
	tried=$((tried + 1))
}

# sweep_insmod MODULE TAIL: find P, the slab allocations of an insmod
# (binary search: the Nth is reached exactly when N <= P), then fail each
# of the last TAIL in turn, where the module's init runs, and every 16th
# before them, the kernel's module loader.
sweep_insmod() {
	fi_mode slab
	bad=0 failed=0 tried=0 lo=0 hi=$MAXN
	insmod_at "$1" $hi
	over=$hit
	if [ $over -eq 0 ]; then
		while [ $((hi - lo)) -gt 1 ]; do
			mid=$(((lo + hi) / 2))
			insmod_at "$1" $mid
			if [ $hit -eq 1 ]; then lo=$mid; else hi=$mid; fi
		done
	fi
	n=1
	while [ $n -le $lo ]; do
		insmod_at "$1" $n
		if [ $n -lt $((lo - $2)) ]; then
			n=$((n + 16))
		else
			n=$((n + 1))
		fi
	done
	echo "# insmod $1: $lo allocation points, $tried insmods," \
	     "$failed failed"
	took
	check "insmod $1, its slab allocations failing: loads or fails" \
	      [ $bad -eq 0 -a $lo -gt 0 -a $over -eq 0 ]
}

unload mpool_stress
unload mempool
leaks=
if [ -w $DBG/kmemleak ]; then
	# No automatic scan meanwhile; what leaked before is not ours.
	echo scan=off > $DBG/kmemleak
	kmsg "MPOOL-ALLOW-BEGIN kmemleak: [0-9]+ new suspected"
	echo scan > $DBG/kmemleak
	kmsg "MPOOL-ALLOW-END"
	echo clear > $DBG/kmemleak
fi

fi_setup
trap fi_restore EXIT
kmsg "MPOOL-ALLOW-BEGIN warn_alloc|pcpu_alloc"
sweep_insmod mempool 40
load mempool
sweep_insmod mpool_stress 80
load mpool_stress
kv $ST outstanding
base_out=$val
echo "# mempool.ko holds $base_out allocations with mpool_stress loaded"

exec 3> $DBG/mpool_stress/create 4> /proc/self/fail-nth 5> /dev/null
for mode in slab page; do
	sweep_create "slab 100 16 0" $mode
	sweep_create "slab 4000 64 1" $mode
	sweep_create "pool 256 8 64 0" $mode
	sweep_create "pool 100 4 32 1" $mode
	sweep_create "arena 10000" $mode
done
took

# all_fail slab|page: every allocation of that kind the create makes fails
# at once (a single failing page is absorbed: vmalloc retries page by
# page).  This shell is marked (make-it-fail) around the create only, and
# only marked tasks fail (task-filter, set before the probability); times
# bounds the failures should the shell itself fault a page in meanwhile.
all_fail() {
	d=$FS
	[ "$1" = page ] && d=$FP
	fi_mode "$1"
	echo Y > $d/task-filter
	echo 1000 > $d/times
	echo 100 > $d/probability
	echo 1 >&6
	echo "pool 256 8 64 0" >&3 2>&5
	echo 0 >&6
	echo 0 > $d/probability
	echo N > $d/task-filter
	echo $TIMES > $d/times
	kv $ST create
	check "every $1 allocation failing at once: create returns -ENOMEM" \
		[ "$val" = -12 ]
}

exec 6> /proc/self/make-it-fail
all_fail slab
all_fail page
exec 6>&-
exec 3>&- 4>&- 5>&-
fi_restore
kmsg "MPOOL-ALLOW-END"

kv $ST outstanding
check "mempool.ko's allocations back to where they were" \
	[ "$val" = "$base_out" ]
check "a create still works" \
	sh -c "echo 'pool 256 8 64 1' > $DBG/mpool_stress/create"
check "the stress still runs" sh -c "echo '2000 0' > $DBG/mpool_stress/run"
check "both modules unload and load again" \
	sh -c "rmmod mpool_stress && rmmod mempool &&
	       insmod $MPOOL_MODDIR/mempool.ko &&
	       insmod $MPOOL_MODDIR/mpool_stress.ko"

if [ -w $DBG/kmemleak ]; then
	# Objects younger than 5 s are never reported, and a new object is
	# reported by the second scan that finds it unreferenced (the first
	# only records its checksum).
	sleep 6
	kmsg "MPOOL-ALLOW-BEGIN kmemleak: [0-9]+ new suspected"
	echo scan > $DBG/kmemleak
	echo scan > $DBG/kmemleak
	kmsg "MPOOL-ALLOW-END"
	cat $DBG/kmemleak > /tmp/mpool_kmemleak
	# A leak is the module's when its allocation backtrace runs through
	# mempool.ko or mpool_stress.ko, or through a module gone since
	# (an address no symbol resolves).
	leaks=$(awk '/^unreferenced object/ { n += hit; hit = 0 }
		/\[mempool\]|\[mpool_stress\]|\] 0x[0-9a-f]+$/ { hit = 1 }
		END { print n + hit }' /tmp/mpool_kmemleak)
	others=$(grep -c '^unreferenced object' /tmp/mpool_kmemleak)
	echo "# kmemleak: $leaks suspected leaks from the modules," \
	     "$((others - leaks)) from elsewhere"
	[ "$leaks" -eq 0 ] || sed 's/^/# /' /tmp/mpool_kmemleak | head -60
	check "kmemleak: nothing leaked from the modules" [ "$leaks" -eq 0 ]
	took
	echo clear > $DBG/kmemleak
	echo scan=on > $DBG/kmemleak
else
	ok "kmemleak: nothing leaked from the modules # SKIP no kmemleak here"
fi
rmmod mpool_stress
rmmod mempool
tap_done
