"""One loading step in a fresh process, so that its peak memory is its own.

Run by the loading benchmark as ``python -m bench.probe STEP CIFAR_DIR [SPLITS_JSON]``
(SPLITS_JSON: keyword arguments of ``get_CIFAR10_data`` such as ``{"num_training": 200}``); prints one JSON line: the seconds the step took, the process's peak resident memory before and after it (bytes), and
the bytes of the arrays it returned.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from cs231n.data_utils import get_CIFAR10_data, load_CIFAR10

STEPS = {
    "load_CIFAR10 uint8": lambda folder, splits: load_CIFAR10(folder, dtype=np.uint8),
    "load_CIFAR10 float64": lambda folder, splits: load_CIFAR10(folder, dtype=np.float64),
    "get_CIFAR10_data float64": lambda folder, splits: get_CIFAR10_data(dtype=np.float64, cifar10_dir=folder, **splits),
    "get_CIFAR10_data float32": lambda folder, splits: get_CIFAR10_data(dtype=np.float32, cifar10_dir=folder, **splits),
}


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kilobytes


def _array_bytes(result) -> int:
    values = result.values() if isinstance(result, dict) else result
    return int(sum(value.nbytes for value in values))


def main(argv) -> int:
    if len(argv) not in (2, 3) or argv[0] not in STEPS:
        print(f"usage: python -m bench.probe STEP CIFAR_DIR [SPLITS_JSON], STEP one of "
              f"{sorted(STEPS)}; got {argv}", file=sys.stderr)
        return 2
    step, folder = argv[:2]
    splits = json.loads(argv[2]) if len(argv) == 3 else {}
    before = _peak_rss_bytes()
    start = time.perf_counter()
    result = STEPS[step](folder, splits)
    seconds = time.perf_counter() - start
    print(json.dumps({"step": step, "seconds": seconds, "peak_before": before, "peak_after": _peak_rss_bytes(),
                      "output_bytes": _array_bytes(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
