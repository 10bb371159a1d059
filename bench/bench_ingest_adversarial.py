"""Worst-case time of inventory, virtual-file extraction and the manifest engine on 1 MB adversarial
files (target: well under a second each; every pattern is meant to be linear).

Each input repeats a prefix that one of the regexes anchors on, as SKILL.md, a shell script, a
Python script and a JavaScript file. Prints the slowest inputs.

    .venv/bin/python bench/bench_ingest_adversarial.py [--size BYTES] [--top N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable

from skillscan.bundle import assemble
from skillscan.config import Limits
from skillscan.manifest import ManifestAnalyzer
from skillscan.unpack import Collected

SEEDS = [
    "a", "\n", " ", "`", "``", "```", "```bash\n", "~~~", "    ```\n", "> ```sh\n", "$ ", "$(", "${A", "$A",
    "${A:-", "read -r -p ", "export A", "A=", "for A in ", "<<EOF\n", "function f() {", "| sh", "|", "curl ",
    "curl http://", "wget ", "iwr ", "bash -c ", "python -c ", "base64 -d ", "powershell -enc ", "nc -e ",
    "echo ", "chr(1)+", "chr(", "[char]1+", "[1, ", "[1,", "0x41, ", "0x41,", "\\x41", "\\u0041",
    "String.fromCharCode(1,", "aGVs", "aGVsbG8gd29y\n", "AAAA", "A" * 40 + "\n", "0123456789abcdef",
    "os.environ['A", "os.environ.get(", "os.getenv(\"", "process.env.", "process.env[\"", "$env:",
    "subprocess.run([\"", "exec(\"", "spawn('", "---\n", "- ", "a: ", "&a ", "*a ", "{", "[", "сurl ",
    "\u200b", "ｃ", "#", "# ", "%", "<", "\\",
]  # fmt: skip
KINDS = {"SKILL.md": "markdown", "scripts/a.sh": "shell", "scripts/a.py": "python", "scripts/a.js": "js"}


def inputs(size: int) -> Iterable[tuple[str, bytes]]:
    for seed in SEEDS:
        reps = max(1, size // max(1, len(seed.encode())))
        yield seed, (seed * reps).encode()[:size]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024 * 1024)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    limits = Limits()
    analyzer = ManifestAnalyzer()
    timings: list[tuple[float, float, str, str]] = []
    for seed, data in inputs(args.size):
        for path in KINDS:
            members = {path: data}
            if path != "SKILL.md":
                members["SKILL.md"] = b"---\nname: a\ndescription: b\n---\n"
            start = time.perf_counter()
            skill = assemble("bench", Collected(members=members), limits)
            mid = time.perf_counter()
            analyzer.analyze(skill)
            end = time.perf_counter()
            timings.append((mid - start, end - mid, seed, path))
    timings.sort(key=lambda t: -(t[0] + t[1]))
    print(
        f"{len(timings)} inputs of {args.size} bytes; slowest (inventory+virtual ms, manifest ms, seed, file):"
    )
    for inv, man, seed, path in timings[: args.top]:
        print(f"  {inv * 1000:8.1f} {man * 1000:8.1f}  {seed[:24]!r:28} {path}")
    print(
        f"worst inventory {max(t[0] for t in timings) * 1000:.0f} ms, worst manifest {max(t[1] for t in timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
