#!/usr/bin/env bash
# tests/stress/memory-pressure.sh [KERNEL...]: the memory-pressure tests
# (tests/stress/lowmem/memory-pressure.bats) in a guest of their own with
# little memory, once per kernel (default: 6.1 6.12).  Prints the TAP of
# each guest.
#
#   MEMORY=MIB     guest memory (default 320; tests/vm/run gives a guest
#                  that small its userland compressed, in a ramfs: about
#                  100 MiB (6.1) or 50 (6.12) are left at 256 MiB)
#   SEED=N         replay a run (passed into the guest)
#   GUEST_TIMEOUT  seconds per guest (default 900)
#
# Exit status: 0 when every guest passed, 1 when one failed, 2 bad usage.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mem=${MEMORY:-320}
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
for k in "${kernels[@]}"; do
	case $k in
	6.1 | 6.12) ;;
	*) echo "memory-pressure: unsupported kernel '$k' (want 6.1 or 6.12)" >&2; exit 2 ;;
	esac
done
if ! [[ $mem =~ ^[1-9][0-9]*$ ]]; then
	echo "memory-pressure: MEMORY must be a number of MiB, not '$mem'" >&2
	exit 2
fi
if [ -n "${SEED:-}" ] && ! [[ $SEED =~ ^[0-9]+$ ]]; then
	echo "memory-pressure: SEED must be a number, not '$SEED'" >&2
	exit 2
fi
rc=0
for k in "${kernels[@]}"; do
	echo "== memory pressure on $k in a $mem MiB guest"
	# only tests/ goes in: the guest's memory is what is being measured
	"$top/tests/vm/run" --kernel "$k" --memory "$mem" --include "$top/tests" \
		--timeout "${GUEST_TIMEOUT:-900}" -- \
		env ${SEED:+SEED=$SEED} "$top/tests/bats/run-suite" "$top/tests/stress/lowmem/memory-pressure.bats" || rc=1
done
exit "$rc"
