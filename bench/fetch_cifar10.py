"""Timings of the CIFAR-10 fetch on the rebuilt archive: loopback download, verify, unpack, second run.

Run from the repository root (the figures in the README come from this command):

    .venv/bin/python -m bench.fetch_cifar10 [--archive ../shared/datasets/cifar-10-python.tar.gz]

The archive is served by a separate process on 127.0.0.1 (so the server does not compete with the client
for the interpreter lock). Each phase runs through the fetch package's own functions, then the whole
command runs as students run it; every figure is the median of --repeat runs, with the ratio to the
download time beside it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cifar10_fetch.download import download
from cifar10_fetch.install import swap_into_place, unpack
from cifar10_fetch.verify import Expected, check_copy, verify_archive
from instructor.course import REPO_ROOT, SHARED_ARCHIVE as DEFAULT_ARCHIVE

# The loopback server beside this file, run as a script (it serves the archive on 127.0.0.1 only).
HTTP_SERVER = Path(__file__).with_name("http_server.py")


def _timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


def _command(env: dict, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "datasets" / "fetch_cifar10.py"), "--quiet", *args],
        env=env, check=True, cwd=str(REPO_ROOT),
    )
    return time.perf_counter() - started


def _one_round(url: str, md5: str, sha256: str, scratch: Path) -> dict:
    times = {}
    workdir = scratch / "phases"
    workdir.mkdir()
    part = workdir / "cifar-10-python.tar.gz.part"
    with_md5 = Expected(md5=md5, sha256=None, size=None)
    times["download (loopback HTTP)"] = _timed(download, url, part, with_md5, lambda note: None, quiet=True)
    times["verify md5"] = _timed(verify_archive, part, with_md5, url)
    times["verify sha256"] = _timed(verify_archive, part, Expected(md5=None, sha256=sha256, size=None), url)
    started = time.perf_counter()
    new_copy = unpack(part, workdir, {"url": url}, quiet=True)
    times["unpack + manifest (sha256, fsync)"] = time.perf_counter() - started
    target = workdir / "cifar-10-batches-py"
    times["swap into place"] = _timed(swap_into_place, new_copy, target, lambda note: None)
    if shutil.which("tar"):
        # Reference point: GNU tar unpacking the same file, with no checks, hashing or fsync.
        (workdir / "gnu-tar").mkdir()
        started = time.perf_counter()
        subprocess.run(["tar", "-xzf", str(part), "-C", str(workdir / "gnu-tar")], check=True)
        times["reference: tar -xzf (no checks)"] = time.perf_counter() - started
    times["second-run check (sizes)"] = _timed(check_copy, target, full=False)
    times["--check (sha256 of every file)"] = _timed(check_copy, target, full=True)

    destination = scratch / "command" / "cifar-10-batches-py"
    env = dict(os.environ, CIFAR10_URL=url, CIFAR10_MD5=md5, CIFAR10_DIR=str(destination))
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    times["command: first run (all steps)"] = _command(env)
    times["command: second run (process)"] = _command(env)
    times["command: --check (process)"] = _command(env, "--check")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    times["python -c pass (start-up only)"] = time.perf_counter() - started
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="archive to serve (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported (default 3)")
    args = parser.parse_args()
    if not args.archive.is_file():
        print(f"{args.archive} not found: pass --archive PATH", file=sys.stderr)
        return 1
    md5 = args.archive.with_name(args.archive.name + ".md5").read_text().split()[0]
    sha256 = args.archive.with_name(args.archive.name + ".sha256").read_text().split()[0]
    size_mb = args.archive.stat().st_size / 1e6
    server = subprocess.Popen(
        [sys.executable, str(HTTP_SERVER), str(args.archive)], stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip()
        rounds = []
        for _ in range(args.repeat):
            scratch = Path(tempfile.mkdtemp(prefix="cifar-bench-"))
            try:
                rounds.append(_one_round(url, md5, sha256, scratch))
            finally:
                shutil.rmtree(scratch)
    finally:
        server.terminate()
        server.wait()
    medians = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    download_time = medians["download (loopback HTTP)"]
    print(f"archive: {args.archive} ({size_mb:.1f} MB, rebuilt CIFAR-10); {args.repeat} rounds, medians; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'phase':36s} {'seconds':>8s} {'MB/s':>8s} {'x download':>11s}")
    for name, seconds in medians.items():
        moves_the_archive = not name.startswith(("second", "command: second", "python", "swap"))
        rate = f"{size_mb / seconds:8.0f}" if moves_the_archive else " " * 8
        print(f"{name:36s} {seconds:8.3f} {rate} {seconds / download_time:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
