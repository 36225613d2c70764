"""Benchmark of the interview submission API under gunicorn + PostgreSQL (issue 7).

Not a test: it prints figures. What it does, all on this machine's loopback:

1. creates a fresh PostgreSQL database, builds the schema with the migrations
   (``flask db upgrade``'s code path) and a field world (an organisation, an interviewer
   with an API token, a fielding walk-in campaign with a frozen questionnaire) with the
   same builders the tests use;
2. starts ``gunicorn wsgi:app`` on it (``--workers``, default 2 sync workers — the
   production command in docs/app.md);
3. runs ``--clients`` concurrent clients (spread over a few client processes, each thread
   with its own keep-alive HTTP connection and Bearer token) that ``POST
   /api/v1/interviews`` complete interviews with fresh UUIDs; a share of them resend the
   same interview at once (``--resend-share``; must come back 200, not stored twice);
4. prints submissions per second, latency p50 / p90 / p99 / max, the status counts and the
   number of interviews stored in the database at the end, which must equal the number of
   distinct interviews sent (exit status 1 otherwise);
5. prints where the CPU went during the timed run (read from /proc, so Linux only): the
   clients' own CPU, the gunicorn workers', PostgreSQL's (the benchmark database's backends
   and the server's own processes), the rest of the machine (kernel threads, anything else
   running) and its idle share — so a reader can tell whether the load
   generator, the app or the database is the limit.

Usage::

    python benchmarks/bench_field_api.py                       # 6,000 interviews, 20 clients
    python benchmarks/bench_field_api.py --interviews 2000 --workers 4 --clients 20

The clients share the machine's two cores with gunicorn and PostgreSQL, so the figure is
a floor for what a separate load generator would measure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import create_database, drop_database  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str, secret: str) -> dict:
    """Schema by the migrations, then the field world and a token; returns what clients need."""
    sys.path.insert(0, str(REPO / "tests"))
    import sqlalchemy as sa
    from field_builders import make_field_world
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import User
    from surveyapp.services.tokens import create_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
                      "JOB_RUNNER": "inline"})
    with app.app_context():
        upgrade(directory=str(REPO / "migrations"))
        world = make_field_world(n_cases=1, prefix="bench")
        user = db.session.scalar(sa.select(User).where(User.login == world.interviewer))
        token = create_token(None, "benchmark", ["interviews:write"], user=user)[1]
        db.session.commit()
        info = {"token": token, "campaign": world.walk_in_campaign,
                "version": world.walk_in_version}
        db.session.remove()
        db.engine.dispose()
    return info


def _payload(info: dict, i: int) -> dict:
    return {
        "uuid": str(uuid.uuid4()),
        "assignment_id": None,
        "questionnaire_version_id": info["version"],
        "started_at": "2024-09-02T08:30:00+07:00",
        "finished_at": "2024-09-02T08:45:10+07:00",
        "disposition": "complete",
        "answers": {"visited": "yes", "channel": "desk", "age": 18 + i % 80},
        "respondent": {"name": "Phạm Thị Dung", "phone": "0909123456"},
        "paradata": {"user_agent": "bench", "edits": 3, "duration_s": 910},
    }


def _client_process(port, info, jobs, resend_share, threads, seed, out_queue):
    """One client process: ``threads`` clients, each with a keep-alive connection."""
    import random

    import resource

    results = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {info['token']}", "Content-Type": "application/json"}

    def run(job_ids):
        rng = random.Random(seed * 1000 + job_ids[0] if job_ids else seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local = []
        for i in job_ids:
            body = json.dumps(_payload(info, i))
            sends = 2 if rng.random() < resend_share else 1
            for _ in range(sends):
                for attempt in range(3):
                    t0 = time.perf_counter()
                    try:
                        conn.request("POST", "/api/v1/interviews", body=body, headers=headers)
                        resp = conn.getresponse()
                        resp.read()
                        local.append((time.perf_counter() - t0, resp.status))
                        break
                    except (ConnectionError, http.client.HTTPException, OSError):
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                        if attempt == 2:
                            local.append((time.perf_counter() - t0, 0))
        conn.close()
        with lock:
            results.extend(local)

    parts = [jobs[k::threads] for k in range(threads)]
    ts = [threading.Thread(target=run, args=(p,)) for p in parts if p]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out_queue.put((results, usage.ru_utime + usage.ru_stime))


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start listening in time")


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK, idle / _TICK


class CpuMeter:
    """CPU of the gunicorn processes, the database's backends and the machine over a span."""

    def __init__(self, gunicorn_pid: int, url: str, database: str):
        import sqlalchemy as sa

        self.gunicorn_pid = gunicorn_pid
        self.database = database
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def _backends(self) -> list[int]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            # The benchmark database's backends and the server's own processes (WAL
            # writer, checkpointer...), not other databases' backends.
            return list(conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE (datname = :d OR datname IS NULL) "
                "AND pid <> pg_backend_pid()"), {"d": self.database}).scalars())

    def sample(self) -> dict:
        app = [self.gunicorn_pid, *_children(self.gunicorn_pid)]
        backends = self._backends()
        return {"app": {p: _process_cpu(p) for p in app},
                "db": {p: _process_cpu(p) for p in backends}, "machine": _machine_cpu()}

    @staticmethod
    def spent(before: dict, after: dict) -> dict:
        def delta(kind):  # processes present at the end (a pool keeps its connections)
            return sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items())

        busy = after["machine"][0] - before["machine"][0]
        idle = after["machine"][1] - before["machine"][1]
        return {"app": delta("app"), "db": delta("db"), "busy": busy, "idle": idle}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interviews", type=int, default=6000, help="distinct interviews to send")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients")
    ap.add_argument("--client-processes", type=int, default=2,
                    help="processes the clients are spread over (the GIL)")
    ap.add_argument("--workers", type=int, default=2,
                    help="gunicorn workers (2 measured best on 2 cores; 3, 4, 6, gthread: slower)")
    ap.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    ap.add_argument("--resend-share", type=float, default=0.1,
                    help="share of interviews sent twice (identical resend)")
    ap.add_argument("--warmup", type=int, default=200, help="interviews sent before timing")
    args = ap.parse_args()

    name = f"surveyapp_bench_{os.getpid()}"
    url = create_database(name)
    secret = uuid.uuid4().hex
    gunicorn = None
    try:
        info = _prepare(url, secret)
        port = _free_port()
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret, JOB_RUNNER="inline")
        gunicorn = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(args.workers),
             "--worker-class", args.worker_class, "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=REPO, env=env)
        _wait_for(port, gunicorn)

        def run_batch(first: int, count: int) -> tuple[list, float]:
            jobs = list(range(first, first + count))
            per_proc = max(1, args.clients // args.client_processes)
            procs, q = [], mp.Queue()
            chunks = [jobs[k::args.client_processes] for k in range(args.client_processes)]
            t0 = time.perf_counter()
            for k, chunk in enumerate(chunks):
                p = mp.Process(target=_client_process,
                               args=(port, info, chunk, args.resend_share, per_proc, k, q))
                p.start()
                procs.append(p)
            results, client_cpu = [], 0.0
            for _ in procs:
                part, cpu = q.get()
                results.extend(part)
                client_cpu += cpu
            for p in procs:
                p.join()
            return results, time.perf_counter() - t0, client_cpu

        run_batch(10_000_000, args.warmup)  # connections, worker imports, caches
        meter = CpuMeter(gunicorn.pid, url, name)
        before = meter.sample()
        results, elapsed, client_cpu = run_batch(0, args.interviews)
        cpu = CpuMeter.spent(before, meter.sample())
        meter.engine.dispose()

        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(sa.text(
                "SELECT count(*) FROM interview WHERE campaign_id = :c"),
                {"c": info["campaign"]}).scalar_one()
            versions = conn.execute(sa.text(
                "SELECT count(*) FROM interview_version v JOIN interview i "
                "ON i.id = v.interview_id WHERE i.campaign_id = :c"),
                {"c": info["campaign"]}).scalar_one()
        engine.dispose()
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        drop_database(name)

    latencies = sorted(t for t, _ in results)
    statuses: dict[int, int] = {}
    for _, s in results:
        statuses[s] = statuses.get(s, 0) + 1
    sent = args.interviews + args.warmup
    rest = max(0.0, cpu["busy"] - client_cpu - cpu["app"] - cpu["db"])
    figures = {
        "interviews": args.interviews,
        "requests": len(results),
        "clients": args.clients,
        "gunicorn_workers": args.workers,
        "seconds": round(elapsed, 2),
        "submissions_per_s": round(len(results) / elapsed, 1),
        "new_interviews_per_s": round(args.interviews / elapsed, 1),
        "p50_ms": round(1000 * _percentile(latencies, 0.50), 1),
        "p90_ms": round(1000 * _percentile(latencies, 0.90), 1),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 1),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "stored_interviews": stored,
        "stored_versions": versions,
        "expected": sent,
        # CPU seconds during the timed run, and per request in ms
        "cpu_s": {"clients": round(client_cpu, 2), "gunicorn": round(cpu["app"], 2),
                  "postgres": round(cpu["db"], 2),
                  "rest_of_machine": round(rest, 2), "idle": round(cpu["idle"], 2)},
        "cpu_ms_per_request": {
            k: round(1000 * v / max(1, len(results)), 2)
            for k, v in (("clients", client_cpu), ("gunicorn", cpu["app"]),
                         ("postgres", cpu["db"]), ("rest_of_machine", rest))},
    }
    print(json.dumps(figures, indent=2))
    ok = stored == sent and versions == sent and set(statuses) <= {200, 201}
    print("stored == sent: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
