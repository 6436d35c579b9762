# Reliability scenarios of dm-biopool, shared by the quick seeded
# slice that `make check` runs (tests/bats/40-reliability.bats) and the full
# set of `make stress` (tests/stress/*.bats, tests/stress/lowmem).  Only
# scenarios: each takes its size (lines, messages, seconds) as arguments,
# asserts on checksums, counters and exit codes, and prints its figures as
# TAP comments ("# ...") on fd 3.  The helpers are in tests/lib; a file of
# scenarios loads ../lib/init (or ../../lib/init) first, then this file,
# and defines its hooks: setup_file() { seed_setup_file; }, setup() {
# common_setup; }, teardown() { common_teardown; }.  Replaying a seed: see
# seed_setup_file in tests/lib/init.bash.
# shellcheck shell=bash disable=SC2154 # status, output: set by bats' run

# MiB of each fio run's region (the quick slice makes it smaller)
REL_FIO=${REL_FIO:-16}

# ---- table fuzzing ---------------------------------------------------------------

# table_fuzz COUNT [CHUNK]: COUNT generated tables over a RAM disk, a loop
# device with 4 KiB blocks and a biopool device (stacking), fed to the
# kernel by dmfuzz run-tables CHUNK lines at a time (default 250, so that
# the kernel log of each chunk fits in the ring buffer), the kernel log
# checked after each chunk, then no device, no holder and no memory left.
table_fuzz() {
	local count=$1 chunk=${2:-250} lo out=$BATS_TEST_TMPDIR/run.out i=0 refused lines t v iv io b l
	local tried=0 valid=0 invalid=0 ios=0 bytes=0 longest=0 f devs=()
	need_dmfuzz
	make_brd 16 2
	lo=$(make_loop 8 4096)
	dm_create fzbase "$(biopool_table /dev/ram1 pool_size:2 split_sectors:16)"
	prefill /dev/ram0 /dev/mapper/fzbase "$lo"
	phase setup

	devs=(--dev "$(fuzz_dev /dev/ram0)" --dev "$(fuzz_dev "$lo")" --dev "$(fuzz_dev /dev/mapper/fzbase)")
	"$DMFUZZ" gen-tables --seed "$SEED" --count "$count" "${devs[@]}" >"$BATS_TEST_TMPDIR/tables"
	[ "$(grep -c '^[VI]	' "$BATS_TEST_TMPDIR/tables")" -eq "$count" ]
	# for a replay on the host (printed when the test fails)
	echo "dmfuzz gen-tables --seed $SEED --count $count ${devs[*]}" >&2
	tail -n +2 "$BATS_TEST_TMPDIR/tables" | split -l "$chunk" - "$BATS_TEST_TMPDIR/chunk."
	# (after the files above: they live in a tmpfs, in memory)
	mem_snapshot "$BATS_TEST_TMPDIR/mem.before"
	phase snapshot
	for f in "$BATS_TEST_TMPDIR"/chunk.*; do
		kmsg_mark
		if ! "$DMFUZZ" run-tables --batch 16 --prefix "fz${i}_" <"$f" >"$out" 2>"$out.err"; then
			cat "$out" "$out.err" >&2
			return 1
		fi
		i=$((i + 1))
		kmsg_mark_seen
		assert_kernel_log_clean
		# every refusal says why in the kernel log
		refused=$(sed -n 's/.* refused_at_load=\([0-9]*\) refused_at_resume=\([0-9]*\) .*/\1 \2/p' "$out")
		refused=$((${refused% *} + ${refused#* }))
		lines=$(kernel_log_since_mark | grep -c 'device-mapper: ' || true)
		if [ "$lines" -lt "$refused" ]; then
			echo "$refused tables refused and only $lines device-mapper lines in the kernel log" >&2
			return 1
		fi
		read -r t v iv io b l < <(sed -n 's/.* tried=\([0-9]*\) valid=\([0-9]*\) invalid=\([0-9]*\) .* ios_verified=\([0-9]*\) bytes_verified=\([0-9]*\) longest_line=\([0-9]*\) .*/\1 \2 \3 \4 \5 \6/p' "$out")
		tried=$((tried + t)) valid=$((valid + v)) invalid=$((invalid + iv))
		ios=$((ios + io)) bytes=$((bytes + b))
		[ "$l" -gt "$longest" ] && longest=$l
		echo "chunk $i: $(head -n 1 "$out")" >&2
		phase "chunk $i"
	done
	[ "$tried" -eq "$count" ]
	[ "$ios" -eq "$valid" ]

	# nothing left: only fzbase, no holder of the backing devices but it
	[ "$(dmsetup ls | awk '{ print $1 }')" = fzbase ]
	[ -z "$(ls /sys/block/ram0/holders)" ]
	[ -z "$(ls "/sys/block/${lo#/dev/}/holders")" ]
	[ "$(ls /sys/block/ram1/holders)" = "$(dm_kname fzbase)" ]
	[ -z "$(ls "$(dm_sysfs fzbase)/holders")" ]
	assert_bp_idle fzbase
	phase checks
	assert_mem_returned "$BATS_TEST_TMPDIR/mem.before"
	figure "memory: grew most: $(mem_grown "$BATS_TEST_TMPDIR/mem.before" "$BATS_TEST_TMPDIR/mem.before.after")"
	phase "memory compared"
	dmsetup remove fzbase
	figure "tables tried=$tried valid=$valid invalid=$invalid; valid ones verified by" \
		"$ios O_DIRECT round trips, $bytes bytes; longest line $longest bytes;" \
		"no device or holder left; memory back within bounds (free memory -$MEM_FREE_KB kB," \
		"SUnreclaim +$MEM_UNRECLAIM_KB kB, VmallocUsed +$MEM_VMALLOC_KB kB, Percpu +$MEM_PERCPU_KB kB," \
		"bio-* caches exact, every other cache +$MEM_OBJ_BYTES bytes or +$MEM_OBJS objects)"
	figure "invalid classes: $(awk -F'\t' '$1 == "I" { n[$2]++ } END { for (c in n) printf "%s=%d ", c, n[c] }' "$BATS_TEST_TMPDIR/tables")"
}

# table_fuzz_dmsetup COUNT: the same generator, through dmsetup create,
# mknodes, an O_DIRECT write and read back, and remove (slow: for the stress
# run); the generated tables go through dmsetup's own parsing this way
table_fuzz_dmsetup() {
	local count=$1 lo v cls exp table name i=0 ok=0 bad=0 len bs
	need_dmfuzz
	make_brd 16
	lo=$(make_loop 8 4096)
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/blk"
	"$DMFUZZ" gen-tables --seed "$SEED" --count "$count" \
		--dev "$(fuzz_dev /dev/ram0)" --dev "$(fuzz_dev "$lo")" >"$BATS_TEST_TMPDIR/tables"
	while IFS=$'\t' read -r v cls exp table; do
		[ "$v" = V ] || [ "$v" = I ] || continue
		i=$((i + 1))
		name=ds$i
		if dmsetup create "$name" --table "$table" 2>"$BATS_TEST_TMPDIR/err"; then
			if [ "$v" = I ]; then
				echo "line $i ($cls): invalid table accepted by dmsetup create: $table" >&2
				return 1
			fi
			dmsetup mknodes "$name"
			read -r _ len _ <<<"$table"
			bs=4096
			[ "$len" -ge 8 ] || bs=512 # a one-sector device (512-byte blocks only)
			dd if="$BATS_TEST_TMPDIR/blk" of="/dev/mapper/$name" bs="$bs" count=1 oflag=direct conv=notrunc status=none
			cmp <(dd if="/dev/mapper/$name" bs="$bs" count=1 iflag=direct status=none) <(head -c "$bs" "$BATS_TEST_TMPDIR/blk")
			dmsetup remove "$name"
			ok=$((ok + 1))
		else
			if [ "$v" = V ]; then
				echo "line $i ($cls, $exp): valid table refused: $(cat "$BATS_TEST_TMPDIR/err"): $table" >&2
				return 1
			fi
			bad=$((bad + 1))
		fi
		if dmsetup info "$name" >/dev/null 2>&1; then
			echo "line $i: $name left behind" >&2
			return 1
		fi
	done <"$BATS_TEST_TMPDIR/tables"
	[ "$i" -eq "$count" ]
	[ -z "$(dm_names)" ]
	figure "dmsetup create: $i tables, $ok valid ones created, written, read back and removed, $bad invalid ones refused"
}

# ---- message fuzzing -------------------------------------------------------------

# message_fuzz COUNT SPREAD_MS: COUNT generated messages, one every SPREAD_MS,
# to the layers of a 3-deep stack (pool_size 1/2/4, split 8/16/64) while
# fio writes and verifies through its top, 100 at a time with the kernel
# log checked after each hundred (refusals are logged, some 1 KiB long: the
# ring buffer would overflow); then the data and the counters
message_fuzz() {
	local count=$1 spread=$2 n stop=$BATS_TEST_TMPDIR/stop fio_pid runs bytes out=$BATS_TEST_TMPDIR/msg.out f
	local tried=0 valid=0 invalid=0 reaching=0 counts=0 always=0 resets=0 t v iv r c a rs
	need_dmfuzz
	make_brd 64
	make_stack mf /dev/ram0 1:8 2:16 4:64
	n=$(sectors /dev/mapper/mf3)
	"$DMFUZZ" gen-messages --seed "$SEED" --count "$count" --sectors "$n" --devs 3 >"$BATS_TEST_TMPDIR/msgs"
	[ "$(grep -c '^[VI]	' "$BATS_TEST_TMPDIR/msgs")" -eq "$count" ]
	head -n 1 "$BATS_TEST_TMPDIR/msgs" >&2
	tail -n +2 "$BATS_TEST_TMPDIR/msgs" | split -l 100 - "$BATS_TEST_TMPDIR/mchunk."

	fio_loop /dev/mapper/mf3 0 "${REL_FIO}M" "$stop" "$BATS_TEST_TMPDIR/fio" 3>&- &
	fio_pid=$!
	for f in "$BATS_TEST_TMPDIR"/mchunk.*; do
		kmsg_mark
		if ! "$DMFUZZ" run-messages --spread-ms "$spread" mf1 mf2 mf3 <"$f" >"$out" 2>"$out.err" ||
			! kmsg_mark_seen || ! assert_kernel_log_clean; then
			cat "$out" "$out.err" >&2
			return 1 # (teardown stops fio)
		fi
		read -r t v iv r c a rs < <(sed -n 's/.* tried=\([0-9]*\) valid=\([0-9]*\) invalid=\([0-9]*\) invalid_reaching_target=\([0-9]*\) fail_alloc_count=\([0-9]*\) fail_alloc_always=\([0-9]*\) reset_stats=\([0-9]*\) .*/\1 \2 \3 \4 \5 \6 \7/p' "$out")
		tried=$((tried + t)) valid=$((valid + v)) invalid=$((invalid + iv)) reaching=$((reaching + r))
		counts=$((counts + c)) always=$((always + a)) resets=$((resets + rs))
		# each message that reached the target and was refused said why
		if [ "$(kernel_log_since_mark | grep -c 'device-mapper: biopool: ')" -lt "$r" ]; then
			echo "$r messages refused by the target, fewer reasons in the kernel log" >&2
			return 1
		fi
	done
	touch "$stop"
	bp_fail_alloc 0 mf1 mf2 mf3
	wait_pids fio="$fio_pid"
	[ "$tried" -eq "$count" ]
	read -r runs bytes <"$BATS_TEST_TMPDIR/fio"
	assert_bp_idle -r mf1 mf2 mf3
	[ "$(sha_dev /dev/mapper/mf3 "$REL_FIO")" = "$(sha_dev /dev/ram0 "$REL_FIO")" ]
	dmsetup remove mf3 mf2 mf1
	figure "messages tried=$tried valid=$valid (fail_alloc N: $counts, fail_alloc always: $always, reset_stats: $resets) invalid=$invalid ($reaching refused by the target with a reason logged, the rest by dm core), each checked against the status before and after; meanwhile fio wrote and verified $runs x $REL_FIO MiB ($bytes bytes) with no error"
}

# ---- concurrency -----------------------------------------------------------------

# conc_opts: random valid optional parameters (no unsafe_alloc_order)
conc_opts() {
	local o=()
	((RANDOM % 2)) && o+=("pool_size:$((RANDOM % 8 + 1))")
	((RANDOM % 2)) && o+=("split_sectors:$((8 << RANDOM % 5))")
	if [ ${#o[@]} -gt 0 ]; then echo "${#o[@]} ${o[*]}"; fi
}

# create/remove on ram2 with a write and read back each time, a read-only
# biopool stacked on a device under fio, and the refusals that must happen:
# remove of an open device, rmmod with devices
conc_create_remove() {
	local end=$1 out=$2 i=0 refusals=0 name fd data=$BATS_TEST_TMPDIR/cr.data n k
	# (each loop below runs at least once, however late it starts)
	head -c 64k /dev/urandom >"$data"
	n=$(sectors /dev/ram2)
	while :; do
		name=cr$((i % 4))
		dm_create "$name" "0 $n biopool /dev/ram2 0 $(conc_opts)" || { echo "create $name" >&2; return 1; }
		k=$((RANDOM % 256))
		dd if="$data" of="/dev/mapper/$name" bs=64k seek="$k" count=1 oflag=direct conv=notrunc status=none || return 1
		dd if="/dev/mapper/$name" bs=64k skip="$k" count=1 iflag=direct status=none | cmp -s - "$data" ||
			{ echo "create_remove: $name block $k read back differs" >&2; return 1; }
		exec {fd}<"/dev/mapper/$name"
		if dmsetup remove "$name" 2>/dev/null; then echo "remove of open $name succeeded" >&2; return 1; fi
		if rmmod dm_biopool 2>/dev/null; then echo "rmmod with devices succeeded" >&2; return 1; fi
		refusals=$((refusals + 2))
		exec {fd}<&-
		dmsetup remove "$name" || { echo "remove $name" >&2; return 1; }
		# read-only, over the "other" device that fio is writing
		dmsetup create --readonly ro$((i % 2)) --table "0 $(sectors /dev/mapper/og) biopool /dev/mapper/og 0 $(conc_opts)" ||
			{ echo "create read-only over og" >&2; return 1; }
		dmsetup mknodes ro$((i % 2))
		dd if=/dev/mapper/ro$((i % 2)) of=/dev/null bs=64k count=4 iflag=direct status=none || return 1
		dmsetup remove ro$((i % 2)) || return 1
		i=$((i + 1))
		echo "$i $refusals" >"$out"
		[ "$(date +%s%N)" -lt "$end" ] || break
	done
}

conc_suspend_resume() {
	local end=$1 out=$2 i=0 d flag
	while :; do
		d=cf$((i % 2 + 1))
		flag=
		((RANDOM % 3 == 0)) && flag=--noflush
		dmsetup suspend $flag "$d" || { echo "suspend $flag $d" >&2; return 1; }
		dmsetup resume "$d" || { echo "resume $d" >&2; return 1; }
		i=$((i + 1))
		echo "$i" >"$out"
		[ "$(date +%s%N)" -lt "$end" ] || break
	done
}

# reload rl with random parameters; the printed table must follow
conc_reload() {
	local end=$1 out=$2 i=0 n mm p s want got
	n=$(sectors /dev/ram3)
	mm=$(majmin /dev/ram3)
	while :; do
		p=$((RANDOM % 4 + 1)) s=$((8 << RANDOM % 4))
		dmsetup load rl --table "0 $n biopool /dev/ram3 0 2 split_sectors:$s pool_size:$p" || { echo "load rl" >&2; return 1; }
		dmsetup resume rl || { echo "resume rl" >&2; return 1; }
		want="0 $n biopool $mm 0 2 pool_size:$p split_sectors:$s"
		got=$(dmsetup table rl)
		[ "$got" = "$want" ] || { echo "rl table '$got', want '$want'" >&2; return 1; }
		i=$((i + 1))
		echo "$i" >"$out"
		[ "$(date +%s%N)" -lt "$end" ] || break
	done
}

# rewrite 1 MiB slots of rl with the reference data and read them back
conc_rl_writer() {
	local end=$1 out=$2 i=0 k data=$BATS_TEST_TMPDIR/rl.data
	while :; do
		k=$((RANDOM % 4))
		dd if="$data" of=/dev/mapper/rl bs=1M skip="$k" seek="$k" count=1 oflag=direct conv=notrunc status=none ||
			{ echo "rl write slot $k" >&2; return 1; }
		cmp -s <(dd if=/dev/mapper/rl bs=1M skip="$k" count=1 iflag=direct status=none) \
			<(dd if="$data" bs=1M skip="$k" count=1 status=none) ||
			{ echo "rl slot $k read back differs" >&2; return 1; }
		i=$((i + 1))
		echo "$i" >"$out"
		[ "$(date +%s%N)" -lt "$end" ] || break
	done
}

conc_messages() {
	local end=$1 out=$2 i=0 d m devs=(cf1 cf2 og)
	while :; do
		d=${devs[RANDOM % 3]}
		case $((RANDOM % 4)) in
		0) m="fail_alloc always" ;;
		1) m="fail_alloc 0" ;;
		2) m="fail_alloc $((RANDOM % 500))" ;;
		3) m=reset_stats ;;
		esac
		# shellcheck disable=SC2086 # the message's words
		dmsetup message "$d" 0 $m || { echo "message $d '$m'" >&2; return 1; }
		i=$((i + 1))
		echo "$i" >"$out"
		[ "$(date +%s%N)" -lt "$end" ] || break
	done
}

# status, table and info of the stable devices; status must stay sane
conc_status() {
	local end=$1 out=$2 i=0 line
	while :; do
		dmsetup status cf1 cf2 og rl >"$out.s" || { echo "status" >&2; return 1; }
		while read -r line; do
			[[ $line =~ in_flight=([0-9]+).*errors=([0-9]+)\ pool_size=([0-9]+)\ pool_free=([0-9]+) ]] ||
				{ echo "bad status: $line" >&2; return 1; }
			if [ "${BASH_REMATCH[2]}" != 0 ] || [ "${BASH_REMATCH[4]}" -gt "${BASH_REMATCH[3]}" ]; then
				echo "bad status: $line" >&2
				return 1
			fi
		done <"$out.s"
		dmsetup table cf1 cf2 og rl >/dev/null || { echo "table" >&2; return 1; }
		dmsetup info -c cf1 cf2 og rl >/dev/null || { echo "info" >&2; return 1; }
		i=$((i + 1))
		echo "$i" >"$out"
		[ "$(date +%s%N)" -lt "$end" ] || break
	done
}

# concurrency SECONDS: the loops above and two fio loops for SECONDS, each
# waited for by pid; then data, counters, holders and the kernel log
concurrency() {
	local secs=$1 end stop=$BATS_TEST_TMPDIR/stop pids=() l
	make_brd 32 4
	make_stack cf /dev/ram0 2:16 1:64
	dm_create og "$(biopool_table /dev/ram1 pool_size:4 split_sectors:8)"
	dm_create rl "$(biopool_table /dev/ram3 split_sectors:8)"
	random_file "$BATS_TEST_TMPDIR/rl.data" 4
	write_direct "$BATS_TEST_TMPDIR/rl.data" /dev/mapper/rl 1M
	prefill /dev/ram2
	phase setup

	end=$(($(date +%s%N) + secs * 1000000000))
	fio_loop /dev/mapper/cf2 0 "${REL_FIO}M" "$stop" "$BATS_TEST_TMPDIR/fio.cf" 3>&- &
	pids+=(fio_cf2=$!)
	fio_loop /dev/mapper/og 0 "${REL_FIO}M" "$stop" "$BATS_TEST_TMPDIR/fio.og" 3>&- &
	pids+=(fio_og=$!)
	for l in create_remove suspend_resume reload rl_writer messages status; do
		# shellcheck disable=SC2030 # each loop its own sequence
		(RANDOM=$((SEED + ${#pids[@]})) && "conc_$l" "$end" "$BATS_TEST_TMPDIR/n.$l") 3>&- &
		pids+=("$l=$!")
	done
	# the control loops end at the deadline, the fio loops after the run
	# in progress then
	wait_pids "${pids[@]:2}" # (when one failed, teardown stops the fio loops)
	phase "control loops done"
	touch "$stop"
	wait_pids "${pids[@]:0:2}"
	phase "fio loops done"

	bp_fail_alloc 0 cf1 cf2 og rl
	assert_bp_idle -r cf1 cf2 og rl
	[ "$(sha_dev /dev/mapper/cf2 "$REL_FIO")" = "$(sha_dev /dev/ram0 "$REL_FIO")" ]
	[ "$(sha_dev /dev/mapper/og "$REL_FIO")" = "$(sha_dev /dev/ram1 "$REL_FIO")" ]
	assert_holds "$(sha_file "$BATS_TEST_TMPDIR/rl.data")" 4 /dev/mapper/rl /dev/ram3
	[ -z "$(ls /sys/block/ram2/holders)" ]
	[ "$(dmsetup ls | awk '{ print $1 }' | sort | tr '\n' ' ')" = "cf1 cf2 og rl " ]
	phase checks
	dmsetup remove cf2 cf1 og rl
	for l in create_remove suspend_resume reload rl_writer messages status; do
		[ -s "$BATS_TEST_TMPDIR/n.$l" ] || { echo "loop $l never completed an iteration" >&2; return 1; }
	done
	figure "${secs}s: create/remove+write+read $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/n.create_remove") (expected refusals $(cut -d' ' -f2 "$BATS_TEST_TMPDIR/n.create_remove")), suspend/resume $(cat "$BATS_TEST_TMPDIR/n.suspend_resume"), reload $(cat "$BATS_TEST_TMPDIR/n.reload"), 1 MiB rewrite+verify $(cat "$BATS_TEST_TMPDIR/n.rl_writer"), messages $(cat "$BATS_TEST_TMPDIR/n.messages"), status rounds $(cat "$BATS_TEST_TMPDIR/n.status"); fio verify runs: $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/fio.cf") on the suspended stack, $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/fio.og") on the other device ($(($(cut -d' ' -f2 "$BATS_TEST_TMPDIR/fio.cf") + $(cut -d' ' -f2 "$BATS_TEST_TMPDIR/fio.og"))) bytes verified)"
}

# ---- faults under load -------------------------------------------------------------

# fault_toggle SECONDS: while fio writes and verifies through the top of a
# 3-deep stack (pool_size 1, split 8/16/64): first fail_alloc always on
# each layer in turn until that layer is seen failing slab allocations,
# then for SECONDS fail_alloc set on one layer after the other to always,
# 0 or a random count; fio must verify every run and the data match below
fault_toggle() {
	local secs=$1 stop=$BATS_TEST_TMPDIR/stop fio_pid tog_pid d runs bytes
	make_brd 32
	make_stack fa /dev/ram0 1:8 1:16 1:64
	fio_loop /dev/mapper/fa3 0 "${REL_FIO}M" "$stop" "$BATS_TEST_TMPDIR/fio" 3>&- &
	fio_pid=$!
	for d in fa1 fa2 fa3; do
		dmsetup message "$d" 0 fail_alloc always
		wait_until 60 bp_stat_ge "$d" alloc_failed 1 # (when not, teardown stops fio)
		dmsetup message "$d" 0 fail_alloc 0
	done
	phase "each layer failed allocations"
	# shellcheck disable=SC2031 # the RANDOM of this file's test
	(
		end=$(($(date +%s%N) + secs * 1000000000)) n=3 layers=(fa1 fa2 fa3)
		while [ "$(date +%s%N)" -lt "$end" ]; do
			case $((RANDOM % 5)) in
			0 | 1) m=always ;;
			2) m=0 ;;
			*) m=$((RANDOM % 2000 + 1)) ;;
			esac
			dmsetup message "${layers[n % 3]}" 0 fail_alloc "$m" || exit 1
			n=$((n + 1))
			echo "$n" >"$BATS_TEST_TMPDIR/toggles"
			sleep 0.0$((RANDOM % 10)) # pacing, not synchronisation
		done
	) 3>&- &
	tog_pid=$!
	wait_pids toggler="$tog_pid"
	bp_fail_alloc 0 fa1 fa2 fa3
	touch "$stop"
	wait_pids fio="$fio_pid"
	phase "fio done"
	assert_bp_idle fa1 fa2 fa3
	[ "$(sha_dev /dev/mapper/fa3 "$REL_FIO")" = "$(sha_dev /dev/ram0 "$REL_FIO")" ]
	read -r runs bytes <"$BATS_TEST_TMPDIR/fio"
	figure "$(cat "$BATS_TEST_TMPDIR/toggles") fail_alloc messages (3 always until seen failing, then random toggles for ${secs}s); $(bp_fields fa1 alloc_failed splits); $(bp_fields fa2 alloc_failed splits); $(bp_fields fa3 alloc_failed splits) (alloc_failed: injected slab failures); fio verify runs $runs ($bytes bytes), no error"
	dmsetup remove fa3 fa2 fa1
}

# swap_lower TABLE: replace the table of "lw", the device under the stack
swap_lower() {
	dmsetup load lw --table "$1"
	dmsetup suspend lw
	dmsetup resume lw
}

# writer_until_error SLOT: rewrite 1 MiB at 256 KiB slot SLOT of e2 again
# and again; end 0 on the first I/O error, 2 if none came within 120 s.
# Writes a count of completed rewrites to $BATS_TEST_TMPDIR/w.SLOT.
writer_until_error() {
	local n=0 end=$(($(date +%s) + 120))
	echo 0 >"$BATS_TEST_TMPDIR/w.$1"
	while [ "$(date +%s)" -lt "$end" ]; do
		if ! dd if="$BATS_TEST_TMPDIR/d1" of=/dev/mapper/e2 bs=256k skip="$1" seek="$1" count=4 \
			oflag=direct conv=notrunc status=none 2>"$BATS_TEST_TMPDIR/w.$1.err"; then
			grep -q 'Input/output error' "$BATS_TEST_TMPDIR/w.$1.err"
			return
		fi
		n=$((n + 1))
		echo "$n" >"$BATS_TEST_TMPDIR/w.$1"
	done
	return 2
}

writers_started() {
	local f
	for f in "$BATS_TEST_TMPDIR"/w.{16,20,24,28}; do [ "$(cat "$f" 2>/dev/null)" -gt 0 ] || return 1; done
}

# fault_lower_swap [flakey]: the device under a 2-deep stack (e1 pool 1
# split 8, e2 pool 2 split 64) swapped to dm-error under four writers, and
# with "flakey" then to dm-flakey failing writes, while fio verifies another
# biopool device: errors reach the callers, nothing hangs, the pools come
# back whole, the data written before stays intact and the other device
# never notices
fault_lower_swap() {
	local n stop=$BATS_TEST_TMPDIR/stop fio_pid pids=() i rewrites=0 eios=0 runs bytes sha4 sha8
	make_brd 16 2
	n=$(sectors /dev/ram0)
	dm_create lw "0 $n linear /dev/ram0 0"
	make_stack e /dev/mapper/lw 1:8 2:64
	dm_create og "$(biopool_table /dev/ram1 pool_size:2 split_sectors:16)"
	random_file "$BATS_TEST_TMPDIR/d1" 8
	sha4=$(sha_file "$BATS_TEST_TMPDIR/d1" 4)
	sha8=$(sha_file "$BATS_TEST_TMPDIR/d1")
	write_direct "$BATS_TEST_TMPDIR/d1" /dev/mapper/e2 1M 0 4M
	[ "$(sha_dev /dev/mapper/e2 4)" = "$sha4" ]
	fio_loop /dev/mapper/og 0 "${REL_FIO}M" "$stop" "$BATS_TEST_TMPDIR/fio" 3>&- &
	fio_pid=$!
	phase setup

	# window 1: dm-error, swapped in under four writers rewriting [4M, 8M)
	# until they get an error: each must get one, none may hang
	for i in 16 20 24 28; do
		writer_until_error "$i" 3>&- &
		pids+=("writer$i=$!")
	done
	wait_until 60 writers_started
	phase "writers started"
	swap_lower "0 $n error"
	wait_pids "${pids[@]}"
	phase "writers got EIO"
	for i in 16 20 24 28; do rewrites=$((rewrites + $(cat "$BATS_TEST_TMPDIR/w.$i"))); done
	eios=4
	run timeout 60 dd if=/dev/mapper/e2 of=/dev/null bs=64k count=16 iflag=direct
	assert_eio "$status" "$output"
	run timeout 60 dd if="$BATS_TEST_TMPDIR/d1" of=/dev/mapper/e2 bs=1M count=2 seek=4 skip=4 oflag=direct conv=notrunc
	assert_eio "$status" "$output"
	# again with every slab allocation failing: errors travel up through
	# exhausted pools
	bp_fail_alloc always e1 e2
	run timeout 60 dd if="$BATS_TEST_TMPDIR/d1" of=/dev/mapper/e2 bs=1M count=2 seek=4 skip=4 oflag=direct conv=notrunc
	assert_eio "$status" "$output"
	bp_fail_alloc 0 e1 e2
	eios=$((eios + 3))
	wait_until 20 bp_idle e1
	[ "${BP[errors]}" -gt 0 ]
	wait_until 20 bp_idle e2
	[ "${BP[errors]}" -gt 0 ]
	phase "window 1 checked"
	swap_lower "0 $n linear /dev/ram0 0"
	[ "$(sha_dev /dev/mapper/e2 4)" = "$sha4" ]
	write_direct "$BATS_TEST_TMPDIR/d1" /dev/mapper/e2 1M 4M 4M
	[ "$(sha_dev /dev/mapper/e2 8)" = "$sha8" ]

	# window 2: dm-flakey, always down, failing writes only; reads pass
	if [ "${1:-}" = flakey ]; then
		swap_lower "0 $n flakey /dev/ram0 0 0 3600 1 error_writes"
		[ "$(sha_dev /dev/mapper/e2 8)" = "$sha8" ]
		run timeout 60 dd if=/dev/urandom of=/dev/mapper/e2 bs=64k count=4 oflag=direct conv=notrunc
		assert_eio "$status" "$output"
		run timeout 60 dd if=/dev/urandom of=/dev/mapper/e2 bs=1M count=2 seek=2 oflag=direct conv=notrunc
		assert_eio "$status" "$output"
		eios=$((eios + 2))
		swap_lower "0 $n linear /dev/ram0 0"
		[ "$(sha_dev /dev/mapper/e2 8)" = "$sha8" ]
	fi
	[ "$(sha_dev /dev/ram0 8)" = "$sha8" ]
	phase "window 2 checked"

	touch "$stop"
	wait_pids fio="$fio_pid"
	phase "fio done"
	wait_until 20 bp_idle e1
	wait_until 20 bp_idle e2
	assert_bp_idle og
	read -r runs bytes <"$BATS_TEST_TMPDIR/fio"
	figure "dm-error${1:+ and dm-flakey} windows: $eios commands got EIO as they must, 4 of them writers caught in flight by the swap (after $rewrites good 1 MiB rewrites); errors counted $(bp_fields e1 errors), $(bp_fields e2 errors); data written before and after intact; the other device: $runs fio verify runs ($bytes bytes), no error"
	dmsetup remove e2 e1 lw og
}

# fault_delay_exhausted KIB DELAY_MS: a 2-deep stack (pool_size 1, split 64
# then 256) over dm-delay with fail_alloc always on both: one clone in
# flight at most on the lower layer, so 4 writers of 64 KiB O_DIRECT blocks,
# KIB in all, take at least clones x DELAY_MS; they complete and verify
fault_delay_exhausted() {
	local kib=$1 delay=$2 n t0 t1 clones maxin pids=() i q sampler_pid
	make_brd 16
	n=$(sectors /dev/ram0)
	dm_create dl "0 $n delay /dev/ram0 0 $delay"
	make_stack d /dev/mapper/dl 1:64 1:256
	bp_fail_alloc always d1 d2
	head -c "${kib}K" /dev/urandom >"$BATS_TEST_TMPDIR/data"
	echo 0 >"$BATS_TEST_TMPDIR/maxin"
	(
		max=0
		while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
			bp_read d1
			[ "${BP[in_flight]}" -gt "$max" ] && max=${BP[in_flight]}
			echo "$max" >"$BATS_TEST_TMPDIR/maxin"
		done
	) 3>&- &
	sampler_pid=$!
	t0=$(now_ms)
	q=$((kib / 4 / 64)) # 64 KiB blocks per writer (whole blocks: dd drops O_DIRECT for a partial one)
	for i in 0 1 2 3; do
		timeout 300 dd if="$BATS_TEST_TMPDIR/data" of=/dev/mapper/d2 bs=64k skip=$((i * q)) seek=$((i * q)) count="$q" \
			oflag=direct conv=notrunc status=none 3>&- &
		pids+=("w$i=$!")
	done
	wait_pids "${pids[@]}"
	t1=$(now_ms)
	touch "$BATS_TEST_TMPDIR/stop"
	wait_pids sampler="$sampler_pid"
	maxin=$(cat "$BATS_TEST_TMPDIR/maxin")
	bp_read d1
	clones=${BP[clones]}
	[ "$maxin" -le 1 ] || { echo "d1 had $maxin clones in flight with a one-element pool" >&2; return 1; }
	[ "$clones" -ge $((kib / 32)) ]
	# the clones waited their DELAY_MS below one after the other
	[ $((t1 - t0)) -ge $((clones * delay * 9 / 10)) ] ||
		{ echo "$clones clones in $((t1 - t0)) ms: they did not wait for the one element" >&2; return 1; }
	bp_fail_alloc 0 d1 d2
	cmp <(dd if=/dev/mapper/d2 bs=64k count=$((kib / 64)) iflag=direct status=none) "$BATS_TEST_TMPDIR/data"
	cmp <(dd if=/dev/ram0 bs=64k count=$((kib / 64)) iflag=direct status=none) "$BATS_TEST_TMPDIR/data"
	assert_bp_idle d1 d2
	figure "$kib KiB by 4 writers over dm-delay $delay ms, both pools exhausted: $clones clones on d1, at most $maxin in flight, $((t1 - t0)) ms (>= clones x $delay ms); slab failures $(bp_fields d1 alloc_failed), $(bp_fields d2 alloc_failed); data intact"
	dmsetup remove d2 d1 dl
}

# ---- memory pressure -------------------------------------------------------------

# mp_fio NAME DIRECT OFFSET SIZE RW [FIO-OPTION...]: a writing fio job on
# mp2 with crc32c verification; again with --verify_only=1, it regenerates
# the same data and only reads and checks it
mp_fio() {
	local name=$1 direct=$2 off=$3 size=$4 rw=$5
	shift 5
	fio_verify /dev/mapper/mp2 "$off" "$size" "$BATS_TEST_TMPDIR/fio.$name.log" --direct="$direct" \
		--rw="$rw" --randseed="$SEED" --ioengine=psync --iodepth=1 --bssplit=4k/30:64k/40:1m/30 \
		--end_fsync=1 "$@"
}

# memory_pressure MARGIN_MIB SIZE_MIB: a 2-deep stack with small pools
# (pool_size 1 split 64, pool_size 2 split 128) and no injection over a RAM
# disk of SIZE_MIB; hogs eat anonymous memory until MemFree is within
# MARGIN_MIB of the low watermark or the OOM killer has struck once (no swap:
# only page cache is left to reclaim); then a quarter of the disk written
# O_DIRECT by fio and the rest written through the page cache (more than the
# memory left: its dirty pages must be written back through the stack and
# reclaimed as it goes), both verified inline, and again from the device
# after the cache is dropped; the kernel must have scanned pages meanwhile
memory_pressure() {
	local margin=$1 size=$2 free low step scan0 scan1 stall0 stall1 pids=() oom0 ooms hogs=0 q
	protect_ancestors
	# biostat first: loading its programs takes memory the RAM disk would hold
	if command -v biostat >/dev/null; then
		biostat_start mp -j 1
		biostat_started mp
	fi
	if [ "$size" = auto ]; then
		# what is available but 32 MiB, in 16 MiB steps, 32..128 MiB
		size=$(awk '/^MemAvailable:/ { m = int(($2 / 1024 - 32) / 16) * 16; print (m > 128 ? 128 : m) }' /proc/meminfo)
		[ "$size" -ge 32 ] || { echo "too little memory for the test: $(grep MemAvailable /proc/meminfo)" >&2; return 1; }
	fi
	q=$((size / 4))
	make_brd "$size"
	prefill /dev/ram0
	make_stack mp /dev/ram0 1:64 2:128
	low=$(low_wmark_mib)
	free=$(mem_free_mib)
	oom0=$(vmstat_sum '^oom_kill$')
	while [ "$free" -gt $((low + margin)) ] && [ "$(vmstat_sum '^oom_kill$')" = "$oom0" ] && [ "$hogs" -lt 200 ]; do
		step=$((free - low - margin))
		# 32 MiB bites, then 4 MiB ones: an OOM kill gives back little
		if [ "$step" -gt 64 ]; then
			step=32
		elif [ "$step" -gt 4 ]; then
			step=4
		fi
		hog_start "$step"
		hogs=$((hogs + 1))
		free=$(mem_free_mib)
	done
	scan0=$(vmstat_sum '^pgscan_(kswapd|direct)$') stall0=$(vmstat_sum '^allocstall')
	echo "$hogs hogs: MemFree=$free MiB, low watermark $low MiB, OOM kills $(($(vmstat_sum '^oom_kill$') - oom0)); $(grep -E '^(MemAvailable|Cached|Shmem):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')" >&2
	[ $((3 * q)) -gt "$free" ] || { echo "the buffered part ($((3 * q)) MiB) fits in free memory ($free MiB)" >&2; return 1; }
	phase "memory eaten"

	mp_fio direct 1 0 "${q}M" randwrite 3>&- &
	pids+=(direct=$!)
	mp_fio buffered 0 "${q}M" "$((3 * q))M" write 3>&- &
	pids+=(buffered=$!)
	wait_pids "${pids[@]}"
	phase "written"
	echo 3 >/proc/sys/vm/drop_caches
	# read back from the device, through the page cache for the buffered part
	mp_fio direct 1 0 "${q}M" randwrite --verify_only=1
	mp_fio buffered 0 "${q}M" "$((3 * q))M" write --verify_only=1
	scan1=$(vmstat_sum '^pgscan_(kswapd|direct)$') stall1=$(vmstat_sum '^allocstall')
	free=$(mem_free_mib)
	phase "verified"
	hog_stop
	ooms=$(($(vmstat_sum '^oom_kill$') - oom0))
	local bsview="biostat not built"
	if [ -n "${BIOSTAT_PID[mp]:-}" ]; then
		biostat_stop mp
		# its view of the same pools: reserve elements used, waits
		bsview="biostat: $(biostat_summary mp | jq -r '[.sets[] | select(.name | test("^mp[12]:biopool$")) | "\(.name) reserve=\(.reserve) waits=\(.waits)"] | join(", ")')"
		# a reserve element is only taken after a slab allocation failed
		local d r f
		for d in mp1 mp2; do
			r=$(biostat_set_field mp "$d" reserve)
			f=$(bp_stat "$d" alloc_failed)
			[ "$r" -le "$f" ] || { echo "$d: biostat counts $r reserve allocations, the target only $f slab failures" >&2; return 1; }
		done
	fi
	assert_bp_idle mp1 mp2
	[ "$(sha_dev /dev/mapper/mp2 "$size")" = "$(sha_dev /dev/ram0 "$size")" ]
	[ $((scan1 - scan0)) -gt 0 ] || { echo "no page was scanned for reclaim: no pressure" >&2; return 1; }
	figure "$hogs hogs took MemFree to within $margin MiB of the low watermark ($low MiB) or to the first OOM kill; $((3 * q)) MiB buffered + $q MiB O_DIRECT written and verified twice ($((2 * size)) MiB read back), $free MiB free at the end: reclaim scanned $((scan1 - scan0)) pages, $((stall1 - stall0)) direct-reclaim stalls, $ooms OOM kills (hogs only); slab allocations that failed for real: $(bp_fields mp1 alloc_failed), $(bp_fields mp2 alloc_failed) (the reserve was used when > 0); $bsview"
	dmsetup remove mp2 mp1
}

# ---- biostat robustness -----------------------------------------------------------

# biostat_robustness ROUNDS MIB: biostat in table (-a -j 0.5), events (-e -j),
# check and plain table modes at once while, ROUNDS times, a biopool device
# is created under a new name, driven into its reserve, removed, and every
# other round the module is unloaded and loaded again; then MIB MiB through
# an exhausted 3-deep stack at full rate.  Each biostat keeps running, names
# each new device, drops the vanished ones, exits 0 on SIGINT, and no BPF
# program or map is left afterwards.
biostat_robustness() {
	local rounds=$1 mib=$2 base r name n reloads=0 events
	command -v biostat >/dev/null || { echo "biostat is not built (make biostat)" >&2; return 1; }
	base=$(bpf_objects)
	make_brd $((mib > 32 ? mib : 32)) # the stack at full rate writes MIB
	n=$(sectors /dev/ram0)
	biostat_start table -a -j 0.5
	biostat_start events -e -j
	biostat_start check check
	biostat_start plain 1
	biostat_started table events check plain
	phase "biostat started"
	for r in $(seq "$rounds"); do
		name=rb$r
		dm_create "$name" "0 $n biopool /dev/ram0 0 2 pool_size:1 split_sectors:8"
		bp_fail_alloc always "$name"
		dd if=/dev/urandom of="/dev/mapper/$name" bs=64k count=16 oflag=direct status=none
		wait_until 30 biostat_names table "$name" || { echo "round $r: $name not named; last interval: $(biostat_last_interval table | tr '\n' ' ')" >&2; return 1; }
		wait_until 30 biostat_event_for events "$name" || { echo "round $r: no event named $name:biopool" >&2; return 1; }
		dmsetup remove "$name"
		wait_until 30 biostat_dropped table "$name" || { echo "round $r: $name still listed after its removal: $(biostat_last_interval table | tr '\n' ' ')" >&2; return 1; }
		if [ $((r % 2)) = 0 ]; then
			rmmod dm_biopool || { echo "rmmod dm_biopool failed while biostat runs" >&2; return 1; }
			modprobe dm-biopool
			reloads=$((reloads + 1))
		fi
		biostat_alive
		phase "round $r"
	done
	# the exhausted stack at full rate
	make_stack bs /dev/ram0 1:8 1:16 1:64
	bp_fail_alloc always bs1 bs2 bs3
	random_file "$BATS_TEST_TMPDIR/data" "$mib"
	parallel_write "$BATS_TEST_TMPDIR/data" /dev/mapper/bs3 "$mib"
	[ "$(sha_dev /dev/mapper/bs3 "$mib")" = "$(sha_file "$BATS_TEST_TMPDIR/data")" ]
	for name in bs1 bs2 bs3; do wait_until 30 biostat_names table "$name"; done
	biostat_alive
	phase "full rate done"
	biostat_stop_all
	tail -n 1 "$(biostat_out table)" | jq -e '.type == "summary"' >/dev/null
	grep -q '^Summary: ' "$(biostat_out plain)"
	events=$(grep -c '"type":"event"' "$(biostat_out events)" || true)
	wait_until 20 bpf_objects_are "$base" || { echo "BPF programs and maps left: $(bpf_objects), before: $base" >&2; bpftool prog show >&2; return 1; }
	bp_fail_alloc 0 bs3 bs2 bs1
	dmsetup remove bs3 bs2 bs1
	figure "$rounds devices created, named, driven into their reserve and removed under 4 biostats (table, events, check, plain), $reloads module unloads and reloads, $mib MiB through an exhausted stack at full rate; $events events; all exited 0 on SIGINT and left no BPF program or map (before/after: $base)"
}

# ---- biostat as a long-running service -------------------------------------------

# soak_kib PID: the resident set of process PID in KiB
soak_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# soak_entries NAME: how many entries the BPF map NAME holds
soak_entries() { bpftool map dump name "$1" -j 2>/dev/null | jq length; }

# soak_prom_sets FILE REGEX: how many distinct sets of the --prom FILE have
# a name label matching REGEX
soak_prom_sets() {
	sed -n 's/^biostat_allocs_total{set="\([^"]*\)",name="\([^"]*\)".*/\2/p' "$1" |
		grep -Ec "$2" || true
}
soak_prom_sets_are() { [ "$(soak_prom_sets "$1" "$2")" = "$3" ]; }

# soak_batch FIRST COUNT: COUNT biopool devices sk<FIRST>.. created (one
# dmsetup create --concise), four 4 KiB direct writes each, and removed
# (one dmsetup remove)
soak_batch() {
	local first=$1 count=$2 i n spec='' names=()
	n=$(sectors /dev/ram0)
	for ((i = first; i < first + count; i++)); do
		spec+="${spec:+;}sk$i,,,,0 $n biopool /dev/ram0 0"
		names+=("sk$i")
	done
	dmsetup create --concise "$spec" || return
	dmsetup mknodes
	for i in "${names[@]}"; do
		dd if=/dev/zero of="/dev/mapper/$i" bs=4k count=4 oflag=direct status=none || return
	done
	dmsetup remove "${names[@]}"
}

# biostat_soak NDEV BATCH: biostat --prom (and -j) runs while NDEV biopool
# devices are created, written and removed, BATCH at a time (sets appear
# and go: several times the BPF side's 1024 set slots), beside one that
# lives throughout and is written between batches.  At the end: biostat's
# resident set and the entries of its "sets" map are where they were after
# the first quarter, the file names no removed set, and the live set's
# allocations are the target's own count of its clones (short by no more
# than the recursion misses biostat reports), with nothing uncounted for
# want of map room.
biostat_soak() {
	local ndev=$1 batch=$2 prom=$BATS_TEST_TMPDIR/soak.prom pid b c0 c1 \
		rss_q rss_end sets_q sets_end allocs misses full t0
	make_brd 4
	dm_create live "0 $(sectors /dev/ram0) biopool /dev/ram0 0"
	biostat_start soak -j --prom "$prom" 0.5
	biostat_started soak
	pid=${BIOSTAT_PID[soak]}
	c0=$(bp_stat live clones)
	t0=$(date +%s)
	for ((b = 0; b < ndev; b += batch)); do
		soak_batch "$b" "$batch" || { echo "batch at sk$b failed" >&2; return 1; }
		dd if=/dev/zero of=/dev/mapper/live bs=4k count=8 oflag=direct status=none
		biostat_alive || return 1
		if [ "$b" -lt $((ndev / 4)) ] && [ $((b + batch)) -ge $((ndev / 4)) ]; then
			# a quarter in: every removed set has left the file
			wait_until 30 soak_prom_sets_are "$prom" '^sk[0-9]+:' 0 ||
				{ echo "removed sets still in $prom: $(soak_prom_sets "$prom" '^sk[0-9]+:')" >&2; return 1; }
			rss_q=$(soak_kib "$pid")
			sets_q=$(soak_entries sets)
			phase "a quarter: $((b + batch)) devices, RSS $rss_q KiB, $sets_q sets"
		fi
	done
	wait_until 30 soak_prom_sets_are "$prom" '^sk[0-9]+:' 0 ||
		{ echo "removed sets still in $prom: $(soak_prom_sets "$prom" '^sk[0-9]+:')" >&2; return 1; }
	rss_end=$(soak_kib "$pid")
	sets_end=$(soak_entries sets)
	c1=$(bp_stat live clones)
	# the live set's count, once an interval after the last write is out
	wait_until 30 soak_live_is "$prom" $((c1 - c0)) || true
	allocs=$(soak_live_allocs "$prom")
	misses=$(sed -n 's/^biostat_uncounted_total{reason="recursion_misses"} //p' "$prom")
	full=$(sed -n 's/^biostat_uncounted_total{reason="set_map_full"} //p' "$prom")
	biostat_stop soak INT
	dmsetup remove live
	figure "$ndev devices created, written and removed in $(($(date +%s) - t0)) s under biostat --prom: RSS $rss_q KiB at a quarter, $rss_end KiB at the end; sets map $sets_q then $sets_end entries; live:biopool allocs $allocs, its clones $((c1 - c0)), recursion misses $misses, set_map_full $full"
	[ "$full" = 0 ] || { echo "set_map_full: $full (a removed set's slot was not given back)" >&2; return 1; }
	[ "$sets_end" -le $((sets_q + 2)) ] || { echo "sets map: $sets_end entries at the end, $sets_q at a quarter" >&2; return 1; }
	[ "$rss_end" -le $((rss_q + 256)) ] || { echo "RSS grew from $rss_q to $rss_end KiB over $((ndev * 3 / 4)) devices" >&2; return 1; }
	if [ "$allocs" -gt $((c1 - c0)) ] || [ $((c1 - c0 - allocs)) -gt "$misses" ]; then
		echo "live:biopool: biostat $allocs allocations, the target $((c1 - c0)) clones (recursion misses $misses)" >&2
		return 1
	fi
}

# soak_live_allocs FILE: biostat_allocs_total of live's own set in FILE
soak_live_allocs() {
	awk '/^biostat_allocs_total\{/ && index($0, "name=\"live:biopool\"") { v = $NF } END { print v + 0 }' "$1"
}
soak_live_is() { [ "$(soak_live_allocs "$1")" = "$2" ]; }

# ---- the memory check itself ------------------------------------------------------

# mem_check_trips FILES DEVICES: assert_mem_returned must fail when, after a
# snapshot, FILES empty files are left in a tmpfs (one dentry and one inode
# each: FILES objects in two caches, nothing a bound in kB would see), and
# again when DEVICES biopool devices are left; and pass once they are gone
mem_check_trips() {
	local files=$1 ndevs=$2 i dir=$BATS_TEST_TMPDIR/leak before=$BATS_TEST_TMPDIR/mem.before
	make_brd 16
	mkdir "$dir"
	mem_snapshot "$before"
	(cd "$dir" && seq "$files" | xargs touch)
	assert_mem_kept "$before" '^dentry: .* bound'
	figure "$files files left in a tmpfs: ${#MEM_KEPT[@]} bounds exceeded: ${MEM_KEPT[*]}"
	rm -r "$dir"
	for ((i = 0; i < ndevs; i++)); do dm_create "leak$i" "0 8 biopool /dev/ram0 0"; done
	assert_mem_kept "$before" '^bio-.* bound \+0$'
	figure "$ndevs biopool devices left: ${#MEM_KEPT[@]} bounds exceeded: ${MEM_KEPT[*]:0:4} ..."
	for ((i = 0; i < ndevs; i++)); do dmsetup remove "leak$i"; done
	assert_mem_returned "$before"
}
