#!/usr/bin/env bash
# Detection quality on the labelled corpora: the numbers of the Detection-I closing note.
#
#   bash bench/eval_corpus.sh            # shared corpus (../shared/corpus) + corpus/ of this repo
#   BATCH=100 bash bench/eval_corpus.sh  # skills per scanner call (one Semgrep run per batch)
#
# Prints a summary of `skillscan eval` for each manifest and keeps its full JSON in
# bench/out/ (recall per sample and per distinct SKILL.md, false-positive rates per origin class
# and category, every miss and false alarm with its top finding, skills/second).
set -euo pipefail
cd "$(dirname "$0")/.."
BATCH=${BATCH:-100}
OUT=bench/out
mkdir -p "$OUT"
SKILLSCAN=${SKILLSCAN:-.venv/bin/skillscan}

run() {
  local name=$1 manifest=$2
  if [ ! -f "$manifest" ]; then
    echo "== $name: $manifest not found, skipped"
    return
  fi
  echo "== $name: $SKILLSCAN eval $manifest --batch-size $BATCH"
  "$SKILLSCAN" eval "$manifest" --batch-size "$BATCH" --json -q > "$OUT/eval_$name.json"
  .venv/bin/python - "$OUT/eval_$name.json" <<'PY'
import json, sys
from pathlib import Path


d = json.loads(Path(sys.argv[1]).read_text())
def pct(v):
    return "n/a" if v is None else f"{100 * v:.2f}%"
print(f"skills {d['skills']} in {d['seconds']:.1f} s ({d['skills_per_second']:.2f} skills/s)")
for origin, r in [("all", d["overall"]), *d["by_origin"].items()]:
    print(
        f"  {origin:<20} malicious {r['malicious']:>4} ({r['malicious_distinct']} distinct): recall {pct(r['recall'])}, "
        f"distinct {pct(r['recall_distinct'])}, malicious-verdict {pct(r['recall_malicious_verdict'])} | "
        f"benign {r['benign']:>4}: FP malicious {pct(r['fp_malicious'])}, FP suspicious/indeterminate "
        f"{pct(r['fp_suspicious_or_indeterminate'])}"
    )
for key in ("misses", "false_alarms", "label_noise", "vulnerable", "errors"):
    items = d[key]
    print(f"  {key}: {len(items)}")
    for o in items:
        top = o["top_finding"]
        why = f"{top['rule_id']} ({top['severity']}) {top['path']}:{top['line']}" if top else (o["error"] or "-")
        absent = f" (not in the corpus: {o['skipped']})" if o.get("skipped") else ""
        print(f"    {o['verdict']:<13} {o['path']} [{o['origin']}] {why}{absent}")
PY
}

run shared ../shared/corpus/MANIFEST.tsv
run own corpus/labels.tsv
