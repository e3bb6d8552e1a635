#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# mutants.sh - mutation testing: does the test suite notice a broken core?
#
# Each mutant below is one small change (a sed script) to one file of
# common/ or user/: a dropped check, an off-by-one, a weakened memory
# order.  For each in turn this copies the tree (common/ user/ tests/
# tools/ Makefile Kbuild) to build/mutants/<name>/, applies the change, runs
# the mutant's suite there (make test, and make relacy-litmus or make
# sanitize-asan where the mutant says so) and records what caught it.
#
# Outcomes:
#   killed     some test failed; the table names them (binary:test)
#   SURVIVED   everything passed: a missing test, or an equivalent mutant
#              (docs/testing.md gives the reason for each one we keep)
#   stale      the sed script changed nothing: the code it targets has
#              moved; fix the pattern (not counted in the kill rate)
#   stillborn  the mutant does not build (not counted)
#
# Kill rate = killed / (killed + survived).  The table goes to stdout and,
# as Markdown, to build/mutants/report.md; each mutant's diff and failing
# results to build/mutants/<name>.log.
#
# Usage: tools/mutants.sh [-k] [-l] [-s] [NAME...]
#   -k  keep each mutant's tree (build/mutants/<name>/)
#   -l  list the mutants and exit
#   -s  staleness check only: apply each sed and name those that change
#       nothing (seconds, no build); exit 1 if any
#   NAME  run only these
#
# Adding a mutant: one "mutant" line below: name, file, what to run
# (test, relacy-litmus, sanitize-asan, joined with +), the sed script
# (it must match the code's text, so write it against code patterns
# that say what the line does, not line numbers), and what it breaks.
# A new protocol brings its own mutants, each killed by a test.
set -uo pipefail

cd "$(dirname "$0")/.."
top=$PWD
out=$top/build/mutants
timeout_s=${MUTANT_TIMEOUT:-1500}

names=() files=() runs=() seds=() whats=()
mutant() {
	names+=("$1") files+=("$2") runs+=("$3") seds+=("$4") whats+=("$5")
}

# --- the mutants ---------------------------------------------------------

mutant fast-double-free common/mpool.h test \
	's/if (likely(mpool_blk_state(w) == c->alloc_tag)) {/if (1) {/' \
	"the cache free fast path takes a block whatever its state"
mutant slow-double-free common/pool.c test \
	'/^static int mpool_free_direct(/,/^}/s/^\tif (err)$/\tif (0)/' \
	"the slow free (mpool_free_direct()) ignores a failed ALLOC -> FREE compare-and-swap"
mutant slab-double-free common/slab.c test \
	'/^static int mpool_slab_unhand(/,/^}/s/if (mpool_blk_state(w) == MPOOL_BLK_ALLOC_NONE)$/if (1)/' \
	"mpool_slab_free() (and the bulk free) frees a block whatever its state"
mutant interior-pointer common/mpool.h test \
	's/u64 q = mpool_ror64(off \* s->inv, s->shift);/u64 q = off \/ s->stride;/' \
	"the pointer check divides: an interior pointer maps to its block"
mutant off-by-one-range common/mpool.h test \
	's/if (unlikely(q >= s->count))/if (unlikely(q > s->count))/' \
	"the pointer check accepts the block one past the segment"
mutant no-tag-bump common/stack.c test+relacy-litmus \
	's/return (((old >> 32) + 1) << 32) | idx;/return ((old >> 32) << 32) | idx;/' \
	"the stack head's tag is not bumped (ABA)"
mutant relaxed-head common/stack.c test+relacy-litmus \
	's/u64 old = mpool_load_acquire(&st->head);/u64 old = MPOOL_READ(st->head);/' \
	"mpool_stack_pop() loads head relaxed, not acquire"
mutant no-exit-drain user/lib.c test \
	'/^static void mpool_thread_exit(void \*unused)$/,/^}/s/mpool_tls_drop(i);/mpool_tls.vec[i].cache = NULL;/' \
	"thread exit does not give the thread's caches back"
mutant no-generation user/lib.c test \
	's/reg->gen = __atomic_fetch_add(&mpool_next_gen, 1, __ATOMIC_RELAXED);/reg->gen = __atomic_load_n(\&mpool_next_gen, __ATOMIC_RELAXED);/' \
	"every pool gets the same generation number"
mutant generation-per-slot user/lib.c test \
	's/^\t\treg->slot = i;$/\t\treg->slot = i;\n\t\treg->gen = i + 1;/' \
	"a pool reusing a registry slot gets the generation of the last one"
mutant stale-tls-entry user/lib.c test \
	's/if (e && e->gen == p->reg.gen)/if (e \&\& e->cache)/' \
	"a TLS entry is used without checking its generation"
mutant no-fork-rebuild user/lib.c test \
	's/^\t\tmpool_pool_rebuild(&p->core);$/\t\t(void)p;/' \
	"the child of fork() does not rebuild its pools"
mutant fork-keeps-cache user/lib.c test \
	's/^\t\t\tMPOOL_WRITE(uc->c.count, 0);$/\t\t\t(void)uc;/' \
	"the child of fork() keeps every thread's cached blocks"
mutant miscount-spill common/pool.c test \
	's/mpool_counter_add_return(&s->nfree, n);/mpool_counter_add_return(\&s->nfree, n - 1);/' \
	"a spill to the depot counts one block fewer than it gives"
mutant miscount-high-water common/slab.c test \
	's/mpool_counter_max(&s->high_water, (long)s->count - left);/mpool_counter_max(\&s->high_water, (long)s->count - left - 1);/' \
	"the high-water mark lags by one"
mutant no-redzone-check common/slab.c test \
	's/if (unlikely(!mpool_debug_intact(s, idx, false)))/if (0)/' \
	"debug mode does not check the red zone on free"
mutant no-asan-poison user/mpool_env.h sanitize-asan \
	'/^static inline void mpool_env_block_free(/,/^}/s/mpool_asan_poison(p, size);/(void)size;/' \
	"a freed block is not poisoned for ASan"
mutant arena-overshoot common/arena.c test \
	's/if (end > a->capacity)/if (0)/' \
	"the arena's rounding up may pass its capacity"
mutant rebuild-frees-quarantine common/slab.c test \
	's/if (mpool_blk_is_alloc(st) || st == MPOOL_BLK_BAD)$/if (mpool_blk_is_alloc(st))/' \
	"a rebuild (fork) puts quarantined blocks back on the stack"
mutant debug-no-cas user/lib.c test \
	's/^\tif (uc \&\& !(p->core.slab.flags \& MPOOL_F_SLOW)) {$/\tif (uc) {/' \
	"debug and checker pools take the plain-store fast paths"
mutant slow-free-dead-memo user/lib.c test \
	's/if (m->pool == p \&\& MPOOL_READ(m->uc->c.alloc_tag) != MPOOL_BLK_NO_TAG)$/if (m->pool == p)/' \
	"the free's slow path takes a memo hit's cache even when its pool was destroyed"
mutant exit-release-first user/lib.c test \
	'/^static void mpool_tls_drop(/,/^}/{/^\tmpool_tls.vec\[slot\].cache = NULL;$/d; s/^\tmpool_ucache_release(uc);$/\tmpool_ucache_release(uc);\n\tmpool_tls.vec[slot].cache = NULL;/}' \
	"a cache is given back before its TLS entry is emptied (an error hook's call then finds it half gone)"
mutant exit-keeps-memo user/lib.c test \
	'/^static void mpool_tls_drop(/,/^}/{/^\tmpool_memo_forget(uc);$/d}' \
	"a cache is given back with a memo entry (set by an error hook's call) still on it"
mutant alloc-fast-any-state common/mpool.h test \
	'/^static inline bool mpool_cache_alloc_fast(/,/^}/s/if (unlikely(mpool_blk_state(w) != MPOOL_BLK_FREE))$/if (0)/' \
	"the cache alloc fast path hands out a block whatever its state"

# The ownership and remote-free protocol (common/pool.c's header).
mutant remote-cas-store common/pool.c test+relacy-litmus \
	'/Nothing to check or poison/,/&seen);/s/err = __mpool_cas_state(s, idx, w,$/MPOOL_WRITE(s->state[idx], mpool_blk_word(w, MPOOL_BLK_REMOTE_TAG | o)); err = 0 \&\& __mpool_cas_state(s, idx, w,/' \
	"a remote free checks ALLOC then stores REMOTE (no compare-and-swap)"
mutant pass-on-silent common/pool.c test \
	's/if (!mpool_remote_push(p, MPOOL_READ(p->owners\[o\]), idx))$/if (!mpool_remote_push(p, MPOOL_READ(p->owners[o]), idx) \&\& 0)/' \
	"a stale batch entry passed on to a queue that holds the block is dropped unreported"
mutant steal-all-ignores-orphan user/lib.c test \
	's/return got || MPOOL_READ(mine->c.count) != 0;/return got;/' \
	"a thief whose sends collected an exited owner's queue into its cache still fails"
mutant steal-no-thief-lock common/pool.c test \
	's/^\t    !mpool_try_cmpxchg(\&c->thief, \&old, 1))$/\t    (0 \&\& !mpool_try_cmpxchg(\&c->thief, \&old, 1)))/' \
	"two thieves may work on one victim at once"
mutant thief-no-wait user/lib.c test \
	'/^static void mpool_wait_thief(/,/^}/s/for (spins = 0; mpool_cache_has_remote(c) \&\&$/for (spins = 0; 0 \&\&/' \
	"a thief that finds another at work on the victim does not wait for it"
mutant thief-wait-unbounded user/lib.c test \
	'/^static bool mpool_wait_turn(/,/^}/s/} else if (now >= wt->end) {$/} else if (0 \&\& now >= wt->end) {/' \
	"the waits of an allocation that ran dry have no bound in time"
mutant outbox-without-membarrier user/lib.c test \
	's/^\t\tp->core.outbox_batch = 0;$/\t\tp->core.outbox_batch += 0;/' \
	"outboxes stay on when membarrier() is refused (nobody could send an idle freer's)"
mutant outbox-no-request common/pool.c test+relacy-litmus \
	's/if (unlikely(mpool_load_acquire(\&c->ob_req)))$/if (0)/' \
	"a remote freer fills its outbox while a thief holds it"
mutant no-rnext-claim common/pool.c test+relacy-litmus \
	's/if (!mpool_try_cmpxchg(&p->rnext\[idx\], &old, MPOOL_NIL))/if (0)/' \
	"a remote free pushes the block without claiming rnext[]"
mutant no-orphan-claim common/pool.c test \
	's/if (oc \&\& mpool_cache_claim(oc)) {/if (0 \&\& oc) {/' \
	"a remote free to an exited owner queues the block instead of collecting the orphan"
mutant no-orphan-collect common/pool.c test \
	's/if (oc \&\& mpool_cache_claim(oc)) {/if (0 \&\& oc) {/; /^bool mpool_cache_collect_orphan(/,/^}/s/if (!mpool_cache_has_remote(c) || !mpool_cache_claim(c))$/if (1)/' \
	"nobody collects the queue of an exited owner (no claim, no orphan collection)"
mutant steal-no-busy-wait user/lib.c test \
	'/^static bool mpool_wait_busy(/,/^}/s/for (spins = 0; mpool_load_acquire(\&c->busy); spins++)$/for (spins = 0; 0; spins++)/' \
	"the thief takes the marked blocks without waiting for the owner's busy flag"
mutant outbox-steal-no-busy-wait user/lib.c test \
	's/if (ok \&\& mpool_load_acquire(\&uc->c.busy)) {$/if (0) {/' \
	"the outbox thief takes an outbox without waiting for the freer's busy flag"
mutant bulk-no-state-check common/pool.c test \
	'/^static size_t mpool_cache_free_run(/,/^}/s/if (unlikely(mpool_blk_state(w) != tag))$/if (0)/' \
	"the bulk free's run over the cache takes a block whatever its state"
mutant free-delta-no-seq common/pool.c test \
	's/c->free_delta = MPOOL_SEQ_ONE + MPOOL_BLK_FREE - c->alloc_tag;/c->free_delta = MPOOL_BLK_FREE - c->alloc_tag;/' \
	"the fast free does not advance the block's sequence number"
mutant alloc-delta-off-by-one common/pool.c test \
	's/c->alloc_delta = (u64)c->alloc_tag - MPOOL_BLK_FREE;/c->alloc_delta = (u64)c->alloc_tag - MPOOL_BLK_FREE + 1;/' \
	"the fast alloc marks a block with the next owner's tag"

# --- the runner ----------------------------------------------------------

keep=0
while getopts kls opt; do
	case $opt in
	k) keep=1 ;;
	s) rc=0
	   for i in "${!names[@]}"; do
		if sed "${seds[$i]}" "${files[$i]}" | cmp -s - "${files[$i]}"; then
			echo "stale ${names[$i]}: pattern not found in ${files[$i]}"
			rc=1
		fi
	   done
	   [ $rc -eq 0 ] && echo "no stale mutant (${#names[@]} mutants)"
	   exit $rc ;;
	l) for i in "${!names[@]}"; do
		printf '%-26s %-18s %s\n' "${names[$i]}" "${files[$i]}" \
			"${whats[$i]}"
	   done
	   exit 0 ;;
	*) sed -n '/^# Usage/,/^#   NAME/p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
want=("$@")

# The kselftest headers once, here; each mutant copies them.
make --no-print-directory -s "$top/build/include/kselftest_harness.h" || exit 1
mkdir -p "$out"

# One mutant: its outcome on stdout's last line.  Index -1: the tree as
# it is, which must pass every target the chosen mutants use.
run_mutant() {
	local i=$1 name file dir log target rc caught=() tap run what

	if [ "$i" -ge 0 ]; then
		name=${names[$i]} file=${files[$i]} run=${runs[$i]}
		what=${whats[$i]}
	else
		name=baseline file= run=$baseline_runs what="no mutation"
	fi
	dir=$out/$name log=$out/$name.log
	rm -rf "$dir" && mkdir -p "$dir/build"
	cp -r common user tests tools Makefile Kbuild "$dir/"
	cp -a build/include "$dir/build/"
	echo "== $name: $what" > "$log"
	if [ -n "$file" ]; then
		sed "${seds[$i]}" "$file" > "$dir/$file"
		diff -u "$file" "$dir/$file" | tail -n +3 >> "$log"
		if cmp -s "$file" "$dir/$file"; then
			echo "stale|pattern not found in $file"
			return
		fi
	fi
	IFS=+ read -ra targets <<<"$run"
	for target in "${targets[@]}"; do
		echo "== make $target" >> "$log"
		timeout -k 10 "$timeout_s" make --no-print-directory -C "$dir" \
			"$target" > "$dir/$target.out" 2>&1
		rc=$?
		# Every failing TAP line, named binary:test.
		for tap in "$dir"/build/logs/*.tap "$dir"/build/asan/logs/*.tap; do
			[ -f "$tap" ] || continue
			while read -r line; do
				caught+=("$(basename "$tap" .tap):$line")
			done < <(sed -n 's/^not ok [0-9]* \(- \)\?\([^ :]*\).*/\2/p' "$tap")
		done
		grep '^not ok\|Test terminated\|Test failed\|error:' \
			"$dir/$target.out" | head -20 >> "$log"
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			caught+=("$target:timeout(${timeout_s}s)")
		fi
		if [ $rc -ne 0 ] && [ ${#caught[@]} -eq 0 ]; then
			if grep -q 'error:\|Error [0-9]' "$dir/$target.out" &&
			   ! ls "$dir"/build/logs/*.tap >/dev/null 2>&1; then
				echo "stillborn|does not build (see $log)"
				grep 'error:' "$dir/$target.out" | head -5 >> "$log"
				return
			fi
			caught+=("$target:exit-$rc")
		fi
		[ ${#caught[@]} -eq 0 ] || break
	done
	[ $keep -eq 1 ] || rm -rf "$dir"
	if [ ${#caught[@]} -eq 0 ]; then
		echo "SURVIVED|$run all pass"
	else
		# Unique, in order; the relacy and make logs say "which case".
		mapfile -t caught < <(printf '%s\n' "${caught[@]}" | awk '!s[$0]++')
		echo "killed|$(IFS=,; echo "${caught[*]}" | sed 's/,/, /g')"
	fi
}

chosen=()
for i in "${!names[@]}"; do
	if [ ${#want[@]} -eq 0 ] ||
	   printf '%s\n' "${want[@]}" | grep -qx "${names[$i]}"; then
		chosen+=("$i")
	fi
done
[ ${#chosen[@]} -gt 0 ] || { echo "mutants.sh: no such mutant" >&2; exit 2; }

# Without a mutant, every target must pass, or a "kill" means nothing.
baseline_runs=$(for i in "${chosen[@]}"; do echo "${runs[$i]}" | tr + '\n'; done |
		awk '!s[$0]++' | paste -sd+ -)
start=$SECONDS
result=$(run_mutant -1 | tail -1)
printf '%-26s %-9s %4ds  %s\n' baseline "${result%%|*}" \
	$((SECONDS - start)) "${result#*|}"
if [ "${result%%|*}" != SURVIVED ]; then
	echo "mutants.sh: the suite fails with no mutant (build/mutants/baseline.log); fix that first" >&2
	exit 1
fi

killed=0 survived=0 stale=0 stillborn=0
report=$out/report.md
{
	echo "| mutant | file | breaks | outcome | caught by |"
	echo "|---|---|---|---|---|"
} > "$report"
for i in "${chosen[@]}"; do
	start=$SECONDS
	result=$(run_mutant "$i" | tail -1)
	outcome=${result%%|*} detail=${result#*|}
	case $outcome in
	killed) killed=$((killed + 1)) ;;
	SURVIVED) survived=$((survived + 1)) ;;
	stale) stale=$((stale + 1)) ;;
	*) stillborn=$((stillborn + 1)) ;;
	esac
	printf '%-26s %-9s %4ds  %s\n' "${names[$i]}" "$outcome" \
		$((SECONDS - start)) "$detail"
	echo "| ${names[$i]} | ${files[$i]} | ${whats[$i]} | $outcome | $detail |" \
		>> "$report"
done
total=$((killed + survived))
rate=$(awk -v k=$killed -v t=$total 'BEGIN { printf "%.0f", t ? 100 * k / t : 0 }')
summary="kill rate: $killed of $total mutants killed ($rate%); $stale stale, $stillborn stillborn"
echo "$summary"
printf '\n%s\n' "$summary" >> "$report"
[ $survived -eq 0 ] && [ $stale -eq 0 ] && [ $stillborn -eq 0 ]
