# tests/lib/io.bash: I/O and its verification: random data files, O_DIRECT
# writes of any size and offset (write_direct), four writers at once
# (parallel_write), prefilling a device, checksums of devices and files,
# the fio verify run (one job definition, options added or overridden per
# caller) and a loop of it, and the assertion that a command got EIO.
# Loaded by init.bash.
# shellcheck shell=bash

# random_file PATH MIB
random_file() {
	head -c "$2M" /dev/urandom >"$1"
}

# _bytes N[k|K|M|G]: bytes
_bytes() {
	case $1 in
	*[kK]) echo $((${1%?} * 1024)) ;;
	*M) echo $((${1%?} * 1048576)) ;;
	*G) echo $((${1%?} * 1073741824)) ;;
	*[!0-9]* | '') echo "_bytes: not a size: '$1'" >&2; return 1 ;;
	*) echo "$1" ;;
	esac
}

# _dd_direct FILE DEV BS OFFSET BYTES: BYTES, a multiple of BS, with O_DIRECT
_dd_direct() {
	[ "$5" -gt 0 ] || return 0
	dd if="$1" of="$2" bs="$3" iflag=skip_bytes,count_bytes,fullblock \
		oflag=direct,seek_bytes skip="$4" seek="$4" count="$5" \
		conv=notrunc status=none
}

# write_direct FILE DEV BS [OFFSET_BYTES [BYTES]]: copy FILE (or BYTES of it
# from OFFSET) to the same offset of DEV with O_DIRECT writes of BS bytes
# (BS: bytes, or with a k, K, M or G suffix).  A tail shorter than BS goes
# in 512-byte writes: dd would write it through the page cache instead.
write_direct() {
	local file=$1 dev=$2 b off len head
	b=$(_bytes "$3") && off=$(_bytes "${4:-0}") || return 1
	len=${5:-$(stat -c %s "$file")}
	len=$(_bytes "$len") || return 1
	if [ $((off % 512)) -ne 0 ] || [ $((len % 512)) -ne 0 ]; then
		echo "write_direct: offset $off and length $len must be multiples of 512" >&2
		return 1
	fi
	head=$((len / b * b))
	_dd_direct "$file" "$dev" "$b" "$off" "$head" &&
		_dd_direct "$file" "$dev" 512 $((off + head)) $((len - head))
}

# parallel_write FILE DEV MIB: FILE's first MIB MiB written to DEV by four
# writers at once (1 MiB O_DIRECT writes), each on its own quarter; fails
# naming the writers that failed
parallel_write() {
	local file=$1 dev=$2 q=$(($3 / 4)) i pids=()
	for i in 0 1 2 3; do
		write_direct "$file" "$dev" 1M "$((i * q))M" "${q}M" 3>&- &
		pids+=("w$i=$!")
	done
	wait_pids "${pids[@]}"
}

# prefill DEV...: write every block once (brd allocates its pages on the
# first write: memory snapshots taken afterwards do not count them)
prefill() {
	local d
	for d in "$@"; do
		dd if=/dev/zero of="$d" bs=1M oflag=direct status=none 2>/dev/null || true
	done
}

# sha_dev DEV MIB [SKIP_MIB]: sha256 of MIB MiB of DEV (from SKIP_MIB),
# read with O_DIRECT
sha_dev() {
	dd if="$1" bs=1M count="$2" skip="${3:-0}" iflag=direct status=none | sha256sum | cut -d' ' -f1
}

# sha_file FILE [MIB [SKIP_MIB]]: sha256 of FILE, or of MIB MiB of it
sha_file() {
	if [ $# -gt 1 ]; then
		dd if="$1" bs=1M count="$2" skip="${3:-0}" status=none | sha256sum | cut -d' ' -f1
	else
		sha256sum "$1" | cut -d' ' -f1
	fi
}

# assert_holds SHA MIB DEV...: the first MIB MiB of each DEV have sha256 SHA
assert_holds() {
	local want=$1 mib=$2 d got
	shift 2
	for d in "$@"; do
		got=$(sha_dev "$d" "$mib")
		[ "$got" = "$want" ] || { echo "$d: the first $mib MiB differ (sha256 $got, want $want)" >&2; return 1; }
	done
}

# fio_verify DEV OFFSET SIZE LOG [FIO-OPTION...]: random writes of 4k..1M
# at iodepth 16 over [OFFSET, OFFSET+SIZE) of DEV, O_DIRECT, then every
# block read back and verified (crc32c); fio's report in LOG, and on
# stderr when it fails.  The options given are added, or replace the
# defaults (fio takes the last of an option given twice): --randseed=N to
# replay, --rw, --ioengine, --verify_only=1...
fio_verify() {
	local dev=$1 off=$2 size=$3 log=$4
	shift 4
	fio --name=verify --filename="$dev" --offset="$off" --size="$size" \
		--direct=1 --ioengine=libaio --iodepth=16 --rw=randwrite \
		--bssplit=4k/20:16k/20:64k/20:256k/20:1m/20 \
		--verify=crc32c --verify_fatal=1 "$@" --output="$log" >/dev/null 2>&1 ||
		{ cat "$log" >&2; return 1; }
}

# fio_loop DEV OFFSET SIZE STOPFILE OUT: fio_verify again and again (seeded
# SEED, SEED+1, ...) until STOPFILE exists (at least once); OUT gets "runs
# bytes".  Fails on the first run that does not verify, with its log on
# stderr.
fio_loop() {
	local dev=$1 off=$2 size=$3 stop=$4 out=$5 runs=0 bytes
	bytes=$(numfmt --from=iec "$size")
	while :; do
		if ! fio_verify "$dev" "$off" "$size" "$out.log" --randseed=$((SEED + runs)); then
			echo "fio on $dev failed in run $((runs + 1))" >&2
			echo "$runs $((runs * bytes))" >"$out"
			return 1
		fi
		runs=$((runs + 1))
		echo "$runs $((runs * bytes))" >"$out"
		[ -e "$stop" ] && return 0
	done
}

# assert_eio STATUS OUTPUT: the command failed with EIO (and did not time out)
assert_eio() {
	if [ "$1" -eq 0 ] || [ "$1" -eq 124 ] || [[ $2 != *"Input/output error"* ]]; then
		echo "want an I/O error, got status $1: $2" >&2
		return 1
	fi
}
