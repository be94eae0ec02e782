"""How long choosing the next comparative-judgement pair takes, per request.

    .venv/bin/python bench/pairing_bench.py [--scripts 200] [--judgements 2000] [--judges 10]

Prints the time of one `next_pair` call (median and worst of `--calls`): with a cached fit
(the scale refitted every 20 judgements, the fit's cost spread over them) and with a fresh
fit in every call. The target: well under 50 ms a call at 200 scripts and 2,000 judgements.
numpy's BLAS threads compete with the web server's own: compare with OPENBLAS_NUM_THREADS=1.
"""

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classroom.pairing import current_scale, next_pair, side_balance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=200)
    parser.add_argument("--judgements", type=int, default=2000)
    parser.add_argument("--judges", type=int, default=10)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scripts = list(range(args.scripts))
    truth = [rng.gauss(0, 2.5) for _ in scripts]
    judgements = []
    for _ in range(args.judgements):
        a, b = rng.sample(scripts, 2)
        p = 1 / (1 + math.exp(truth[b] - truth[a]))
        judgements.append((f"judge-{rng.randrange(args.judges)}", *((a, b) if rng.random() < p else (b, a))))
    sides = side_balance((a, b) for _, a, b in judgements)
    # A target above the judgements each script already has, so every call has work to do.
    target = 2 * args.judgements // args.scripts + 10

    def timed(scale_of) -> list[float]:
        times = []
        for call in range(args.calls):
            start = time.perf_counter()
            next_pair(
                scripts,
                judgements,
                f"judge-{call % args.judges}",
                rng=rng,
                target=target,
                sides=sides,
                scale=scale_of(),
            )
            times.append(time.perf_counter() - start)
        return times

    fits = []
    for _ in range(5):
        start = time.perf_counter()
        scale = current_scale(scripts, judgements)
        fits.append(time.perf_counter() - start)
    refit = statistics.median(fits)
    cached = timed(lambda: scale)
    fresh = timed(lambda: None)
    print(f"scripts {args.scripts:,}  judgements {args.judgements:,}  judges {args.judges}")
    print(f"one fit: median {refit * 1000:.1f} ms, worst {max(fits) * 1000:.1f} ms of 5")
    for label, times in (("cached fit", cached), ("fresh fit each call", fresh)):
        print(
            f"next_pair, {label}: median {statistics.median(times) * 1000:.1f} ms, "
            f"worst {max(times) * 1000:.1f} ms of {args.calls}"
        )
    print(f"  with a refit every 20 judgements: {statistics.median(cached) * 1000 + refit * 1000 / 20:.1f} ms a call")


if __name__ == "__main__":
    main()
