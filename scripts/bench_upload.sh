#!/usr/bin/env bash
# Measures uploads (POST /v1/collections/{c}/files) against `quarry ingest`
# of the same files: ~100 MB of mixed files (Markdown, text, HTML, CSV,
# DOCX, JSONL), BM25-only collections. Prints the CLI's and the server's
# wall time and the server's RSS growth (VmHWM at the end minus VmRSS after
# start-up). Usage: scripts/bench_upload.sh [MB] [mixed|jsonl] [ROUNDS];
# jsonl is one JSONL file of MB (21 KB records) in one request instead.
# ROUNDS (default 3) alternates a CLI ingest and an upload to a fresh server
# that many times, so that both halves of a ratio meet the same load on a
# shared machine; each round is printed, then the median ratio and the
# largest growth.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-100}
KIND=${2:-mixed}
ROUNDS=${3:-3}
work=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/quarry" ./cmd/quarry
python3 - "$work/files" "$MB" "$KIND" <<'PY'
import os, random, sys, zipfile, json
out, mb, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out)
random.seed(1)
words = "granite basalt quartz feldspar magma lava crystal mineral sediment erosion river valley glacier fault plate mantle crust ocean ridge volcano".split()
def para(n): return " ".join(random.choice(words) for _ in range(n)) + "."
total, i = 0, 0
if kind == "jsonl":
    with open(os.path.join(out, "big.jsonl"), "w") as f:
        while total < mb * 1_000_000:
            line = json.dumps({"id": f"r{i}", "text": " ".join(random.choice(words) for _ in range(3000))}) + "\n"
            f.write(line); total += len(line); i += 1
    print(f"1 file, {i} records, {total/1e6:.1f} MB", file=sys.stderr)
    sys.exit(0)
while total < mb * 1_000_000:
    kind = i % 6
    body = "\n\n".join(para(80) for _ in range(200))  # ~100 KB of prose
    p = os.path.join(out, f"f{i:05d}")
    if kind == 0: p += ".md"; open(p, "w").write("# Doc %d\n\n" % i + body)
    elif kind == 1: p += ".txt"; open(p, "w").write(body)
    elif kind == 2: p += ".html"; open(p, "w").write("<html><body><main>" + "".join("<p>%s</p>" % x for x in body.split("\n\n")) + "</main></body></html>")
    elif kind == 3: p += ".csv"; open(p, "w").write("a,b,c\n" + "\n".join("%s,%s,%s" % (para(5), para(5), para(5)) for _ in range(700)))
    elif kind == 4:
        p += ".docx"
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>' + "".join("<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % x for x in body.split("\n\n")) + "</w:body></w:document>")
    else:
        p += ".jsonl"; open(p, "w").write("".join(json.dumps({"id": f"j{i}-{k}", "text": para(80) * 3}) + "\n" for k in range(60)))
    total += os.path.getsize(p); i += 1
print(f"{i} files, {total/1e6:.1f} MB", file=sys.stderr)
PY
# 8 requests of ~12 MB each, files streamed by curl; round-robin, so
# that most documents land between stored ones.
ls "$work/files" | split -n r/8 - "$work/batch."
for b in "$work"/batch.??; do [ -s "$b" ] || rm "$b"; done
upload() { # upload PORT [OUTSUFFIX]
	for b in "$work"/batch.??; do
		args=()
		while read -r f; do args+=(-F "files=@$work/files/$f"); done < "$b"
		curl -sf -o "$b.out${2:-}" "${args[@]}" "http://127.0.0.1:$1/v1/collections/default/files"
	done
}
ratios=() growths=()
for round in $(seq "$ROUNDS"); do
	rm -rf "$work/cli" "$work/srv"
	# Each timed half starts with no dirty pages left by the other: the
	# kernel's writeback of one half's store would slow the other's fsyncs.
	sync
	t0=$(date +%s.%N)
	# The CLI's peak RSS, for comparison: both hold the same in-memory index.
	python3 -c 'import resource,subprocess,sys; subprocess.run(sys.argv[2:], check=True, stdout=open(sys.argv[1],"w")); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss//1024)' \
		"$work/cli.json" "$work/quarry" ingest --data-dir "$work/cli" "$work/files" --json > "$work/cli.rss"
	t1=$(date +%s.%N)
	cli_s=$(echo "$t1 - $t0" | bc)
	port=$((20000 + RANDOM % 20000))
	"$work/quarry" serve --data-dir "$work/srv" --addr 127.0.0.1:$port >"$work/serve.log" 2>&1 &
	srv=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
	rss0=$(awk '/VmRSS/{print $2}' /proc/$srv/status)
	sync
	t0=$(date +%s.%N)
	upload $port
	t1=$(date +%s.%N)
	srv_s=$(echo "$t1 - $t0" | bc)
	hwm=$(awk '/VmHWM/{print $2}' /proc/$srv/status)
	# What the server holds now: anonymous memory (heap) and file pages (the
	# binary, the store's map).
	anon=$(awk '/RssAnon/{print $2}' /proc/$srv/status) file=$(awk '/RssFile/{print $2}' /proc/$srv/status)
	docs=$(curl -sf "http://127.0.0.1:$port/v1/collections/default" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["documents"])')
	errs=$(cat "$work"/batch.??.out | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin for r in json.loads(l)["results"] if r.get("error")))')
	ratio=$(echo "scale=2; $srv_s / $cli_s" | bc)
	ratios+=("$ratio") growths+=($(((hwm-rss0)/1024)))
	echo "round=$round cli_ingest_seconds=$cli_s cli_documents=$(python3 -c 'import json;print(json.load(open("'$work/cli.json'"))["documents"])') upload_seconds=$srv_s server_documents=$docs file_errors=$errs ratio_upload_over_cli=$ratio"
	echo "round=$round server_rss_start_mb=$((rss0/1024)) server_peak_rss_mb=$((hwm/1024)) growth_mb=$(((hwm-rss0)/1024)) cli_peak_rss_mb=$(cat "$work/cli.rss") server_after_upload_anon_mb=$((anon/1024)) server_after_upload_file_mb=$((file/1024))"
	if [ "$round" = "$ROUNDS" ]; then
		# Pass 2: the same files again (all unchanged): the whole upload path —
		# multipart parsing, spooling, loading, hashing — without index growth.
		echo 5 > /proc/$srv/clear_refs 2>/dev/null || true
		rss1=$(awk '/VmRSS/{print $2}' /proc/$srv/status)
		t2=$(date +%s.%N)
		upload $port .2
		t3=$(date +%s.%N)
		hwm2=$(awk '/VmHWM/{print $2}' /proc/$srv/status)
		echo "second_pass_unchanged_seconds=$(echo "$t3 - $t2" | bc) second_pass_rss_start_mb=$((rss1/1024)) second_pass_peak_rss_mb=$((hwm2/1024)) second_pass_growth_mb=$(((hwm2-rss1)/1024))"
	fi
	kill $srv; wait $srv 2>/dev/null || true; srv=
done
echo "ratios=${ratios[*]} median_ratio=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') growths_mb=${growths[*]} max_growth_mb=$(printf '%s\n' "${growths[@]}" | sort -n | tail -1)"
