"""Time Markdown rendering on the worst inputs found (security review M3; not part of the test suite).

    .venv/bin/python bench/markdown_bench.py [--lengths 1000,4000,15000] [--before] [--limit 10]

The inputs are WORST in tests/test_hardening_markdown.py (each made at exactly the length
asked). One line per input: the CPU seconds `crisis.markdown.render_html` takes (what saving
a lesson does; pages only show the result), best of --runs. With --before, a second line
times python-markdown as every page view used to run it (no cap, nothing bounded), each
render in a child process stopped after --limit CPU seconds (">10" in the table).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")


def cpu_seconds(render, text: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        render(text)
        best = min(best, time.process_time() - started)
    return best


def plain_python_markdown(text: str) -> str:
    """The rendering every page view did before M3 (crisis/markdown.py at the time)."""
    import markdown

    from crisis.markdown import clean_html

    return clean_html(markdown.markdown(text, extensions=["sane_lists", "tables"], output_format="html"))


class OutOfTime(Exception):
    pass


def _out_of_time(signum, frame):
    raise OutOfTime


def before(name: str, length: int, limit: float) -> str:
    """Time the old rendering in a child process, stopped after `limit` CPU seconds of rendering."""
    command = [sys.executable, __file__, "--one", name, "--lengths", str(length), "--limit", str(limit)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=limit * 10 + 120, check=False)
    if result.returncode:
        return result.stderr.strip().splitlines()[-1].split(":")[0]  # e.g. RecursionError
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="1000,4000,15000", help="comma-separated lengths in characters")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", action="store_true", help="also time python-markdown as pages used it")
    parser.add_argument("--limit", type=float, default=10, help="CPU seconds before an old render is stopped")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one old render, in a child process
    args = parser.parse_args()
    django.setup()
    from crisis.markdown import render_html
    from tests.test_hardening_markdown import WORST

    lengths = [int(n) for n in args.lengths.split(",")]
    if args.one:
        plain_python_markdown("*warm up*")
        text = WORST[args.one](lengths[0])
        signal.signal(signal.SIGPROF, _out_of_time)
        signal.setitimer(signal.ITIMER_PROF, args.limit)  # CPU time, so a busy machine does not count
        try:
            seconds = cpu_seconds(plain_python_markdown, text, 1)
        except OutOfTime:
            print(f">{args.limit:g}")
        else:
            print(f"{seconds:.3f}")
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        return
    render_html("*warm up*")
    width = max(len(name) for name in WORST) + 2
    print(f"{'input':{width}}{'':8}" + "".join(f"{n:>10,}" for n in lengths) + "   (CPU seconds)")
    for name, make in WORST.items():
        after = [f"{cpu_seconds(render_html, make(n), args.runs):.3f}" for n in lengths]
        print(f"{name:{width}}{'now':8}" + "".join(f"{t:>10}" for t in after), flush=True)
        if args.before:
            old = [before(name, n, args.limit) for n in lengths]
            print(f"{'':{width}}{'before':8}" + "".join(f"{t:>10}" for t in old), flush=True)


if __name__ == "__main__":
    main()
