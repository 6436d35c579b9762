#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# biostat on the host's own kernel, no guest: run as root with
#   bats tests/host
# BIOSTAT=/path/to/biostat overrides the binary (default build/biostat/biostat).
#
# Skips, with the reason, only where the host cannot run BPF at all.

bats_require_minimum_version 1.5.0
load ../lib/vocabulary
load ../lib/options

setup_file() {
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export BIOSTAT=${BIOSTAT:-$top/build/biostat/biostat}
}

setup() {
	[ -x "$BIOSTAT" ] || {
		echo "no biostat binary at $BIOSTAT: build it first (make -C tools/biostat)" >&2
		return 1
	}
	bspid=
}

teardown() {
	[ -z "${cgdir:-}" ] || rmdir "$cgdir" 2>/dev/null || true
	[ -z "${cgmount:-}" ] || umount "$cgmount" 2>/dev/null || true
	if [ -n "${nepid:-}" ]; then
		kill "$nepid" 2>/dev/null || true
		wait "$nepid" 2>/dev/null || true
	fi
	if [ -n "$bspid" ] && kill -0 "$bspid" 2>/dev/null; then
		kill -KILL "$bspid" 2>/dev/null || true
	fi
	rm -f "${iofile:-}"
}

need_bpf() {
	[ "$(id -u)" = 0 ] || skip "needs root to load BPF programs"
	[ -e /sys/kernel/btf/vmlinux ] || skip "host kernel has no BTF (/sys/kernel/btf/vmlinux)"
	[ -e /proc/sys/kernel/unprivileged_bpf_disabled ] ||
		skip "host kernel has no BPF syscall (CONFIG_BPF_SYSCALL)"
}

# A directory on a block-device-backed file system (dd needs real bios).
io_dir() {
	local d t
	for d in "$BATS_TEST_TMPDIR" /var/tmp /tmp "$HOME"; do
		if [ ! -d "$d" ] || [ ! -w "$d" ]; then continue; fi
		t=$(stat -f -c %T "$d" 2>/dev/null) || continue
		case $t in
		ext2/ext3 | ext4 | xfs | btrfs) echo "$d"; return 0 ;;
		esac
	done
	return 1
}

# Start biostat in the background; wait until it says it is tracing.
start_biostat() {
	# SIGHUP as a terminal session has it, whatever this shell inherited
	# (biostat keeps an ignored SIGHUP ignored, as nohup asks: a harness
	# that ignores it would make the SIGHUP test wait for ever)
	env --default-signal=HUP "$BIOSTAT" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	bspid=$!
	local _
	for _ in $(seq 300); do
		grep -q '^Tracing' "$BATS_TEST_TMPDIR/err" && return 0
		kill -0 "$bspid" 2>/dev/null || break
		sleep 0.1
	done
	echo "biostat did not start:" >&2
	cat "$BATS_TEST_TMPDIR/err" >&2
	return 1
}

# Wait (up to 30 s) until biostat has printed N (default 1) JSON intervals.
wait_intervals() {
	local _
	for _ in $(seq 300); do
		[ "$(grep -c '"type":"interval"' "$BATS_TEST_TMPDIR/out")" -ge "${1:-1}" ] && return 0
		sleep 0.1
	done
	echo "biostat printed no interval" >&2
	return 1
}

# wait_intervals_file FILE: FILE (--prom) has counted a bio (30 s at most)
wait_intervals_file() {
	local _
	for _ in $(seq 300); do
		grep -q '^biostat_submitted_total{.*} [1-9]' "$1" 2>/dev/null && return 0
		grep -q '^biostat_allocs_total{.*} [1-9]' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing counted in $1" >&2
	return 1
}

stop_biostat() {
	local rc=0 _
	kill -"${1:-INT}" "$bspid"
	# 30 s at most: a signal that biostat does not act on fails the test
	for _ in $(seq 300); do
		kill -0 "$bspid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$bspid" 2>/dev/null; then
		echo "biostat still runs 30 s after SIG${1:-INT}" >&2
		kill -9 "$bspid"
	fi
	wait "$bspid" || rc=$?
	bspid=
	return "$rc"
}

@test "biostat --calibrate sees the bios of an O_DIRECT dd to a file and names fs_bio_set" {
	need_bpf
	dir=$(io_dir) || skip "no ext4/xfs/btrfs directory to write to"
	iofile=$dir/biostat-host-test.$$
	# --calibrate: where kallsyms lacks fs_bio_set, a read of biostat's own finds it
	start_biostat -j --calibrate
	dd if=/dev/zero of="$iofile" bs=1M count=64 oflag=direct status=none
	sync
	stop_biostat INT

	cat "$BATS_TEST_TMPDIR/err" >&3 || true
	# every line is JSON, the last one the summary
	run jq -e -s 'length > 0' "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	summary=$(tail -n 1 "$BATS_TEST_TMPDIR/out")
	[ "$(jq -r .type <<<"$summary")" = summary ]
	echo "# mode: $(jq -r .mode <<<"$summary")" >&3
	n=$(jq '[.sets[] | select(.name == "fs_bio_set") | (.allocs // .submitted)] | add // 0' <<<"$summary")
	echo "# fs_bio_set bios seen: $n" >&3
	# 64 writes of 1 MiB: at least one bio each
	[ "$n" -ge 64 ]
}

@test "biostat does no file I/O of its own unless --calibrate asks for it" {
	need_bpf
	command -v strace >/dev/null || skip "no strace"
	run -0 strace -f -e trace=open,openat -o "$BATS_TEST_TMPDIR/strace" "$BIOSTAT" 0.1 1
	# what it opens: /proc, /sys and its own maps; never a file to write
	if grep -E 'O_(TMPFILE|WRONLY|RDWR|CREAT)' "$BATS_TEST_TMPDIR/strace" | grep -v '"/sys/\|"/proc/\|"/dev/null"'; then
		return 1
	fi
	if ! grep -qw fs_bio_set /proc/kallsyms; then
		# the calibration, when asked for: an unnamed temporary file
		run -0 strace -f -e trace=open,openat -o "$BATS_TEST_TMPDIR/strace" "$BIOSTAT" --calibrate 0.1 1
		grep -q O_TMPFILE "$BATS_TEST_TMPDIR/strace"
	fi
}

# biostat_dd ARGS...: biostat ARGS while a 16 MiB O_DIRECT dd writes a file
biostat_dd() {
	local dir
	dir=$(io_dir) || skip "no ext4/xfs/btrfs directory to write to"
	iofile=$dir/biostat-host-test.$$
	start_biostat "$@"
	dd if=/dev/zero of="$iofile" bs=1M count=16 oflag=direct status=none
	# one interval at least (its header in a table, its record in JSON)
	for _ in $(seq 300); do
		grep -q 'RSRV/s\|"type":"interval"' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	stop_biostat INT
}

@test "tables: the default fits 80 columns and names the device; -x every column; -n MAJ:MIN" {
	need_bpf
	local dev majmin
	biostat_dd 0.2
	# the device dd wrote to, independently: stat's MAJ:MIN and its name in sysfs
	majmin=$(stat -c '%Hd:%Ld' "$iofile" 2>/dev/null || true)
	cat "$BATS_TEST_TMPDIR/out"
	awk 'length($0) > 80 { print "wider than 80: " $0; bad = 1 } END { exit bad }' "$BATS_TEST_TMPDIR/out"
	grep -q '^BIO_SET  *DEVICE  *\(ALLOC\|SUBM\)/s  *RSRV/s  *WAIT/s  *MAX_us  *FAIL/s  *PUNT/s  *RESC/s$' "$BATS_TEST_TMPDIR/out"
	# at least one row, none with a MAJ:MIN in DEVICE
	[ "$(awk '$1 != "BIO_SET" && $1 != "Summary:" && NF >= 8' "$BATS_TEST_TMPDIR/out" | wc -l)" -ge 1 ]
	if awk '$1 != "BIO_SET" && $1 != "Summary:" && NF >= 8 && $2 ~ /^[0-9]+:[0-9]+$/' "$BATS_TEST_TMPDIR/out" | grep .; then
		return 1
	fi
	if [ -n "$majmin" ] && [ -e "/sys/dev/block/$majmin/uevent" ]; then
		dev=$(sed -n 's/^DEVNAME=//p' "/sys/dev/block/$majmin/uevent")
		awk -v d="$dev" '$2 == d { f = 1 } END { exit !f }' "$BATS_TEST_TMPDIR/out"
	fi
	biostat_dd -x 0.2
	grep -q '^BIO_SET  *DEVICE  *\(ALLOC\|SUBM\)/s  *RSRV/s  *WAIT/s  *AVG_us  *MAX_us  *FAIL/s  *PUNT/s  *PUNTD/s  *RESC/s  *RESCD/s$' "$BATS_TEST_TMPDIR/out"
	grep -q '^BIO_SET  *DEVICE  *POOL  *RESCUER  *\(ALLOCS\|SUBMITTED\)  *RESERVE  *WAITS  *AVG_us  *MAX_us  *FAILS  *PUNTS  *PUNTED  *RESCUES  *RESCUED$' "$BATS_TEST_TMPDIR/out"
	biostat_dd -n 0.2
	awk '$1 != "BIO_SET" && $1 != "Summary:" && NF >= 8 { n++; if ($2 !~ /^[0-9]+:[0-9]+$|^-$|^many$/) bad = 1 } END { exit bad || !n }' "$BATS_TEST_TMPDIR/out"
	if [ -n "$majmin" ]; then grep -q " $majmin " "$BATS_TEST_TMPDIR/out"; fi
}

@test "-N GLOB shows only the sets whose name matches; -d repeats up to 8 devices" {
	need_bpf
	biostat_dd -j -N 'no-such-set*' 0.2
	jq -e -s 'map(select(.type == "interval" or .type == "summary") | .sets | length) | add == 0' "$BATS_TEST_TMPDIR/out"
	biostat_dd -j -N 'no-such-set*' -N '*' 0.2
	jq -e -s 'map(select(.type == "summary") | .sets | length) | add > 0' "$BATS_TEST_TMPDIR/out"
	run -2 --separate-stderr "$BIOSTAT" -d 7:0 -d 7:0 -d 7:0 -d 7:0 -d 7:0 -d 7:0 -d 7:0 -d 7:0 -d 7:0 1
	[ "$stderr" = "biostat: at most 8 devices (-d) (see biostat --help)" ]
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# node_exporter PORT DIR: Debian's node_exporter serving DIR's *.prom files
# on 127.0.0.1:PORT (textfile collector only), until teardown
node_exporter() {
	prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$2" --web.listen-address="127.0.0.1:$1" \
		>"$BATS_TEST_TMPDIR/node_exporter.log" 2>&1 &
	nepid=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$1/metrics" >/dev/null && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/node_exporter.log" >&2
	return 1
}

# prom_bios PORT: bios counted in what node_exporter serves now, summed
prom_bios() {
	curl -sf "http://127.0.0.1:$1/metrics" >"$BATS_TEST_TMPDIR/scrape" || return 1
	awk '/^biostat_(submitted|allocs)_total\{/ { s += $NF } END { print s + 0 }' "$BATS_TEST_TMPDIR/scrape"
}

# prom_bios_above PORT N: node_exporter now serves more than N bios
prom_bios_above() { [ "$(prom_bios "$1")" -gt "$2" ]; }

@test "--prom FILE: node_exporter serves it, promtool finds it valid, counts rise between scrapes" {
	need_bpf
	command -v prometheus-node-exporter >/dev/null && command -v promtool >/dev/null ||
		skip "no prometheus-node-exporter or promtool (make deps)"
	local dir=$BATS_TEST_TMPDIR/textfile port=19100 n1 n2 iodir
	iodir=$(io_dir) || skip "no ext4/xfs/btrfs directory to write to"
	iofile=$iodir/biostat-host-test.$$
	mkdir "$dir"
	node_exporter "$port" "$dir"
	start_biostat --prom "$dir/biostat.prom" 0.2
	dd if=/dev/zero of="$iofile" bs=1M count=16 oflag=direct status=none
	wait_for 30 prom_bios_above "$port" 0
	n1=$(prom_bios "$port")
	cp "$BATS_TEST_TMPDIR/scrape" "$BATS_TEST_TMPDIR/scrape1"
	dd if=/dev/zero of="$iofile" bs=1M count=16 oflag=direct status=none
	wait_for 30 prom_bios_above "$port" "$n1"
	n2=$(prom_bios "$port")
	stop_biostat INT
	echo "# bios served in scrape 1: $n1, in scrape 2: $n2" >&3
	grep '^biostat_' "$BATS_TEST_TMPDIR/scrape1" | head -n 12 | sed 's/^/# /' >&3
	for f in scrape1 scrape; do
		promtool check metrics <"$BATS_TEST_TMPDIR/$f"
		grep -qx 'node_textfile_scrape_error 0' "$BATS_TEST_TMPDIR/$f"
		grep -q '^# TYPE biostat_\(submitted\|allocs\)_total counter$' "$BATS_TEST_TMPDIR/$f"
		grep -q '^biostat_pool{device="[^"]*",dm_name="[^"]*",name="[^"]*",set="[^"]*"} [0-9]*$' "$BATS_TEST_TMPDIR/$f"
		# up, and what it is
		grep -qx 'biostat_up 1' "$BATS_TEST_TMPDIR/$f"
		grep -q '^biostat_info{kernel="'"$(uname -r)"'",mode="[a-z]*",version="'"$("$BIOSTAT" -V | awk '{ print $2 }')"'"} 1$' \
			"$BATS_TEST_TMPDIR/$f"
		grep -q '^biostat_start_time_seconds [0-9.e+]*$' "$BATS_TEST_TMPDIR/$f"
	done
	# only the file, whole: no temporary file left beside it
	[ "$(ls "$dir")" = biostat.prom ]
	# the file it leaves says it is down
	grep -qx 'biostat_up 0' "$dir/biostat.prom"
}

@test "--prom FILE holds no kernel address, though /proc/kallsyms shows them to biostat" {
	need_bpf
	local f=$BATS_TEST_TMPDIR/b.prom iodir
	iodir=$(io_dir) || skip "no ext4/xfs/btrfs directory to write to"
	iofile=$iodir/biostat-host-test.$$
	start_biostat --prom "$f" 0.2
	dd if=/dev/zero of="$iofile" bs=1M count=8 oflag=direct status=none
	wait_intervals_file "$f"
	stop_biostat INT
	sed 's/^/# /' "$f" | grep -v '^# # ' >&3
	# kernel text and data addresses: ffff followed by 12 hex digits, or
	# any 0x with 8 or more, in labels or values
	if grep -Ein 'ffff[0-9a-f]{12}|0x[0-9a-f]{8,}' "$f"; then
		echo "kernel addresses in $f" >&2
		return 1
	fi
	grep -q '^biostat_[a-z_]*_total{.*set="' "$f"
}

@test "--prom FILE that cannot be written: one line and exit 2" {
	need_bpf
	run -2 --separate-stderr "$BIOSTAT" --prom /nonexistent-dir/x.prom 0.1 1
	[[ $stderr == *"biostat: --prom /nonexistent-dir/x.prom: No such file or directory"* ]]
}

@test "-c CGROUP counts only the tasks in that cgroup v2 directory; bad -c, -m and --folded are refused" {
	need_bpf
	local cg dir n
	run -2 --separate-stderr "$BIOSTAT" -c /tmp 1
	[[ $stderr == "biostat: '/tmp' is not a cgroup v2 directory"* ]]
	run -2 --separate-stderr "$BIOSTAT" -m 0 1
	[[ $stderr == "biostat: invalid minimum wait '0'"* ]]
	run -2 --separate-stderr "$BIOSTAT" --folded 1
	[[ $stderr == "biostat: --folded is a format of -s"* ]]
	dir=$(io_dir) || skip "no ext4/xfs/btrfs directory to write to"
	cg=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	if [ -z "$cg" ]; then
		cg=$BATS_TEST_TMPDIR/cg2
		mkdir "$cg"
		mount -t cgroup2 none "$cg" || skip "cannot mount cgroup2"
		cgmount=$cg
	fi
	cgdir=$cg/biostat-test.$$
	mkdir "$cgdir"
	iofile=$dir/biostat-host-test.$$
	start_biostat -j -c "$cgdir" 0.2
	# 8 MiB from inside the cgroup, 64 MiB from outside
	bash -c 'echo $$ >"$1/cgroup.procs" && exec dd if=/dev/zero of="$2" bs=1M count=8 oflag=direct status=none' - "$cgdir" "$iofile.in"
	dd if=/dev/zero of="$iofile" bs=1M count=64 oflag=direct status=none
	rm -f "$iofile.in"
	stop_biostat INT
	n=$(tail -n 1 "$BATS_TEST_TMPDIR/out" | jq '[.sets[] | (.allocs // .submitted)] | add // 0')
	echo "# bios counted in the cgroup: $n (8 MiB written there, 64 MiB outside)" >&3
	[ "$n" -ge 8 ]
	[ "$n" -lt 64 ]
}

@test "biostat INTERVAL COUNT stops by itself with a summary and exit 0" {
	need_bpf
	run timeout 30 "$BIOSTAT" 0.2 3
	[ "$status" -eq 0 ]
	[ "$(grep -c '^BIO_SET' <<<"$output")" -eq 4 ]	# 3 reports + summary
	grep -q '^Summary: ' <<<"$output"
}

@test "biostat stops on SIGTERM with a summary and exit 0" {
	need_bpf
	start_biostat -j 0.2
	wait_intervals
	stop_biostat TERM
	tail -n 1 "$BATS_TEST_TMPDIR/out" | jq -e '.type == "summary"'
	jq -e -s 'map(select(.type == "interval")) | length >= 1' "$BATS_TEST_TMPDIR/out"
}

@test "biostat ends on SIGHUP (a dropped session), SIGQUIT and SIGINT like on SIGTERM" {
	need_bpf
	for sig in HUP QUIT INT; do
		start_biostat -j 0.2
		wait_intervals
		stop_biostat "$sig" || { echo "SIG$sig: exit $?" >&2; return 1; }
		tail -n 1 "$BATS_TEST_TMPDIR/out" | jq -e '.type == "summary"'
	done
}

# sig_caught PID SIGNUM: PID has a handler for signal number SIGNUM (SigCgt
# of /proc/PID/status), read without a fork: the poll below must see the
# handler within the quarter second that start-up takes here, on a busy
# machine too (a poll that forked awk and sleep missed it once)
sig_caught() {
	local line mask
	{
		while read -r line; do
			[[ $line == SigCgt:* ]] || continue
			mask=${line#SigCgt:}
			mask=${mask//[[:space:]]/}
			(((0x$mask >> ($2 - 1)) & 1))
			return
		done <"/proc/$1/status"
	} 2>/dev/null
	return 1
}

@test "a signal during start-up ends the run as tracing would begin, with the summary" {
	need_bpf
	local sig n end
	for sig in TERM INT; do
		n=$(kill -l "$sig")
		"$BIOSTAT" -j 1 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
		bspid=$!
		# the handler is there long before start-up ends (BPF load, symbols)
		end=$((SECONDS + 10))
		until sig_caught "$bspid" "$n" || ! kill -0 "$bspid" 2>/dev/null || ((SECONDS > end)); do
			:
		done
		if grep -q '^Tracing' "$BATS_TEST_TMPDIR/err"; then
			echo "SIG$sig: no handler until start-up was over" >&2
			return 1
		fi
		stop_biostat "$sig" || { echo "SIG$sig during start-up: exit $?" >&2; return 1; }
		tail -n 1 "$BATS_TEST_TMPDIR/out" | jq -e '.type == "summary"'
	done
}

@test "an ignored SIGHUP (nohup) stays ignored; SIGINT still ends the run" {
	need_bpf
	(trap '' HUP; exec "$BIOSTAT" -j 0.2) >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	bspid=$!
	wait_intervals
	kill -HUP "$bspid"
	# still there two intervals later
	local n
	n=$(grep -c '"type":"interval"' "$BATS_TEST_TMPDIR/out")
	wait_intervals $((n + 2))
	kill -0 "$bspid"
	stop_biostat INT
	tail -n 1 "$BATS_TEST_TMPDIR/out" | jq -e '.type == "summary"'
}

@test "write errors end the run with one line and a non-zero exit: stdout, --prom" {
	need_bpf
	# (run captures stdout: the redirection is the command's own)
	run -1 --separate-stderr bash -c 'exec timeout 30 "$BIOSTAT" 0.2 2 >/dev/full'
	[[ $stderr == *"cannot write to standard output: No space left on device"* ]]
	[ "$(grep -c "cannot write" <<<"$stderr")" = 1 ]
	# --prom on a file system that fills up while biostat runs
	local mnt=$BATS_TEST_TMPDIR/full
	mkdir -p "$mnt"
	mount -t tmpfs -o size=64k tmpfs "$mnt"
	start_biostat --prom "$mnt/biostat.prom" 0.2
	head -c 1M /dev/zero >"$mnt/filler" 2>/dev/null || true
	rm -f "$mnt/biostat.prom"
	local rc=0
	for _ in $(seq 100); do kill -0 "$bspid" 2>/dev/null || break; sleep 0.1; done
	wait "$bspid" || rc=$?
	bspid=
	umount "$mnt"
	[ "$rc" = 1 ] || { echo "exit $rc, want 1" >&2; cat "$BATS_TEST_TMPDIR/err" >&2; return 1; }
	grep -q "cannot write $mnt/biostat.prom: No space left on device" "$BATS_TEST_TMPDIR/err"
}

@test "every JSON record has the schema version and an ISO 8601 time with date and zone" {
	need_bpf
	local iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}[+-][0-9]{2}:[0-9]{2}$'
	TZ=UTC run -0 --separate-stderr timeout 30 "$BIOSTAT" -j 0.2 2
	jq -e -s --arg iso "$iso" --argjson v "$BIOSTAT_SCHEMA" 'length == 3 and all(.schema == $v and (.time | test($iso)))' <<<"$output"
	# the same instant as "ts" (unix seconds)
	jq -e -s 'all((((.time[0:19] + "Z") | fromdateiso8601) - (.ts | floor)) | fabs <= 1)' <<<"$output"
	# local time with its offset
	TZ=CET-1 run -0 --separate-stderr timeout 30 "$BIOSTAT" -j 0.2 1
	jq -e -s 'all(.time | endswith("+01:00"))' <<<"$output"
}

@test "one vocabulary: JSON's counts are Prometheus' counters and the table's headings" {
	need_bpf
	local prom=$BATS_TEST_TMPDIR/v.prom dir json table
	dir=$(io_dir) || skip "no ext4/xfs/btrfs directory to write to"
	start_biostat -j --prom "$prom" 0.2
	dd if=/dev/zero of="$dir/biostat-vocab.$$" bs=64k count=16 oflag=direct status=none
	rm -f "$dir/biostat-vocab.$$"
	wait_intervals_file "$prom"
	stop_biostat INT
	json=$(tail -n 1 "$BATS_TEST_TMPDIR/out")
	jq -e --argjson v "$BIOSTAT_SCHEMA" '.type == "summary" and .schema == $v' <<<"$json"
	run -0 --separate-stderr timeout 30 "$BIOSTAT" -x 0.2 1
	table=$(grep '^BIO_SET' <<<"$output" | tail -n 1)
	assert_one_vocabulary "$json" "$prom" "$table"
	# the same device names: JSON's "device" is the Prometheus label
	jq -r '.sets[].device // empty' <<<"$json" | sort -u >"$BATS_TEST_TMPDIR/jd"
	sed -n 's/^biostat_[a-z]*_total{.*device="\([^"]*\)".*/\1/p' "$prom" | sort -u >"$BATS_TEST_TMPDIR/pd"
	diff "$BATS_TEST_TMPDIR/jd" "$BATS_TEST_TMPDIR/pd"
}

@test "biostat -T prints the date, time and zone before each report" {
	need_bpf
	TZ=UTC run -0 timeout 30 "$BIOSTAT" -T 0.2 2
	[ "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC$' <<<"$output")" -eq 2 ]
}

@test "options before check are check's: biostat -j check, biostat -d DEV check" {
	run -2 --separate-stderr "$BIOSTAT" -d /nonexistent-dev-xyz check 1
	[[ $stderr == "biostat check: "*nonexistent-dev-xyz* ]]
	run -2 --separate-stderr "$BIOSTAT" -j check --bogus
	[[ $stderr == "biostat check: unknown option '--bogus'"* ]]
	run -2 --separate-stderr "$BIOSTAT" -j -v check 1 2
	[[ $stderr == "biostat check: unexpected argument '2'"* ]]
	# a table-mode option is not check's
	run -2 --separate-stderr "$BIOSTAT" -e check 1
	[[ $stderr == "biostat check: unknown option '-e'"* ]]
	# an option's value called check is not the subcommand
	run -2 --separate-stderr "$BIOSTAT" -d check 1
	[[ $stderr == "biostat: "* ]]
}

@test "counting submissions only: -e, -H and -s are refused with one line and exit 2; one short warning" {
	need_bpf
	local mode
	mode=$("$BIOSTAT" -j 0.1 1 2>/dev/null | jq -r -s '.[0].mode')
	[ "$mode" = submissions ] || skip "this kernel traces in full, not submissions only ($mode)"
	for o in -e -H -s; do
		run -2 --separate-stderr "$BIOSTAT" "$o" 0.1 1
		echo "biostat $o: $stderr"
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "biostat: $o: "*"cannot be traced" ]]
	done
	run -0 --separate-stderr "$BIOSTAT" 0.1 1
	[ "$(grep -c warning <<<"$stderr")" -eq 1 ]
	[ "$(grep warning <<<"$stderr" | wc -c)" -le 80 ]
	# where kallsyms lacks fs_bio_set (the busiest set, named by its
	# address then), one short line says how to name it
	if ! grep -q ' fs_bio_set$' /proc/kallsyms; then
		[ "$(grep -c -- '--calibrate' <<<"$stderr")" -eq 1 ]
		[ "$(grep -- '--calibrate' <<<"$stderr" | wc -c)" -le 80 ]
	fi
}

@test "without privileges: one line naming what is missing and exit 1, in both modes" {
	need_bpf
	command -v setpriv >/dev/null || skip "no setpriv"
	local syslog= hidden
	# kallsyms as an unprivileged user sees it: addresses or zeros
	hidden=$(setpriv --reuid=65534 --regid=65534 --clear-groups head -n 1 /proc/kallsyms | awk '{ print ($1 ~ /^0+$/) }')
	[ "$hidden" = 1 ] && syslog=", CAP_SYSLOG to read kernel addresses"
	for mode in "" check; do
		# shellcheck disable=SC2086 # mode: no word or one
		run -1 --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$BIOSTAT" $mode 1
		echo "nobody: $stderr"
		[ "${#stderr_lines[@]}" -eq 1 ]
		[ "$stderr" = "biostat${mode:+ $mode}: missing privileges: CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to trace$syslog; run as root" ]
		# root with CAP_BPF and CAP_SYS_ADMIN dropped
		# shellcheck disable=SC2086
		run -1 --separate-stderr setpriv --inh-caps=-all --bounding-set=-bpf,-sys_admin "$BIOSTAT" $mode 1
		echo "root without CAP_BPF: $stderr"
		[ "$stderr" = "biostat${mode:+ $mode}: missing privileges: CAP_BPF (or CAP_SYS_ADMIN) to trace; run as root" ]
	done
}

@test "biostat rejects bad input with one line and exit 2" {
	for args in "-z" "--nosuch" "0" "-1" "abc" "1 0" "1 x" "1 2 3" \
		"-d nosuch-device" "-d 4095:1048575" "-p abc" "-p 0" "-p" "-d"; do
		# shellcheck disable=SC2086
		refused_in_one_line "$BIOSTAT" $args
	done
}

@test "man page: mandoc -Tlint clean; its lists of options and SYNOPSIS are --help's and check --help's" {
	command -v mandoc >/dev/null || skip "no mandoc (make deps)"
	local man=$BATS_TEST_DIRNAME/../../Documentation/biostat.8 ok=0
	run -0 mandoc -Tlint "$man"
	[ -z "$output" ]
	# every option, short and long, with or without an argument, in the
	# list of its mode, and nothing else
	same_opts "OPTIONS of biostat.8" "$(help_opts "$BIOSTAT" --help)" \
		"$(man_opts "$man" main)" || ok=1
	same_opts "biostat.8's options of check mode" "$(help_opts "$BIOSTAT" check --help)" \
		"$(man_opts "$man" check)" || ok=1
	# the SYNOPSIS by short names: every option (check's -h is biostat -h)
	same_opts "SYNOPSIS of biostat.8" "$(help_names "$BIOSTAT" --help)" \
		"$(man_synopsis "$man" main)" || ok=1
	same_opts "SYNOPSIS of biostat.8 after check" \
		"$(help_names "$BIOSTAT" check --help | grep -vx -- '-h flag')" \
		"$(man_synopsis "$man" check)" || ok=1
	same_opts "SYNOPSIS of biostat.8 before check" "$(man_synopsis "$man" check)" \
		"$(man_synopsis "$man" before)" || ok=1
	[ "$ok" = 0 ]
	# the exit statuses, in both
	"$BIOSTAT" --help | grep -q '3 (check) a violation'
	grep -q '^\.SH EXIT STATUS' "$man"
}

@test "the subcommand: the first word that is not an option or an option's argument, by the option tables" {
	local c want got bad=
	while IFS='|' read -r c want; do
		# shellcheck disable=SC2086 # the words of the case
		got=$(split_at "$BIOSTAT" $c)
		[ "$got" = "$want" ] || bad="$bad"$'\n'"  biostat $c check: $got, want $want"
	done < <(subcommand_cases)
	[ -z "$bad" ] || { echo "where check stands:$bad" >&2; return 1; }
}

@test "biostat -h and -V exit 0" {
	run "$BIOSTAT" -h
	[ "$status" -eq 0 ]
	[[ $output == *"Usage: biostat"* ]]
	run "$BIOSTAT" -V
	[ "$status" -eq 0 ]
	[[ $output == "biostat "* ]]
}

@test "biostat --help lists check; biostat check -h exits 0" {
	run -0 "$BIOSTAT" --help
	grep -qw check <<<"$output"
	run -0 "$BIOSTAT" check -h
	[[ "$output" == *"DURATION"* ]]
	[[ "$output" == *"Exit status"* ]]
}

@test "biostat check rejects bad input with one line and exit 2" {
	run -2 "$BIOSTAT" check 0
	[[ "$output" == *"invalid duration"* ]]
	run -2 "$BIOSTAT" check 1 2
	[[ "$output" == *"unexpected argument"* ]]
	run -2 "$BIOSTAT" check --bogus
	[[ "$output" == *"unknown option"* ]]
	run -2 "$BIOSTAT" check -d /nonexistent-dev-xyz 1
}

@test "biostat check: exits 0 or 3 where fentry works, else 1 with a clear message" {
	need_bpf
	run "$BIOSTAT" check 1
	case "$status" in
	0|3) [[ "$output" == *"allocations checked"* ]] ;;
	1) [[ "$output" == *"fentry"* ]] ;;
	*) echo "unexpected status $status: $output" >&2; return 1 ;;
	esac
}
