"""Sweeps survive real faults: a real `dask scheduler` and `dask worker` processes on 127.0.0.1,
killed with SIGKILL mid-sweep; Ctrl-C (SIGINT) to the `planner sweep` process; a case that kills
its worker every time; and a sweep over TLS with certificates made here (openssl)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import SCENARIOS

REF = SCENARIOS / "us_china_2030.yaml"
PLANNER = [sys.executable, "-m", "planner.cli"]
#: Cases on the full path (a discount rate is not a cost-only key): ~0.1-0.3 s each, slow enough to
#: kill something mid-sweep.
VALUES = [round(0.04 + 0.005 * i, 3) for i in range(12)]
VARY = "discount_rate=" + ",".join(str(v) for v in VALUES)

pytest.importorskip("distributed")


def _dask() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dask")
    if not found:
        pytest.skip("the `dask` command (dask[distributed]) is not installed")
    return [found]


class Cluster:
    """A `dask scheduler` and *n* `dask worker` processes on 127.0.0.1 (optionally TLS), all started at once.

    The workers find the scheduler through its scheduler file (they wait for it), and run without a
    nanny: ``kill -9`` of a worker's process kills the worker itself, and nothing restarts it.
    """

    def __init__(self, folder: Path, n: int = 2, tls: tuple[Path, Path, Path] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        sched_file = folder / "scheduler.json"
        sched_file.unlink(missing_ok=True)
        tls_args: list[str] = []
        if tls:
            ca, cert, key = tls
            tls_args = ["--tls-ca-file", str(ca), "--tls-cert", str(cert), "--tls-key", str(key)]
        env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        self.logs = [open(folder / "scheduler.log", "w")]
        self.scheduler = subprocess.Popen(
            _dask() + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                       str(sched_file), *(["--protocol", "tls"] if tls else []), *tls_args],
            stdout=self.logs[0], stderr=subprocess.STDOUT, cwd=folder, env=env,
        )
        self.workers = []
        for i in range(n):
            log = open(folder / f"worker{i}.log", "w")
            self.logs.append(log)
            self.workers.append(subprocess.Popen(
                _dask() + ["worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--no-nanny",
                           "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0", "--death-timeout", "30",
                           *tls_args],
                stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=env,
            ))
        deadline = time.monotonic() + 60
        self.address = None
        while self.address is None:
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                self.close()
                pytest.fail("dask scheduler did not start: " + (folder / "scheduler.log").read_text()[-2000:])
            try:
                self.address = json.loads(sched_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
        self._wait_for_workers(n, tls)

    def _wait_for_workers(self, n: int, tls: tuple[Path, Path, Path] | None) -> None:
        from distributed import Client

        from planner.sweep import security_from

        sec = security_from(*(str(p) for p in tls)) if tls else None
        with Client(self.address, timeout="30s", security=sec) as client:
            client.wait_for_workers(n, timeout=90)

    def close(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.kill()
        for p in [*self.workers, self.scheduler]:
            p.wait(timeout=30)
        for log in self.logs:
            log.close()


def _parts(out: Path) -> int:
    return len(list((out / "checkpoint").glob("rows-*.parquet")))


def _start_sweep(out: Path, *extra: str) -> subprocess.Popen:
    # one case per task, a checkpoint part per finished case: the test sees each case arrive
    cmd = [*PLANNER, "sweep", str(REF), "--vary", VARY, "--no-progress", "-o", str(out), "--batch-size", "1",
           "--checkpoint-every", "0", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_parts(proc: subprocess.Popen, out: Path, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while _parts(out) < n:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before {n} cases were checkpointed: {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no checkpoint parts appeared")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def uninterrupted() -> pd.DataFrame:
    """The reference answer: the same cases in one serial run, nothing killed."""
    from planner.sweep import grid_cases, run_sweep

    return run_sweep(REF, grid_cases({"discount_rate": VALUES}), scheduler="serial", progress=False)


def _same_as(df: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert sorted(df["case_id"]) == list(range(len(VALUES)))  # every case exactly once
    assert (df["status"] == "optimal").all(), df["error"].tolist()
    num = [c for c in ref.columns if c.endswith(("_usd", "_mw", "_yr")) or "_mw_" in c]
    pd.testing.assert_frame_equal(df.sort_values("case_id")[num].reset_index(drop=True), ref[num], rtol=1e-9, atol=1e-6)


# --------------------------------------------------------------------------- a worker dies


def test_kill_9_a_worker_mid_sweep_and_every_case_is_done(tmp_path, uninterrupted):
    cluster = Cluster(tmp_path / "dask")
    try:
        out = tmp_path / "sweep"
        proc = _start_sweep(out, "--scheduler", cluster.address)
        _wait_parts(proc, out, 2)
        cluster.workers[0].send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
        _same_as(pd.read_parquet(out / "sweep.parquet"), uninterrupted)
        assert not (out / "checkpoint").exists()  # compacted
    finally:
        cluster.close()


# --------------------------------------------------------------------------- the scheduler dies


def test_kill_9_the_scheduler_then_resume_with_a_fresh_one(tmp_path, uninterrupted):
    cluster = Cluster(tmp_path / "dask1")
    out = tmp_path / "sweep"
    try:
        proc = _start_sweep(out, "--scheduler", cluster.address, "--scheduler-timeout", "3")
        _wait_parts(proc, out, 2)
        cluster.scheduler.send_signal(signal.SIGKILL)
        t_loss = time.monotonic()
        _, err = proc.communicate(timeout=120)
        ended_s = time.monotonic() - t_loss
    finally:
        cluster.close()
    assert proc.returncode == 5, err[-2000:]
    assert ended_s < 60
    assert cluster.address in err and "--resume" in err
    kept = pd.read_parquet(out / "sweep.parquet")
    assert 2 <= len(kept) < len(VALUES)  # the finished cases are kept, and the sweep really was cut short
    assert json.loads((out / "sweep.json").read_text())["scheduler_lost"] is True
    print(f"scheduler loss: the sweep ended {ended_s:.1f} s after the kill, with {len(kept)} cases kept")

    fresh = Cluster(tmp_path / "dask2")
    try:
        done = subprocess.run([*PLANNER, "sweep", "--resume", str(out), "--scheduler", fresh.address, "--no-progress"],
                              capture_output=True, text=True, timeout=180)
    finally:
        fresh.close()
    assert done.returncode == 0, done.stderr[-2000:]
    _same_as(pd.read_parquet(out / "sweep.parquet"), uninterrupted)
    places = pd.read_parquet(out / "sweep_placements.parquet")
    assert sorted(places["case_id"].unique()) == list(range(len(VALUES)))
    assert not places.duplicated(["case_id", "region_id", "year"]).any()


# --------------------------------------------------------------------------- Ctrl-C, then resume


def test_ctrl_c_keeps_the_finished_cases_and_resume_completes(tmp_path, uninterrupted):
    out = tmp_path / "sweep"
    proc = _start_sweep(out, "--scheduler", "serial")
    _wait_parts(proc, out, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    kept = pd.read_parquet(out / "sweep.parquet")
    assert 2 <= len(kept) < len(VALUES)
    assert f"planner sweep --resume {out}" in err

    # resuming with other cases is refused in one line, and writes nothing
    before = sorted(p.name for p in (out / "checkpoint").iterdir())
    bad = subprocess.run([*PLANNER, "sweep", str(REF), "--vary", "discount_rate=0.05,0.06", "--resume", str(out),
                          "--scheduler", "serial"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "differ from the 12 stored" in bad.stderr
    assert sorted(p.name for p in (out / "checkpoint").iterdir()) == before

    done = subprocess.run([*PLANNER, "sweep", "--resume", str(out), "--scheduler", "serial", "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "12 case(s), 12 solved" in done.stdout
    _same_as(pd.read_parquet(out / "sweep.parquet"), uninterrupted)


# --------------------------------------------------------------------------- a case that kills its worker


def test_a_case_that_kills_its_worker_each_time_is_recorded_as_failed():
    from planner.sweep import grid_cases, run_sweep

    cases = grid_cases({"carbon_price_usd_per_tco2.US": [0, 10, 20, 30, 40, 50]})
    df = run_sweep(REF, cases, n_workers=2, progress=False, batch_size=1, max_retries=1, fast=True, _kill_cases=[4])
    assert sorted(df["case_id"]) == list(range(6))
    bad = df[df["status"] == "error"]
    assert bad["case_id"].tolist() == [4]
    assert "killed its worker" in bad["error"].iloc[0]
    assert (df.loc[df["case_id"] != 4, "status"] == "optimal").all()


# --------------------------------------------------------------------------- TLS


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and one certificate (CN and SAN 127.0.0.1) signed by it, made with openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed")
    ca_key, ca, key, csr, cert, ext = (folder / n for n in ("ca.key", "ca.pem", "node.key", "node.csr", "node.pem", "ext.cnf"))
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = lambda *a: subprocess.run([openssl, *a], check=True, capture_output=True, timeout=60)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "1",
        "-subj", "/CN=planner-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(cert),
        "-days", "1", "-extfile", str(ext))
    return ca, cert, key


def test_a_sweep_over_tls(tmp_path):
    from distributed import Client

    from planner.sweep import SweepError, run_sweep, security_from

    ca, cert, key = _certificates(tmp_path)
    cluster = Cluster(tmp_path / "dask", n=1, tls=(ca, cert, key))
    try:
        assert cluster.address.startswith("tls://")
        out = tmp_path / "sweep"
        done = subprocess.run(
            [*PLANNER, "sweep", str(REF), "--vary", "carbon_price_usd_per_tco2.US=0,75", "--scheduler", cluster.address,
             "--tls-ca-file", str(ca), "--tls-cert", str(cert), "--tls-key", str(key), "-o", str(out), "--no-progress"],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        df = pd.read_parquet(out / "sweep.parquet")
        assert (df["status"] == "optimal").all() and df["objective_usd"].nunique() == 2
        # the Python API takes a distributed.Security
        sec = security_from(str(ca), str(cert), str(key))
        assert sec.require_encryption
        with Client(cluster.address, security=sec, timeout="20s") as client:
            api = run_sweep(REF, [{"carbon_price_usd_per_tco2.US": 75}], scheduler=client, progress=False)
        assert api["objective_usd"].iloc[0] == pytest.approx(df["objective_usd"].iloc[1], rel=1e-9)
        # without the certificates, the scheduler is out of reach
        with pytest.raises(SweepError, match="cannot reach"):
            run_sweep(REF, [{}], scheduler=cluster.address.replace("tls://", "tcp://"), progress=False, connect_timeout=1.5)
    finally:
        cluster.close()
