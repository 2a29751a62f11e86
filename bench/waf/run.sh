#!/usr/bin/env bash
# WAF benchmark: nginx + ModSecurity v3 + OWASP CRS (Debian packages) against decagon's WAF
# (internal/waf in front of httputil.ReverseProxy, bench/waf/front), both at paranoia level 1,
# blocking, in front of the same fixed small-JSON backend on loopback, with the same wrk request
# mix (mix.tsv: 9 clean API requests to 1 attack) and concurrency. Prints req/s, p50, p99 and
# the server CPU time per request, and the ratios. Fails if decagon lets an attack through (not
# 403) or refuses a clean request (not 200); nginx+ModSecurity's misses are reported.
#
# Usage: bench/waf/run.sh            (from the repository root; installs the packages it needs)
# Env:   DURATION (20s) WARMUP (5s) CONNS (32) THREADS (2) ROUNDS (3)
#        BACKEND_PORT (18081) DECAGON_PORT (18082) NGINX_PORT (18083)
set -euo pipefail

cd "$(dirname "$0")/../.."
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
BACKEND_ADDR=127.0.0.1:${BACKEND_PORT:-18081}
export MIX=bench/waf/mix.tsv
DECAGON_PORT=${DECAGON_PORT:-18082}
NGINX_PORT=${NGINX_PORT:-18083}

need=()
for pkg in nginx libnginx-mod-http-modsecurity modsecurity-crs wrk curl; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
	echo "installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

dir=$(mktemp -d /tmp/wafbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [[ -f $dir/nginx.pid ]]; then kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true; fi
	wait 2>/dev/null || true
}
trap cleanup EXIT

go build -o "$dir/" ./bench/waf/backend ./bench/waf/front
"$dir/backend" -listen "$BACKEND_ADDR" & pids+=($!)
"$dir/front" -listen "127.0.0.1:$DECAGON_PORT" -backend "http://$BACKEND_ADDR" & pids+=($!)

mkdir -p "$dir"/{client_body,proxy,fastcgi,uwsgi,scgi}
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@BACKEND@|$BACKEND_ADDR|g" bench/waf/nginx.conf.in >"$dir/nginx.conf"
cp bench/waf/modsec.conf.in "$dir/modsec.conf"
nginx -t -c "$dir/nginx.conf" -p "$dir" 2>"$dir/nginx-t.log" || { cat "$dir/nginx-t.log"; exit 1; }
nginx -c "$dir/nginx.conf" -p "$dir"

wait_up() { # poll until the port answers, 10 s at most
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/health-check" && return 0
		sleep 0.1
	done
	echo "port $1 did not come up" >&2
	exit 1
}
wait_up "$DECAGON_PORT"
wait_up "$NGINX_PORT"

# Accuracy: every request of the mix once, on both fronts.
check() { # port name
	local bad=0 kind method path header body code args
	while IFS=$'\t' read -r kind method path header body; do
		[[ $kind == \#* || -z $kind ]] && continue
		args=(-s -o /dev/null -w '%{http_code}' -X "$method" -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln' -H 'Accept: application/json')
		[[ $header != - ]] && args+=(-H "$header")
		[[ $body != - ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
		code=$(curl "${args[@]}" "http://127.0.0.1:$1$path")
		if [[ $kind == attack && $code != 403 ]] || [[ $kind == clean && $code != 200 ]]; then
			echo "ACCURACY $2: $kind $method $path -> $code" >&2
			bad=1
		fi
	done <bench/waf/mix.tsv
	return $bad
}
# decagon must refuse every attack and pass every clean request; nginx's misses are reported
# (Debian's CRS is 3.3, older than the CRS 4 decagon embeds).
accuracy=ok
nginx_accuracy=ok
check "$NGINX_PORT" nginx+modsecurity || nginx_accuracy="misses (see above)"
check "$DECAGON_PORT" decagon || accuracy=FAILED

cpu_ticks() { # total utime+stime (clock ticks) of the given pids
	local t=0 p
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
server_pids() { # port -> pids of the server behind it (this run's nginx workers only)
	if [[ $1 == "$NGINX_PORT" ]]; then pgrep -P "$(cat "$dir/nginx.pid")" | tr '\n' ' '; else echo "${pids[1]}"; fi
}

run() { # port -> "rps p50_us p99_us cpu_us_per_req statuses"
	local port=$1 out ps t0 t1 rps
	wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s bench/waf/mix.lua "http://127.0.0.1:$port" >/dev/null
	ps=$(server_pids "$port")
	t0=$(cpu_ticks $ps)
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/waf/mix.lua "http://127.0.0.1:$port")
	t1=$(cpu_ticks $ps)
	rps=$(awk '/^rps:/ {print $2}' <<<"$out")
	awk -v rps="$rps" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v d="${DURATION%s}" '
		/^p50_us:/ {p50=$2} /^p99_us:/ {p99=$2} /^statuses:/ {$1=""; st=$0}
		END {printf "%s %s %s %.0f %s\n", rps, p50, p99, ticks / hz * 1e6 / (rps * d), st}' <<<"$out"
}

declare -A best
for round in $(seq "$ROUNDS"); do
	for front in nginx decagon; do
		port=$NGINX_PORT
		[[ $front == decagon ]] && port=$DECAGON_PORT
		read -r rps p50 p99 cpu st <<<"$(run "$port")"
		echo "round $round $front: $rps req/s, p50 ${p50}us, p99 ${p99}us, ${cpu}us CPU/req, statuses$st" >&2
		if [[ -z ${best[$front]:-} ]] || awk -v a="$rps" -v b="${best[$front]%% *}" 'BEGIN {exit !(a > b)}'; then
			best[$front]="$rps $p50 $p99 $cpu"
		fi
	done
done

read -r n_rps n_p50 n_p99 n_cpu <<<"${best[nginx]}"
read -r d_rps d_p50 d_p99 d_cpu <<<"${best[decagon]}"
echo
echo "best of $ROUNDS rounds, wrk -t$THREADS -c$CONNS -d$DURATION, mix 90% clean / 10% attacks"
echo "accuracy: decagon $accuracy, nginx+modsecurity $nginx_accuracy"
printf '| %-34s | %10s | %8s | %8s | %12s |\n' front "req/s" "p50 ms" "p99 ms" "CPU us/req"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "----------" "--------------"
printf '| %-34s | %10.0f | %8.2f | %8.2f | %12s |\n' "nginx + ModSecurity v3 + CRS (PL1)" "$n_rps" "$(bc -l <<<"$n_p50/1000")" "$(bc -l <<<"$n_p99/1000")" "$n_cpu"
printf '| %-34s | %10.0f | %8.2f | %8.2f | %12s |\n' "decagon WAF (Coraza + CRS v4, PL1)" "$d_rps" "$(bc -l <<<"$d_p50/1000")" "$(bc -l <<<"$d_p99/1000")" "$d_cpu"
printf 'ratio decagon / nginx: throughput %.2fx, p99 %.2fx, CPU per request %.2fx\n' \
	"$(bc -l <<<"$d_rps/$n_rps")" "$(bc -l <<<"$d_p99/$n_p99")" "$(bc -l <<<"$d_cpu/$n_cpu")"
[[ $accuracy == ok ]]
