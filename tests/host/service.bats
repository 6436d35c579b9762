#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# biostat as a service, on the host: the systemd unit the biostat package
# ships (tools/biostat/examples/biostat.service) is clean for
# systemd-analyze verify and well hardened by systemd-analyze security;
# the example alerting rules (tools/biostat/examples/biostat-alerts.yml)
# are valid for promtool and fire as their unit test says
# (tests/host/alerts.test.yml).

bats_require_minimum_version 1.5.0

setup_file() {
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export TOP=$top EX=$top/tools/biostat/examples
	export BIOSTAT=${BIOSTAT:-$top/build/biostat/biostat}
}

# the unit with ExecStart on the built biostat, and the man page its
# Documentation= names where man finds it: what verify checks exists
unit_here() {
	local d=$BATS_TEST_TMPDIR
	mkdir -p "$d/unit" "$d/man/man8"
	cp "$TOP/Documentation/biostat.8" "$d/man/man8/"
	sed "s|/usr/sbin/biostat|$BIOSTAT|" "$EX/biostat.service" >"$d/unit/biostat.service"
}

@test "the unit: systemd-analyze verify is clean" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	[ -x "$BIOSTAT" ] || { echo "no biostat at $BIOSTAT" >&2; return 1; }
	unit_here
	run --separate-stderr env MANPATH="$BATS_TEST_TMPDIR/man" \
		systemd-analyze verify "$BATS_TEST_TMPDIR/unit/biostat.service"
	echo "$output$stderr"
	[ "$status" -eq 0 ]
	[ -z "$output$stderr" ]
	# what it runs: --prom into Debian's textfile directory, the one place
	# it may write, and no capability but biostat's three
	grep -qx 'ExecStart=/usr/sbin/biostat --prom /var/lib/prometheus/node-exporter/biostat.prom 15' "$EX/biostat.service"
	grep -qx 'ReadWritePaths=/var/lib/prometheus/node-exporter' "$EX/biostat.service"
	grep -qx 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYSLOG' "$EX/biostat.service"
}

@test "the unit: systemd-analyze security rates its exposure 2.0 or less (OK)" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	unit_here
	run -0 systemd-analyze security --offline=true "$BATS_TEST_TMPDIR/unit/biostat.service"
	local level
	level=$(sed -n 's/.*Overall exposure level for biostat.service: \([0-9.]*\) .*/\1/p' <<<"$output")
	echo "# exposure level: $level" >&3
	[ -n "$level" ]
	awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'
}

@test "alert rules: promtool check rules, and promtool test rules on recorded series" {
	command -v promtool >/dev/null || skip "no promtool (make deps)"
	run -0 promtool check rules "$EX/biostat-alerts.yml"
	echo "$output"
	[[ $output == *"SUCCESS: 6 rules found"* ]]
	cd "$TOP/tests/host"
	run -0 promtool test rules alerts.test.yml
	echo "$output"
	[[ $output == *SUCCESS* ]]
}

@test "alert rules: every metric they use is one biostat writes (and biostat(8) lists), or node_exporter's textfile mtime" {
	local m k
	for m in $(grep -o 'biostat_[a-z_]*' "$EX/biostat-alerts.yml" | sort -u); do
		# a count's family is biostat_KEY_total, KEY from the list of
		# counts (BIOSTAT_COUNTS in bpf/biostat.h)
		k=${m#biostat_}
		k=${k%_total}
		grep -q "\"$m\"" "$TOP/tools/biostat/prom.c" ||
			grep -Eq "^[[:space:]]*X\($k," "$TOP/bpf/biostat.h" || {
			echo "$m is not written by prom.c" >&2
			return 1
		}
		sed -n '/^\.SH PROMETHEUS METRICS/,/^\.SH /p' "$TOP/Documentation/biostat.8" |
			grep -q "^\.B.* $m\b" || {
			echo "$m is not in biostat(8), PROMETHEUS METRICS" >&2
			return 1
		}
	done
	grep -q 'node_textfile_mtime_seconds' "$EX/biostat-alerts.yml"
}
