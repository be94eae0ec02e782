"""How long the comparative-judgement model takes to fit a large session.

    .venv/bin/python bench/bradley_terry_bench.py [--scripts 1000] [--judgements 20000]

Prints the time to fit (best of three), the iterations and the reliability. The issue's
target: 1,000 scripts and 20,000 judgements in under 2 s.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classroom.bradley_terry import fit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=1000)
    parser.add_argument("--judgements", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    truth = [rng.gauss(0, 2) for _ in range(args.scripts)]
    pairs = []
    for _ in range(args.judgements):
        a, b = rng.sample(range(args.scripts), 2)
        p = 1 / (1 + 2.718281828459045 ** (truth[b] - truth[a]))
        pairs.append((a, b) if rng.random() < p else (b, a))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = fit(pairs, range(args.scripts))
        times.append(time.perf_counter() - start)
    print(f"scripts {args.scripts:,}  judgements {args.judgements:,}")
    print(f"fit: best {min(times):.3f} s, worst {max(times):.3f} s of 3; {result.iterations} Newton iterations")
    print(f"SSR {result.ssr:.3f}")


if __name__ == "__main__":
    main()
