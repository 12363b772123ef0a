"""Running a sweep: serially or on Dask, with checkpoints, resume and fault handling.

* **Checkpoints.** Every finished batch of cases is written at once to
  ``OUTDIR/checkpoint/`` as a Parquet part (rows and placements); at the end the
  parts are compacted into ``sweep.parquet`` and ``sweep_placements.parquet``.
  An interruption of any kind leaves every finished case on disk, and
  ``OUTDIR/sweep_spec.json`` holds what is needed to resume.
* **Resume.** ``run_sweep(..., resume=True)`` (``planner sweep --resume OUTDIR``)
  runs only the cases not yet in the checkpoint, after checking that the base
  scenario hash and the case list are the stored ones.
* **Scheduler loss.** When the client has lost its scheduler for longer than
  *scheduler_timeout* seconds, the sweep writes what it has and raises
  :class:`~planner.sweep.common.SchedulerLost` (exit code 5).
* **Worker loss.** Dask re-runs the tasks of a lost worker (at most
  ``distributed.scheduler.allowed-failures`` times, *max_retries* on a
  LocalCluster). A batch that still fails is split into single cases, each run
  alone (nothing else in flight, since Dask counts a worker's death against every
  task it held); a case that kills its worker every time is recorded as failed
  with the reason, and the cases that shared its worker complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.scenario import Scenario, load_scenario
from planner.sweep.cases import keys_of, looks_like_tornado, representative_values, validate_values
from planner.sweep.common import ResumeError, SchedulerLost, SweepError, SweepInterrupted, is_number, one_line
from planner.sweep.engine import Batch, SweepPlan, engine_for, make_plan, run_batch
from planner.sweep.outputs import _cell, _get_path, plot_response, plot_tornado

#: Seconds to wait for a ``--scheduler`` address before giving up.
CONNECT_TIMEOUT_S = 5.0
#: Seconds without a scheduler before the sweep gives up (``--scheduler-timeout``).
SCHEDULER_TIMEOUT_S = 30.0
#: Seconds between checkpoint writes at most (``--checkpoint-every``); finished cases are written at
#: once on Ctrl-C, a lost scheduler or the end.
CHECKPOINT_EVERY_S = 1.0
#: Attempts of a task whose worker dies, on a LocalCluster (``--max-retries``).
MAX_RETRIES = 2
#: Format of ``sweep_spec.json``.
SPEC_FORMAT = 1
SPEC_FILE = "sweep_spec.json"
CHECKPOINT_DIR = "checkpoint"
log = logging.getLogger("planner.sweep")
META_COLUMNS = ["case_id", "status", "solve_mode", "error", "seconds", "worker"]


# =========================================================================== checkpoints


class Checkpoint:
    """Finished batches as Parquet parts in ``OUTDIR/checkpoint/`` (each written atomically)."""

    def __init__(self, outdir: Path, plan: SweepPlan) -> None:
        self.dir = Path(outdir) / CHECKPOINT_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        self.plan = plan
        self.seq = len(list(self.dir.glob("rows-*.parquet")))
        self.done = 0

    def write(self, batch: Batch) -> None:
        """Append one batch (rows, then placements; a part counts once its rows file exists)."""
        rows, place = batch_frames(batch, self.plan)
        tag = f"{self.seq:06d}-{os.getpid()}-{time.time_ns() % 10**9:09d}"
        self.seq += 1
        _atomic_parquet(place, self.dir / f"place-{tag}.parquet")
        _atomic_parquet(rows, self.dir / f"rows-{tag}.parquet")
        self.done += len(batch.case_id)

    def read(self, arrow: bool = False) -> tuple[pd.DataFrame, Any]:
        """All finished rows and placements so far (each case once: the first part that has it)."""
        return read_checkpoint(self.dir, arrow=arrow)


PLACE_COLUMNS = ["case_id", "region_id", "year", "it_load_mw"]


def read_checkpoint(folder: Path, arrow: bool = False) -> tuple[pd.DataFrame, Any]:
    """Rows and placements of every complete part in *folder*, each case once.

    A case written twice (a batch re-run after a fault) counts from the first part that has its row,
    and its placements from that part only. The placements come back sorted by case, zone and year,
    as a ``pandas.DataFrame``, or with *arrow* as a ``pyarrow.Table`` (a tenth of the memory of a
    frame of strings: the long table has about a hundred rows per case).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rows: list[pd.DataFrame] = []
    places: list[Any] = []
    seen = np.zeros(0, dtype=np.int64)  # case ids already taken from an earlier part
    for f in sorted(Path(folder).glob("rows-*.parquet")):
        r = pd.read_parquet(f)
        ids = r["case_id"].to_numpy(dtype=np.int64)
        new = ~np.isin(ids, seen)
        if not new.any():
            continue
        r = r[new].drop_duplicates("case_id", keep="first")
        rows.append(r)
        seen = np.union1d(seen, r["case_id"].to_numpy(dtype=np.int64))
        p = f.with_name("place-" + f.name[len("rows-"):])
        if p.exists():
            t = pq.read_table(p)
            if not new.all():
                t = t.filter(pc.is_in(t["case_id"], value_set=pa.array(r["case_id"].to_numpy(dtype=np.int64))))
            places.append(t.select(PLACE_COLUMNS).cast(_place_schema()))
    empty_rows = pd.DataFrame(columns=META_COLUMNS)
    table = pa.concat_tables(places) if places else _place_schema().empty_table()
    if table.num_rows:
        table = table.sort_by([("case_id", "ascending"), ("region_id", "ascending"), ("year", "ascending")])
    if not rows:
        return empty_rows, (table if arrow else table.to_pandas())
    r = pd.concat(rows, ignore_index=True).sort_values("case_id").reset_index(drop=True)
    return r, (table if arrow else _place_frame(table))


def _place_frame(table: Any) -> pd.DataFrame:
    df = table.to_pandas()
    df["region_id"] = df["region_id"].astype("string")
    return df


def _place_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("case_id", pa.int64()), ("region_id", pa.string()), ("year", pa.int64()), ("it_load_mw", pa.float64())])




def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, engine="pyarrow", index=False)
    os.replace(tmp, path)


def batch_frames(batch: Batch, plan: SweepPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A batch as a rows frame (meta columns, then the plan's numeric columns) and a placements frame."""
    data: dict[str, Any] = {
        "case_id": batch.case_id,
        "status": pd.array(batch.status, dtype="string"),
        "solve_mode": pd.array(batch.mode, dtype="string"),
        "error": pd.array(batch.error, dtype="string"),
        "seconds": batch.seconds,
        "worker": pd.array(_workers(batch), dtype="string"),
    }
    for j, c in enumerate(plan.columns):
        data[c] = batch.values[:, j] if len(batch.case_id) else np.zeros(0)
    keys = plan.kernel.place_keys + batch.place_extra
    regions = np.array([k[0] for k in keys], dtype=object)
    years = np.array([k[1] for k in keys], dtype=np.int64)
    place = pd.DataFrame(
        {
            "case_id": batch.place_case,
            "region_id": pd.array(regions[batch.place_key] if len(batch.place_key) else [], dtype="string"),
            "year": years[batch.place_key] if len(batch.place_key) else np.zeros(0, dtype=np.int64),
            "it_load_mw": batch.place_it_mw,
        }
    )
    return pd.DataFrame(data), place


# =========================================================================== the spec (for resume)


def _cases_hash(cases: Sequence[Mapping[str, Any]]) -> str:
    text = json.dumps([dict(c) for c in cases], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_spec(outdir: Path, scenario: Scenario, cases: list[dict[str, Any]], options: dict[str, Any]) -> None:
    """``OUTDIR/sweep_spec.json``: the base scenario, its hash, the cases and the options."""
    spec = {
        "format": SPEC_FORMAT,
        "base_scenario": scenario.name,
        "base_source": scenario.source,
        "base_dir": str(scenario.base_dir) if scenario.base_dir is not None else None,
        "scenario_hash": scenario.hash(),
        "scenario": scenario.model_dump(mode="json"),
        "cases_hash": _cases_hash(cases),
        "cases": cases,
        "options": options,
    }
    tmp = outdir / f".{SPEC_FILE}.tmp"
    tmp.write_text(json.dumps(spec, indent=1, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, outdir / SPEC_FILE)


def read_spec(outdir: str | Path) -> dict[str, Any]:
    """The stored spec of a sweep folder (one-line :class:`ResumeError` when there is none)."""
    path = Path(outdir) / SPEC_FILE
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResumeError(f"--resume {outdir}: no {SPEC_FILE} there; expected the output folder of an earlier sweep") from None
    except (OSError, ValueError) as exc:
        raise ResumeError(f"--resume {outdir}: {SPEC_FILE} cannot be read ({one_line(exc)[:120]})") from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise ResumeError(f"--resume {outdir}: {SPEC_FILE} has format {spec.get('format') if isinstance(spec, dict) else None!r}; expected {SPEC_FORMAT}")
    return spec


def stored_sweep(outdir: str | Path) -> tuple[Scenario, list[dict[str, Any]], dict[str, Any]]:
    """The base scenario, cases and options stored in *outdir* (for ``planner sweep --resume OUTDIR``)."""
    from planner.scenario import _validate

    spec = read_spec(outdir)
    base_dir = Path(spec["base_dir"]) if spec.get("base_dir") else None
    scenario = _validate(spec["scenario"], spec["base_source"], base_dir=base_dir)
    if scenario.hash() != spec["scenario_hash"]:
        raise ResumeError(
            f"--resume {outdir}: the stored base scenario no longer validates to hash {spec['scenario_hash'][:12]} "
            f"(now {scenario.hash()[:12]}); the planner or its schema changed, start a new sweep"
        )
    return scenario, [dict(c) for c in spec["cases"]], dict(spec.get("options") or {})


def check_resume(outdir: Path, scenario: Scenario, cases: list[dict[str, Any]]) -> None:
    spec = read_spec(outdir)
    if spec["scenario_hash"] != scenario.hash():
        raise ResumeError(
            f"--resume {outdir}: base scenario hash {scenario.hash()[:12]} ({scenario.name}) differs from the stored "
            f"{spec['scenario_hash'][:12]} ({spec['base_scenario']}); expected the same base scenario"
        )
    if spec["cases_hash"] != _cases_hash(cases):
        raise ResumeError(
            f"--resume {outdir}: these {len(cases)} cases differ from the {len(spec['cases'])} stored there; "
            "expected the same cases (or give --resume OUTDIR alone)"
        )


# =========================================================================== Dask


def security_from(tls_ca_file: str | None, tls_cert: str | None, tls_key: str | None) -> Any:
    """A ``distributed.Security`` requiring TLS, from certificate files (None when none is given).

    The same certificate and key serve the client (and a LocalCluster's scheduler and workers).
    """
    given = {"--tls-ca-file": tls_ca_file, "--tls-cert": tls_cert, "--tls-key": tls_key}
    if not any(given.values()):
        return None
    for flag, value in given.items():
        if not value:
            raise SweepError(f"{flag}: missing; TLS needs --tls-ca-file, --tls-cert and --tls-key together")
        if not Path(value).is_file():
            raise SweepError(f"{flag}: got {value!r}; expected an existing PEM file")
    from distributed.security import Security

    return Security(
        tls_ca_file=tls_ca_file, tls_client_cert=tls_cert, tls_client_key=tls_key,
        tls_scheduler_cert=tls_cert, tls_scheduler_key=tls_key, tls_worker_cert=tls_cert, tls_worker_key=tls_key,
        require_encryption=True,
    )


def _connect(scheduler: Any, n_workers: int | None, timeout: float, security: Any, max_retries: int) -> tuple[Any, Any, bool]:
    """(client, cluster-or-None, own_client)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        n = n_workers or _cores()
        config: dict[str, Any] = {"distributed.scheduler.allowed-failures": int(max_retries)}
        fork = _forkserver()
        if fork:
            config["distributed.worker.multiprocessing-method"] = "forkserver"
        with dask.config.set(config):
            if fork:
                _preload_forkserver()
            kw: dict[str, Any] = {}
            if security is not None:
                kw = {"security": security, "protocol": "tls://"}
            with warnings.catch_warnings():  # "Port 8787 is already in use": its health page moves, no dashboard runs
                warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
                cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, host="127.0.0.1", **kw,
                )
        return Client(cluster, security=security), cluster, True
    if isinstance(scheduler, Client):
        return scheduler, None, False
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise SweepError(f"--scheduler: got {scheduler!r}; expected tcp://HOST:PORT, tls://HOST:PORT, 'serial' or nothing (a LocalCluster)")
    address = scheduler.strip()
    if "://" not in address:
        address = ("tls://" if security is not None else "tcp://") + address
    try:
        client = Client(address, timeout=f"{timeout}s", security=security)
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ... all mean the same to the user
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SweepError(
            f"cannot reach the dask scheduler at {address} within {timeout:g} s ({reason[:200]}); "
            "is `dask scheduler` running there?"
        ) from None
    return client, None, True


_PRELOAD = ("distributed", "numpy", "pandas", "scipy.sparse", "highspy", "planner.sweep.engine")


def _forkserver() -> bool:
    import multiprocessing

    return "forkserver" in multiprocessing.get_all_start_methods()


def _preload_forkserver() -> None:
    """Start a LocalCluster's processes from a forkserver that has imported what a worker runs.

    Dask's nannies (in this process) start each worker process with ``spawn`` by default: a fresh
    interpreter that imports distributed, pandas and the planner (~1.5 s of CPU each) while the plan is
    being built on the same cores. Forked from one server that imported them once, they start in
    milliseconds. ``get_mp_context`` sets distributed's own preload list (once per process); it is then
    replaced by :data:`_PRELOAD`, which holds distributed and what the engine needs. The list only
    counts if the forkserver has not started yet in this process.
    """
    import multiprocessing

    from distributed.utils import get_mp_context

    get_mp_context()
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(_PRELOAD))


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Connecting:
    """A Dask connection (a new LocalCluster, or a scheduler's address) made in a background thread,
    so that starting the worker processes overlaps building the plan."""

    def __init__(self, scheduler: Any, n_workers: int | None, timeout: float, security: Any, max_retries: int) -> None:
        self.result: tuple[Any, Any, bool] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._connect, args=(scheduler, n_workers, timeout, security, max_retries),
                                       name="planner-sweep-connect", daemon=True)
        self.thread.start()

    def _connect(self, *args: Any) -> None:
        try:
            self.result = _connect(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that asks for the connection
            self.error = exc

    def get(self) -> tuple[Any, Any, bool]:
        """(client, cluster-or-None, own_client), once made; the connection's error, if any."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def close(self) -> None:
        """Close what was made (when the sweep stops before using it)."""
        self.thread.join()
        if self.result is not None:
            _close(*self.result)


def _close(client: Any, cluster: Any, own: bool) -> None:
    if own:
        try:
            client.close(timeout=3)
        except Exception:  # noqa: BLE001 - the scheduler may be gone
            pass
    if cluster is not None:
        try:
            cluster.close(timeout=10)
        except Exception:  # noqa: BLE001
            pass


def _run_dask(plan: SweepPlan, todo: list[int], cases: list[dict], sink: Any, bar: Any, connection: tuple[Any, Any, bool],
              scheduler: Any, connect_timeout: float, scheduler_timeout: float, batch_size: int, max_retries: int,
              kill: Sequence[int]) -> None:
    from distributed import wait
    from distributed.scheduler import KilledWorker

    client, cluster, own = connection
    address = getattr(client.scheduler, "address", str(scheduler))
    pending: dict[Any, tuple[list[int], bool]] = {}
    try:
        n = len(client.scheduler_info().get("workers", {}))
        if n == 0:
            try:
                client.wait_for_workers(1, timeout=max(connect_timeout, 30.0))
            except Exception:  # noqa: BLE001 - TimeoutError and friends
                raise SweepError(f"the dask scheduler at {address} has no workers; start `dask worker`") from None
            n = len(client.scheduler_info().get("workers", {})) or 1
        size = batch_size if batch_size > 0 else max(1, min(256, len(todo) // (4 * n) or 1))
        queue: list[tuple[list[int], bool]] = [(todo[i : i + size], False) for i in range(0, len(todo), size)]
        queue.reverse()
        window = 2 * n
        # a task, not scattered data: if the worker that holds it dies, the scheduler computes it again
        plan_f = client.submit(_identity, plan, key=f"planner-plan-{plan.token}", pure=False)
        requeues: dict[int, int] = {}

        def submit(ids: list[int], alone: bool) -> None:
            fut = client.submit(run_batch, plan_f, ids, [cases[i] for i in ids], list(kill), pure=False,
                                key=f"planner-sweep-{plan.token}-{ids[0]}-{len(ids)}-{int(alone)}-{time.time_ns()}")
            pending[fut] = (ids, alone)

        lost_since: float | None = None
        while queue or pending:
            # a task marked `alone` runs with nothing else in flight: when its worker dies, no other case
            # shares the blame (Dask counts a death against every task the worker held)
            while queue and client.status == "running" and not any(a for _, a in pending.values()):
                ids, alone = queue[-1]
                if (pending and alone) or len(pending) >= window:
                    break
                submit(*queue.pop())
            try:
                done, _ = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
            except Exception:  # noqa: BLE001 - TimeoutError: nothing finished in that second
                done = set()
            for fut in list(done):
                ids, alone = pending.pop(fut)
                try:
                    batch = fut.result(timeout=scheduler_timeout)
                except KilledWorker as exc:
                    if alone:  # it ran alone, and killed its workers: this case is the cause
                        sink(_failed_batch(ids, f"the case killed its worker each time it ran ({one_line(exc)[:200]})"))
                        bar.update(len(ids))
                    else:  # the cause, or a bystander on the same worker: each case again, alone
                        queue.extend((([i], True) for i in reversed(ids)))
                    continue
                except Exception as exc:  # noqa: BLE001 - cancelled by a lost scheduler, or the task itself failed
                    cancelled = type(exc).__name__ in ("CancelledError", "FutureCancelledError")
                    n_re = requeues[ids[0]] = requeues.get(ids[0], 0) + 1
                    if (client.status != "running" or cancelled) and n_re <= max_retries + 1:
                        queue.append((ids, alone))  # not the case's fault: run it again if the scheduler comes back
                        lost_since = lost_since or (time.monotonic() if client.status != "running" else None)
                        continue
                    sink(_failed_batch(ids, one_line(exc)))
                    bar.update(len(ids))
                    continue
                sink(batch)
                bar.update(len(ids))
            if client.status != "running":
                lost_since = lost_since or time.monotonic()
                for fut, job in list(pending.items()):
                    queue.append(job)
                    pending.pop(fut)
                if time.monotonic() - lost_since > scheduler_timeout:
                    raise SchedulerLost(
                        f"lost the dask scheduler at {address} for more than {scheduler_timeout:g} s; the finished "
                        f"cases are written; restart the scheduler and workers and run with --resume"
                    )
            elif lost_since is not None and not pending:
                lost_since = None
    finally:
        for fut in list(pending):
            try:
                fut.cancel()
            except Exception:  # noqa: BLE001
                pass
        sink.flush()  # before closing: every finished case is on disk whatever happens next
        _close(client, cluster, own)


def _identity(x: Any) -> Any:
    return x


def _failed_batch(ids: list[int], reason: str) -> Batch:
    import socket

    k = len(ids)
    return Batch(np.asarray(ids, dtype=np.int64), ["error"] * k, [""] * k, [reason] * k, np.full((k, 0), np.nan),
                 np.zeros(k), f"{socket.gethostname()}:{os.getpid()}", np.zeros(0, np.int64), np.zeros(0, np.int64),
                 np.zeros(0))


def _run_serial(plan: SweepPlan, todo: list[int], cases: list[dict], sink: Any, bar: Any, batch_size: int) -> None:
    engine = engine_for(plan)
    size = batch_size if batch_size > 0 else 64
    for s in range(0, len(todo), size):
        ids = todo[s : s + size]
        batch = engine.run(ids, [cases[i] for i in ids])  # on Ctrl-C: the cases finished before it
        sink(batch)
        bar.update(len(batch.case_id))
        if batch.interrupted:
            raise KeyboardInterrupt


def _workers(b: Batch) -> list[str]:
    return list(b.worker) if isinstance(b.worker, list) else [b.worker] * len(b.case_id)


def _concat(batches: list[Batch], plan: SweepPlan) -> Batch:
    extra: list[tuple[str, int]] = []
    keys: list[np.ndarray] = []
    base_n = len(plan.kernel.place_keys)
    for b in batches:
        k = b.place_key.copy()
        if b.place_extra:
            mapped = []
            for key in b.place_extra:
                if key not in extra:
                    extra.append(key)
                mapped.append(base_n + extra.index(key))
            big = k >= base_n
            k[big] = np.asarray(mapped)[k[big] - base_n]
        keys.append(k)
    return Batch(
        np.concatenate([b.case_id for b in batches]),
        [s for b in batches for s in b.status],
        [s for b in batches for s in b.mode],
        [s for b in batches for s in b.error],
        np.vstack([b.values for b in batches]),
        np.concatenate([b.seconds for b in batches]),
        [w for b in batches for w in _workers(b)],
        np.concatenate([b.place_case for b in batches]),
        np.concatenate(keys),
        np.concatenate([b.place_it_mw for b in batches]),
        extra,
    )


class _Sink:
    """Where finished batches go: the checkpoint folder (in parts written at most every
    *every_s* seconds, and at once by :meth:`flush`), or memory (no outdir). Batches stay arrays
    until written."""

    def __init__(self, plan: SweepPlan, checkpoint: Checkpoint | None, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.plan = plan
        self.checkpoint = checkpoint
        self.every_s = float(every_s)
        self.kept: list[Batch] = []  # no checkpoint: every batch, until the end
        self.buffer: list[Batch] = []  # checkpoint: the batches not written yet
        self.last_write = -float("inf")
        self.count = 0

    def __call__(self, batch: Batch) -> None:
        if batch.values.shape[1] != len(self.plan.columns):
            batch.values = np.full((len(batch.case_id), len(self.plan.columns)), np.nan)
        self.count += len(batch.case_id)
        if self.checkpoint is None:
            self.kept.append(batch)
            return
        self.buffer.append(batch)
        if time.monotonic() - self.last_write >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Write the buffered batches as one checkpoint part (the buffer is cleared only once written)."""
        if self.checkpoint is None or not self.buffer:
            return
        self.checkpoint.write(_concat(self.buffer, self.plan) if len(self.buffer) > 1 else self.buffer[0])
        self.buffer = []
        self.last_write = time.monotonic()

    def frames(self) -> tuple[pd.DataFrame, Any]:
        """(rows, placements): from the checkpoint (placements as a ``pyarrow.Table``), or from memory."""
        if self.checkpoint is not None:
            self.flush()
            return self.checkpoint.read(arrow=True)
        if not self.kept:
            return pd.DataFrame(columns=META_COLUMNS), pd.DataFrame(columns=PLACE_COLUMNS)
        r, p = batch_frames(_concat(self.kept, self.plan), self.plan)
        return r.drop_duplicates("case_id").sort_values("case_id").reset_index(drop=True), p


def _progress_bar(total: int, enabled: bool, initial: int = 0) -> Any:
    from tqdm import tqdm  # the plain bar: in a notebook it writes to stderr (no ipywidgets needed)

    return tqdm(total=total, initial=initial, disable=not enabled, file=sys.stderr, desc="sweep", unit="case", leave=True)


# =========================================================================== run_sweep


def _load_base(base: Scenario | str | Path) -> Scenario:
    scenario = base if isinstance(base, Scenario) else load_scenario(Path(base))
    base_dir = scenario.base_dir
    if base_dir is not None and not base_dir.is_absolute():
        scenario = scenario.model_copy()  # absolute paths, so workers with another cwd find the data
        scenario._base_dir = base_dir.resolve()
        scenario._source = scenario.source
    return scenario


def run_sweep(
    base: Scenario | str | Path,
    cases: list[dict[str, object]],
    scheduler: Any = None,
    n_workers: int | None = None,
    outdir: str | Path | None = None,
    progress: bool = True,
    *,
    validate: bool = True,
    tornado: bool | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    scheduler_timeout: float = SCHEDULER_TIMEOUT_S,
    resume: bool = False,
    security: Any = None,
    marginals: str = "none",
    fast: bool | None = None,
    batch_size: int = 0,
    max_retries: int = MAX_RETRIES,
    checkpoint_every: float = CHECKPOINT_EVERY_S,
    return_placements: bool = False,
    _kill_cases: Sequence[int] = (),
) -> Any:
    """Solve every case and return one row per case.

    Parameters
    ----------
    base
        The base scenario, or the path of its YAML file.
    cases
        ``{dotted key: value}`` per case (see :func:`grid_cases`,
        :func:`monte_carlo_cases`, :func:`tornado_cases`); ``{}`` is the base.
    scheduler
        ``None``: a new ``LocalCluster`` (one single-threaded process per core,
        or *n_workers*), closed at the end. ``"serial"``: in this process, no
        Dask. ``"tcp://host:port"`` or ``"tls://host:port"``: an existing Dask
        scheduler. A ``distributed.Client`` is used as is (left open).
    n_workers
        Workers of the LocalCluster (default: the machine's cores).
    outdir
        If given: checkpoints as cases finish, then ``sweep.parquet``,
        ``sweep_placements.parquet``, ``sweep.csv``, ``sweep.json`` and the plots.
    progress
        Show a progress bar on stderr.
    validate
        Check every key and value against *base* first (see :func:`validate_values`).
    tornado
        Draw ``tornado.png``; default: when *cases* look like :func:`tornado_cases`.
    connect_timeout
        Seconds to wait for a ``tcp://`` scheduler at the start.
    scheduler_timeout
        Seconds without the scheduler, mid-sweep, before giving up (:class:`SchedulerLost`).
    resume
        Run only the cases of *outdir* not finished yet (the base scenario and the cases
        must be the stored ones).
    security
        A ``distributed.Security`` (TLS), e.g. from :func:`security_from`.
    marginals
        ``none`` (default), ``binding`` or ``all``: per grid region, the last year's
        ``value_of_plus_1mw`` and ``cost_of_minus_1mw`` in each row (see
        :mod:`planner.marginals`; ~0.5 s per case on the reference scenario).
    fast
        Use the affine fast path for cost-only keys (see :mod:`planner.sweep.engine`);
        default: when the sweep has more than 20 cases per varied key (the probes cost ~4 builds a key).
    return_placements
        Also return the placements table (see Returns).
    batch_size
        Cases per task (default: about four tasks per worker, at most 256; serially 64).
    checkpoint_every
        With *outdir*: seconds between checkpoint writes at most (0: every finished batch).
        Whatever is finished is written at once on Ctrl-C, a lost scheduler and at the end.
    max_retries
        How often a LocalCluster re-runs a task whose worker died.

    Returns
    -------
    pandas.DataFrame
        ``case_id``, one column per varied key, ``status`` (``optimal``,
        ``time_limit`` or ``error``), ``solve_mode`` (``fast``, ``resolve`` or
        ``build``), objective and its parts, placed IT MW, unserved MW, new capacity
        and emissions per country, grid load per grid region (last year),
        marginal values (if asked for), ``seconds``, ``worker``, ``error``.
        With *return_placements*: ``(frame, placements)``, the second the long table
        ``case_id, region_id, year, it_load_mw`` (IT MW online per zone and year, > 0 only).

    Raises
    ------
    ScenarioError, SweepError
        Bad keys or values, or an unreachable scheduler, before any case runs.
    ResumeError
        *resume* with another base scenario or other cases than stored in *outdir*.
    SchedulerLost
        The scheduler was lost mid-sweep, after writing the finished cases (exit code 5).
    SweepInterrupted
        On Ctrl-C, after writing the finished cases (``.frame``).
    """
    t_start = time.perf_counter()
    scenario = _load_base(base)
    cases = [dict(c) for c in cases]
    if not cases:
        raise SweepError("no cases to run")
    if marginals not in ("none", "binding", "all"):
        raise SweepError(f"--marginals: got {marginals!r}; expected none, binding or all")
    keys = keys_of(cases)
    out = Path(outdir) if outdir is not None else None
    if resume:
        if out is None:
            raise SweepError("resume needs the output folder of the sweep to resume")
        check_resume(out, scenario, cases)
    if validate:
        validate_values(scenario, representative_values(cases, keys))
    if out is not None and out.exists() and not out.is_dir():
        raise SweepError(f"{out}: exists and is not a directory")
    done_ids: set[int] = set()
    if resume and out is not None:
        r, _ = read_checkpoint(out / CHECKPOINT_DIR)
        done_ids = set(int(i) for i in r["case_id"])
    todo = [i for i in range(len(cases)) if i not in done_ids]
    n_keys = len(keys)
    if fast is None:
        fast = len(todo) > 20 * max(1, n_keys)  # the probes cost ~4 builds per key
    mode = "serial" if scheduler == "serial" else "dask"
    # a new LocalCluster starts its worker processes while this process builds the plan
    connecting = _Connecting(None, n_workers, connect_timeout, security, max_retries) if (todo and scheduler is None) else None
    phases: dict[str, float] = {"setup": time.perf_counter() - t_start}
    t0 = time.perf_counter()
    try:
        plan = make_plan(scenario, [cases[i] for i in todo] or cases[:1], marginals=marginals, fast=bool(fast),
                         all_cases=cases)
        phases["plan"] = time.perf_counter() - t0
    except BaseException:
        if connecting is not None:
            connecting.close()
        raise
    checkpoint = None
    if out is not None:
        if not resume and (out / CHECKPOINT_DIR).exists():
            shutil.rmtree(out / CHECKPOINT_DIR)  # a new sweep into an old folder: the old parts go
        out.mkdir(parents=True, exist_ok=True)
        if not resume:
            write_spec(out, scenario, cases, {"tornado": tornado, "marginals": marginals})
        checkpoint = Checkpoint(out, plan)
    sink = _Sink(plan, checkpoint, checkpoint_every)
    interrupted, lost = False, None
    t0 = time.perf_counter()
    try:
        with _progress_bar(len(cases), progress, initial=len(done_ids)) as bar:
            if not todo:
                pass
            elif scheduler == "serial":
                _run_serial(plan, todo, cases, sink, bar, batch_size)
            else:
                t1 = time.perf_counter()
                conn = connecting.get() if connecting is not None else \
                    _connect(scheduler, n_workers, connect_timeout, security, max_retries)
                connecting = None
                phases["cluster_wait"] = time.perf_counter() - t1
                _run_dask(plan, todo, cases, sink, bar, conn, scheduler, connect_timeout, scheduler_timeout,
                          batch_size, max_retries, _kill_cases)
    except KeyboardInterrupt:
        interrupted = True
    except SchedulerLost as exc:
        lost = exc
    finally:
        if connecting is not None:  # the sweep stopped before it used the cluster
            connecting.close()
        sink.flush()
    phases["solve"] = time.perf_counter() - t0 - phases.get("cluster_wait", 0.0)
    t0 = time.perf_counter()
    rows, places = sink.frames()
    if tornado is None:
        tornado = looks_like_tornado(cases)
    frame = assemble_frame(scenario, cases, keys, rows, plan.columns)
    frame.attrs["base_scenario"] = scenario.name
    frame.attrs["tornado"] = bool(tornado)
    finished = len(frame)
    complete = finished == len(cases) and not interrupted and lost is None
    if out is not None:
        fast_keys = plan.affine.keys if plan.affine is not None else []
        meta = {
            "base_scenario": scenario.name,
            "base_source": scenario.source,
            "scenario_hash": scenario.hash(),
            "keys": keys,
            "fast_keys": fast_keys,
            "full_path_keys": plan.affine.rejected if plan.affine is not None else {},
            "cases": len(cases),
            "finished": finished,
            "complete": complete,
            "failed": int((frame["status"] == "error").sum()) if len(frame) else 0,
            "interrupted": interrupted,
            "scheduler_lost": lost is not None,
            "resumed": bool(resume),
            "mode": mode,
            "marginals": marginals,
            "scheduler": scheduler if isinstance(scheduler, str) or scheduler is None else repr(scheduler),
            "wall_seconds": round(time.perf_counter() - t_start, 3),
            "phase_seconds": {},
        }
        write_outputs(frame, places, out, keys, meta, tornado=bool(tornado))
        phases["write"] = time.perf_counter() - t0
        meta["phase_seconds"] = {k: round(v, 3) for k, v in phases.items()}
        meta["wall_seconds"] = round(time.perf_counter() - t_start, 3)
        _rewrite_json(out / "sweep.json", meta)
    log.info("sweep phases (s): %s", ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    if out is not None:
        if complete:
            shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    if lost is not None:
        lost.frame, lost.outdir = frame, out
        raise lost
    if interrupted:
        raise SweepInterrupted(frame, out)
    if not return_placements:
        return frame
    return frame, (places if isinstance(places, pd.DataFrame) else _place_frame(places))


def assemble_frame(scenario: Scenario, cases: list[dict], keys: list[str], rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The sweep table: ``case_id``, the inputs, ``status``, ``solve_mode``, the figures, ``seconds``, ``worker``, ``error``."""
    raw = scenario.model_dump(mode="json")
    base_vals = {k: _get_path(raw, k) for k in keys}
    ids = rows["case_id"].astype(int).tolist() if len(rows) else []
    data: dict[str, Any] = {"case_id": np.asarray(ids, dtype=np.int64)}
    for k in keys:
        col = [_cell(cases[i].get(k, base_vals[k])) for i in ids]
        if all(v is None or is_number(v) for v in col):
            data[k] = col
        else:  # one type per input column (parquet): numbers stay numbers, the rest becomes text
            data[k] = pd.array([None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in col], dtype="string")
    df = pd.DataFrame(data)
    df["status"] = rows["status"].astype("string").to_numpy() if len(rows) else pd.array([], dtype="string")
    df["solve_mode"] = rows["solve_mode"].astype("string").to_numpy() if len(rows) else pd.array([], dtype="string")
    for c in columns:
        df[c] = pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float) if c in rows else np.full(len(df), np.nan)
    marg = [c for c in columns if c.startswith(("value_of_plus_1mw_", "cost_of_minus_1mw_"))]
    drop = [c for c in marg if not (df[c].fillna(0.0).abs() > 1e-6).any()]
    df = df.drop(columns=drop)
    df["seconds"] = rows["seconds"].to_numpy(dtype=float) if len(rows) else np.zeros(0)
    df["worker"] = rows["worker"].astype("string").to_numpy() if len(rows) else pd.array([], dtype="string")
    df["error"] = rows["error"].fillna("").astype("string").to_numpy() if len(rows) else pd.array([], dtype="string")
    return df.reset_index(drop=True)


def _rewrite_json(path: Path, meta: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(frame: pd.DataFrame, places: Any, outdir: Path, keys: list[str], meta: dict[str, Any],
                  tornado: bool = False) -> Path:
    """Write ``sweep.parquet``, ``sweep_placements.parquet``, ``sweep.csv``, ``sweep.json`` and the plots
    into *outdir*, each file atomically (written beside, then renamed)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()

    def atomic(name: str, write: Any) -> None:
        tmp = outdir / f".{name}.tmp-{pid}"
        try:
            write(tmp)
            os.replace(tmp, outdir / name)
        finally:
            if tmp.exists():
                tmp.unlink()

    atomic("sweep.parquet", lambda p: frame.to_parquet(p, engine="pyarrow", index=False))
    if isinstance(places, pd.DataFrame):
        pl = places.sort_values(["case_id", "region_id", "year"], kind="mergesort").reset_index(drop=True) if len(places) else places
        atomic("sweep_placements.parquet", lambda p: pl.to_parquet(p, engine="pyarrow", index=False))
    else:  # a pyarrow.Table, sorted (read_checkpoint)
        import pyarrow.parquet as pq

        atomic("sweep_placements.parquet", lambda p: pq.write_table(places, p))
    atomic("sweep.csv", lambda p: frame.to_csv(p, index=False, lineterminator="\n"))
    atomic("sweep.json", lambda p: p.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8"))
    ok = frame[frame["status"] != "error"] if "status" in frame else frame
    if len(ok) and "objective_usd" in frame:
        atomic("sweep_response.png", lambda p: plot_response(frame, keys).savefig(p, dpi=110, format="png"))
        if tornado:
            atomic("tornado.png", lambda p: plot_tornado(frame).savefig(p, dpi=110, format="png"))
    return outdir
