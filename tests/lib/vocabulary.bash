# tests/lib/vocabulary.bash: one vocabulary across biostat's views (biostat(8),
# JSON): the counts of a set in a JSON record (non-null, not a rate, a wait
# statistic or the pool) are exactly the Prometheus counter families
# biostat_KEY_total (less uncounted), and each is a summary table heading
# KEY in capitals.  Host tests and guest tests load it.
# shellcheck shell=bash

# The JSON schema these tests read (report.h BIOSTAT_JSON_SCHEMA; biostat(8))
# shellcheck disable=SC2034 # used by the files that load this one
BIOSTAT_SCHEMA=2

# assert_one_vocabulary JSON_RECORD PROM_FILE TABLE_HEADINGS: prints the
# three lists and what differs
assert_one_vocabulary() {
	local json=$1 prom=$2 table=$3 keys fams heads missing
	keys=$(jq -r '[.sets[] | to_entries[] | select((.value | type) == "number") |
		.key | select(test("_per_s$|^wait_|^pool$") | not)] | unique | .[]' <<<"$json")
	fams=$(sed -n 's/^# TYPE biostat_\(.*\)_total counter$/\1/p' "$prom" | grep -vx uncounted | sort -u)
	heads=$(tr ' ' '\n' <<<"$table" | grep . | tr '[:upper:]' '[:lower:]' | sort -u)
	echo "# JSON counts: ${keys//$'\n'/ }" >&3
	echo "# Prometheus counters: ${fams//$'\n'/ }" >&3
	echo "# table headings: ${heads//$'\n'/ }" >&3
	[ -n "$keys" ] || { echo "no counts in the JSON record" >&2; return 1; }
	[ "$keys" = "$fams" ] || { echo "JSON counts (${keys//$'\n'/ }) != Prometheus counters (${fams//$'\n'/ })" >&2; return 1; }
	missing=$(comm -23 <(echo "$keys") <(echo "$heads"))
	[ -z "$missing" ] || { echo "not a table heading: ${missing//$'\n'/ }" >&2; return 1; }
}
