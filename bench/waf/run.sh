#!/usr/bin/env bash
# WAF benchmark: nginx + ModSecurity v3 + OWASP CRS (Debian packages) against the whole decagon
# edge with its WAF on (`decagon edge`: WAF, stage router from api/openapi.yaml with the Cognito
# authorizer verifying a real RS256 access token on every request, stage validation and
# throttling, load balancer with health checks), both at CRS paranoia level 1, blocking, in front
# of the same fixed small-JSON backend on loopback, with the same wrk request mix (mix.tsv: 9
# clean API requests to 1 attack, every request with the same bearer token, which nginx passes
# through) and concurrency. Rounds alternate the two fronts; prints the median and the spread
# (min-max) of req/s, p50, p99 and the server CPU time per request, and the ratios. Fails if
# decagon lets an attack through (not 403) or refuses a clean request (not 200);
# nginx+ModSecurity's misses are reported.
#
# Usage: bench/waf/run.sh            (from the repository root; installs the packages it needs)
# Env:   DECAGON_BIN (a decagon binary to measure instead of building ./cmd/decagon)
#        DURATION (15s) WARMUP (5s) CONNS (32) THREADS (2) ROUNDS (5) KEEP (set: keep the logs)
#        BACKEND_PORT (18081) DECAGON_PORT (18082) NGINX_PORT (18083)
set -euo pipefail

cd "$(dirname "$0")/../.."
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
BACKEND_ADDR=127.0.0.1:${BACKEND_PORT:-18081}
export MIX=bench/waf/mix.tsv
DECAGON_PORT=${DECAGON_PORT:-18082}
NGINX_PORT=${NGINX_PORT:-18083}
CLIENT_ID=wafbenchclient0123456789

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
	if [[ -n ${KEEP:-} ]]; then echo "run directory (logs): $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

go build -trimpath -o "$dir/" ./bench/waf/backend ./bench/waf/issuer
if [[ -n ${DECAGON_BIN:-} ]]; then cp "$DECAGON_BIN" "$dir/decagon"; else go build -trimpath -o "$dir/" ./cmd/decagon; fi
"$dir/backend" -listen "$BACKEND_ADDR" & pids+=($!)
"$dir/issuer" -client-id "$CLIENT_ID" -out "$dir/token" & pids+=($!)
for _ in $(seq 100); do [[ -s $dir/token ]] && break; sleep 0.1; done
read -r ISSUER TOKEN <"$dir/token"
export TOKEN

# decagon.yaml as shipped, with a WAF rate-based rule the load cannot reach (one client IP
# sends every request); the stage's throttling is lifted with the edge's own flags.
sed -e 's/^\(    limit:\) 1000 /\1 2000000000 /' decagon.yaml >"$dir/decagon.yaml"
grep -q 'limit: 2000000000' "$dir/decagon.yaml" || { echo "could not raise waf.rateLimit.limit in the copy of decagon.yaml" >&2; exit 1; }
"$dir/decagon" edge --addr "127.0.0.1:$DECAGON_PORT" --config "$dir/decagon.yaml" \
	--target "tests=$BACKEND_ADDR" --target "uploads=$BACKEND_ADDR" \
	--auth-issuer "$ISSUER" --auth-client-id "$CLIENT_ID" \
	--stage-rate-limit 1000000 --stage-burst-limit 1000000 \
	--access-log '' 2>"$dir/edge.log" & pids+=($!)
edge_pid=${pids[2]}

mkdir -p "$dir"/{client_body,proxy,fastcgi,uwsgi,scgi}
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@BACKEND@|$BACKEND_ADDR|g" bench/waf/nginx.conf.in >"$dir/nginx.conf"
cp bench/waf/modsec.conf.in "$dir/modsec.conf"
nginx -t -c "$dir/nginx.conf" -p "$dir" 2>"$dir/nginx-t.log" || { cat "$dir/nginx-t.log"; exit 1; }
nginx -c "$dir/nginx.conf" -p "$dir"

wait_up() { # poll until the port answers 200 (the edge: once its target is healthy), 20 s at most
	for _ in $(seq 200); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health-check") == 200 ]] && return 0
		sleep 0.1
	done
	echo "port $1 did not come up" >&2
	tail -20 "$dir/edge.log" >&2
	exit 1
}
wait_up "$DECAGON_PORT"
wait_up "$NGINX_PORT"

# Accuracy: every request of the mix once, on both fronts.
check() { # port name
	local bad=0 kind method path header body code args
	while IFS=$'\t' read -r kind method path header body; do
		[[ $kind == \#* || -z $kind ]] && continue
		args=(-s -o /dev/null -w '%{http_code}' -X "$method" -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json')
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
# (Debian's CRS is 3.3, older than the CRS 4 decagon embeds). A forged token must get 401.
accuracy=ok
nginx_accuracy=ok
check "$NGINX_PORT" nginx+modsecurity || nginx_accuracy="misses (see above)"
check "$DECAGON_PORT" decagon || accuracy=FAILED
forged=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${TOKEN%?}x" "http://127.0.0.1:$DECAGON_PORT/test?limit=20")
[[ $forged == 401 ]] || { echo "ACCURACY decagon: a forged token got $forged, want 401" >&2; accuracy=FAILED; }

cpu_ticks() { # total utime+stime (clock ticks) of the given pids
	local t=0 p
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
server_pids() { # port -> pids of the server behind it (this run's nginx workers only)
	if [[ $1 == "$NGINX_PORT" ]]; then pgrep -P "$(cat "$dir/nginx.pid")" | tr '\n' ' '; else echo "$edge_pid"; fi
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

: >"$dir/rounds"
for round in $(seq "$ROUNDS"); do
	for front in nginx decagon; do
		port=$NGINX_PORT
		[[ $front == decagon ]] && port=$DECAGON_PORT
		read -r rps p50 p99 cpu st <<<"$(run "$port")"
		echo "round $round $front: $rps req/s, p50 ${p50}us, p99 ${p99}us, ${cpu}us CPU/req, load $(cut -d' ' -f1 /proc/loadavg), statuses$st" >&2
		echo "$front $rps $p50 $p99 $cpu" >>"$dir/rounds"
	done
done

# stat front column -> "median min max" of that column over the front's rounds
stat() {
	awk -v f="$1" -v c="$2" '$1 == f {print $c}' "$dir/rounds" | sort -g |
		awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}
row() { # front label
	local r p50 p99 cpu
	read -r -a r <<<"$(stat "$1" 2)"
	read -r -a p50 <<<"$(stat "$1" 3)"
	read -r -a p99 <<<"$(stat "$1" 4)"
	read -r -a cpu <<<"$(stat "$1" 5)"
	printf '| %s | %.0f (%.0f–%.0f) | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %.0f (%.0f–%.0f) |\n' "$2" \
		"${r[0]}" "${r[1]}" "${r[2]}" \
		"$(bc -l <<<"${p50[0]}/1000")" "$(bc -l <<<"${p50[1]}/1000")" "$(bc -l <<<"${p50[2]}/1000")" \
		"$(bc -l <<<"${p99[0]}/1000")" "$(bc -l <<<"${p99[1]}/1000")" "$(bc -l <<<"${p99[2]}/1000")" \
		"${cpu[0]}" "${cpu[1]}" "${cpu[2]}"
}
med() { stat "$1" "$2" | cut -d' ' -f1; }

echo
echo "median (min–max) of $ROUNDS interleaved rounds, wrk -t$THREADS -c$CONNS -d$DURATION, mix 90% clean / 10% attacks, $(nproc) CPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "accuracy: decagon $accuracy, nginx+modsecurity $nginx_accuracy"
echo "| front | req/s | p50 ms | p99 ms | CPU µs/req |"
echo "|---|---:|---:|---:|---:|"
row nginx "nginx + ModSecurity v3 + CRS 3.3 (PL1)"
row decagon "decagon edge: WAF (Coraza + CRS v4, PL1) + stage + authorizer + balancer"
printf 'ratio decagon / nginx (medians): throughput %.2fx, p99 %.2fx, CPU per request %.2fx\n' \
	"$(bc -l <<<"$(med decagon 2)/$(med nginx 2)")" "$(bc -l <<<"$(med decagon 4)/$(med nginx 4)")" "$(bc -l <<<"$(med decagon 5)/$(med nginx 5)")"
[[ $accuracy == ok ]]
