"""``make bench``: seed (once), serve with gunicorn, load every page with wrk, measure the jobs, write the results.

    python -m scripts.bench.run [--seconds 20] [--only case,triage] [--no-readme]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/linkwork_bench) at BENCH_SCALE
(default 10, the ICB), BENCH_SMALL_DATABASE_URL (default .../linkwork_bench_small) at BENCH_SMALL_SCALE (default
1) for the second query count, BENCH_REDIS_URL (default redis://127.0.0.1:6379/15, a database of its own: the
benchmark empties the cache to time pages cold) for the cache and broker.
Each database is created, migrated and seeded only if it holds no benchmark data yet.

Exit status: 1 if any measurement failed (an error, an answer that was not the expected one), 0 otherwise;
missed budgets are reported, not failures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import runpy
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from scripts.bench import report, wrk
from scripts.bench.django_side import answer_problem, proc_status_kb
from scripts.bench.endpoints import Endpoint

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".data" / "bench"
RESULTS = ROOT / "benchmarks" / "results"
PY = sys.executable
DOWNLOADS = 5  # the year's XLSX: one connection, this many requests, each timed


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Database:
    label: str  # "small" or "large"
    url: str
    scale: float


# --- Environment and databases ------------------------------------------------------------------------------
def app_environment(database: Database, *, secret_key: str, redis_url: str) -> dict[str, str]:
    """Production settings, as deployed, except plain HTTP on loopback (no TLS in front of gunicorn here)."""
    return {
        **os.environ,
        "LINKWORK_ENVIRONMENT": "production",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(WORK / "static"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (connecting to the server's ``postgres``)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"Creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_side(command: str, env: dict[str, str], *extra: str, prepared: Path | None = None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", dir=WORK, delete=False) as handle:
        out = Path(handle.name)
    args = [PY, "-m", "scripts.bench.django_side", command, "--out", str(out), *extra]
    if prepared is not None:
        args += ["--prepared", str(prepared)]
    try:
        subprocess.run(args, cwd=ROOT, env=env, check=True)
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(database: Database, env: dict[str, str]) -> dict[str, Any]:
    ensure_database(database.url)
    manage(env, "migrate", "--no-input", "-v", "0")
    state = django_side("status", env)
    if not state["seeded"]:
        log(f"Seeding {database.label} database at scale {database.scale:g} (once)")
        manage(env, "seed_demo", "--scale", f"{database.scale:g}")  # which vacuums and analyses at its end
        return django_side("status", env)
    log(f"Vacuuming the {database.label} database (what earlier runs left)")
    return state | django_side("vacuum", env)


# --- gunicorn ------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_settings(env: dict[str, str], workers: int | None, threads: int | None) -> dict[str, Any]:
    """The worker class, workers and threads gunicorn will use: gunicorn.conf.py's, as deployed, unless the
    command line asks otherwise (for comparisons: ``--threads 2`` serves with gthread)."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    threads = threads or 1
    return {
        "worker_class": "gthread" if threads > 1 else config["worker_class"],
        "workers": workers or config["workers"],
        "threads": threads,
    }


def start_gunicorn(env: dict[str, str], port: int, served: dict[str, Any]) -> subprocess.Popen[bytes]:
    args = [
        PY,
        "-m",
        "gunicorn",
        "linkwork.wsgi",
        f"--config={ROOT / 'gunicorn.conf.py'}",  # the deployed settings; only these options differ
        f"--bind=127.0.0.1:{port}",
        f"--workers={served['workers']}",
        f"--worker-class={served['worker_class']}",
        f"--threads={served['threads']}",
        "--no-control-socket",  # the default socket path is shared by every gunicorn on the machine
        f"--error-logfile={WORK / 'gunicorn.log'}",
    ]
    server = subprocess.Popen(args, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/healthz", {})[0] == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}: see {WORK / 'gunicorn.log'}")
        time.sleep(0.5)
    stop(server)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def worker_peaks_kb(master_pid: int) -> list[int]:
    """VmHWM (peak resident memory) of each gunicorn worker: the master's children, found in /proc."""
    peaks = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master_pid:
                peaks.append(proc_status_kb("VmHWM", stat.parent.name))
        except (OSError, IndexError, KeyError, ValueError):
            continue
    return sorted(peaks)


# --- Requests ------------------------------------------------------------------------------------------------
def request(port: int, method: str, path: str, headers: dict[str, str], body: str = "") -> tuple[int, str, int]:
    """One request, redirects not followed: status, Location and the size of the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body.encode() if body else None, headers=headers)
        response = conn.getresponse()
        size = len(response.read())
        return response.status, response.getheader("Location", ""), size
    finally:
        conn.close()


def cookies(prepared: dict[str, Any], persona: str | None) -> dict[str, str]:
    jar = {prepared["csrf_cookie"]: prepared["csrf"]}
    if persona:
        jar[prepared["session_cookie"]] = prepared["sessions"][persona]
    return jar


def encoded_body(endpoint: Endpoint, csrf: str) -> str:
    if endpoint.method != "POST":
        return ""
    return urlencode({**endpoint.form, "csrfmiddlewaretoken": csrf}, doseq=True)


def probe(port: int, endpoint: Endpoint, prepared: dict[str, Any]) -> str:
    """Ask once, as wrk will, and say what is wrong with the answer ("" if nothing): wrk counts any 2xx or 3xx
    as success, so a redirect to the sign-in page would otherwise pass unnoticed."""
    csrf = prepared["csrf"] if endpoint.method == "POST" else ""
    header_lines = wrk.headers(cookies=cookies(prepared, endpoint.persona), csrf_token=csrf, post=bool(csrf))
    headers = dict(line.split(": ", 1) for line in header_lines)
    body = encoded_body(endpoint, prepared["csrf"]).replace("BENCHUUID", secrets.token_hex(16))
    status, location, _ = request(port, endpoint.method, endpoint.paths[0], headers, body)
    return answer_problem(endpoint, status, location)


def load(port: int, endpoint: Endpoint, prepared: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """wrk against one endpoint: a short warm-up, then the measured run, with a probe before and after."""
    problem = probe(port, endpoint, prepared)
    if problem:
        return {"failed": True, "problem": problem}
    csrf = prepared["csrf"] if endpoint.method == "POST" else ""
    header_lines = wrk.headers(cookies=cookies(prepared, endpoint.persona), csrf_token=csrf, post=bool(csrf))
    body = encoded_body(endpoint, prepared["csrf"])
    base = f"http://127.0.0.1:{port}"
    common = {"base_url": base, "endpoint": endpoint, "header_lines": header_lines, "body": body}
    wrk.run(**common, seconds=args.warmup, connections=args.connections)
    result = wrk.run(**common, seconds=args.seconds, connections=args.connections).to_json()
    # The same page for one user alone, over HTTP: the latency without the wait for a core that 8 users on two
    # cores add (the directory search's 50 ms budget is judged at 8 users; this shows how much of it is the wait).
    alone = wrk.run(**common, seconds=args.single_seconds, connections=1)
    result |= {"p50_1conn_ms": alone.p50_ms, "p95_1conn_ms": alone.p95_ms, "failed_1conn": alone.failed}
    if alone.failed:
        result |= {"failed": True, "problem": f"one user: {alone.error_count} errors"}
    problem = probe(port, endpoint, prepared)
    if problem:
        result |= {"failed": True, "problem": "after the run: " + problem}
    return result


def download(port: int, endpoint: Endpoint, prepared: dict[str, Any]) -> dict[str, Any]:
    """The XLSX: one connection, ``DOWNLOADS`` requests one after another, each timed to its last byte."""
    header_lines = wrk.headers(cookies=cookies(prepared, endpoint.persona))
    headers = dict(line.split(": ", 1) for line in header_lines)
    times, problem, size = [], "", 0
    for _ in range(DOWNLOADS):
        start = time.perf_counter()
        status, location, size = request(port, "GET", endpoint.paths[0], headers)
        times.append(round((time.perf_counter() - start) * 1000, 1))
        problem = problem or answer_problem(endpoint, status, location)
    return {
        "times_ms": times,
        "p50_ms": statistics.median(times),
        "max_ms": max(times),
        "bytes": size,
        "failed": bool(problem),
        "problem": problem,
    }


# --- Putting it together ---------------------------------------------------------------------------------------
def page_rows(
    endpoints: list[Endpoint],
    loads: dict[str, dict[str, Any]],
    small: dict[str, Any],
    large: dict[str, Any],
    xlsx: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    rows = []
    for endpoint in endpoints:
        measured = large["pages"][endpoint.key]
        loaded = loads.get(endpoint.key, {})
        problem = measured["problem"] or small["pages"][endpoint.key]["problem"] or loaded.get("problem", "")
        row: dict[str, Any] = {
            "key": endpoint.key,
            "title": endpoint.title,
            "persona": endpoint.persona,
            "method": endpoint.method,
            "budget_ms": endpoint.budget_ms,
            "download": endpoint.download,
            "reference": endpoint.reference,
            **loaded,
            "failed": bool(problem) or bool(loaded.get("failed")),
            "problem": problem,
            "queries_small": small["pages"][endpoint.key]["query_count"],
            "queries_large": measured["query_count"],
            "queries_warm_small": small["pages"][endpoint.key].get("query_count_warm"),
            "queries_warm_large": measured.get("query_count_warm"),
            "floor_ms": measured["floor_ms"],
            "floor_replays": measured.get("floor_replays"),
            "serial_ms": measured["serial_ms"],
            "cold_ms": measured.get("cold_ms"),
            "python_calls": measured.get("python_calls"),
            "sql": {k: measured[k] for k in ("queries", "slowest_sql", "slowest_ms", "explain")},
        }
        row["ratio"] = report.ratio(row.get("p50_ms"), row["floor_ms"])
        row["ratio_1user"] = report.ratio(row["serial_ms"], row["floor_ms"])
        if endpoint.key == "report_xlsx" and xlsx:
            row["memory_small_kb"] = xlsx["xlsx_small"]["hwm_after_kb"]
            row["memory_large_kb"] = xlsx["xlsx_large"]["hwm_after_kb"]
        rows.append(row)
    return rows


def job_rows(small: dict[str, Any], large: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, job in large["jobs"].items():
        rows.append(
            {
                "key": key,
                "title": job["title"],
                "ms": job["ms"],
                "ms_small": small["jobs"][key]["ms"],
                "queries_small": small["jobs"][key]["query_count"],
                "queries_large": job["query_count"],
                "floor_ms": job["floor_ms"],
                "ratio": report.ratio(job["ms"], job["floor_ms"]),
                "outcome": job["outcome"],
                "replay_errors": job["replay_errors"],
                "sql": {k: job[k] for k in ("queries", "slowest_sql", "slowest_ms", "explain")},
            }
        )
    return rows


def compact(results: dict[str, Any]) -> dict[str, Any]:
    """The results for the JSON file: statements cut short and no plans (the EXPLAIN file has them in full)."""
    rows = []
    for row in [*results["pages"], *results["jobs"]]:
        sql = row.get("sql", {})
        short = [{**q, "sql": q["sql"][:300]} for q in sql.get("queries", [])]
        rows.append({**row, "sql": {"queries": short, "slowest_ms": sql.get("slowest_ms")}})
    pages, jobs = rows[: len(results["pages"])], rows[len(results["pages"]) :]
    return {**results, "pages": pages, "jobs": jobs}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    env = os.environ.get
    parser.add_argument(
        "--database-url", default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linkwork_bench")
    )
    parser.add_argument("--scale", type=float, default=float(env("BENCH_SCALE", "10")))
    parser.add_argument(
        "--small-database-url",
        default=env("BENCH_SMALL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linkwork_bench_small"),
    )
    parser.add_argument("--small-scale", type=float, default=float(env("BENCH_SMALL_SCALE", "1")))
    parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/15")
    parser.add_argument("--seconds", type=int, default=int(env("BENCH_SECONDS", "20")), help="wrk run per page")
    parser.add_argument("--warmup", type=int, default=3, help="wrk warm-up per page, seconds")
    parser.add_argument("--single-seconds", type=int, default=5, help="wrk run per page with one connection")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, help="gunicorn worker processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per gunicorn worker: more than 1 serves with gthread")
    parser.add_argument("--only", default="", help="comma-separated page keys to load (default: all)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-readme", action="store_true", help="do not update README.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_average = os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    secret_key = secrets.token_urlsafe(64)  # one per run: sessions made in prepare must verify in gunicorn
    small = Database("small", args.small_database_url, args.small_scale)
    large = Database("large", args.database_url, args.scale)
    envs = {db.label: app_environment(db, secret_key=secret_key, redis_url=args.redis_url) for db in (small, large)}

    states = {db.label: seed(db, envs[db.label]) for db in (small, large)}
    log("Collecting static files")
    manage(envs["large"], "collectstatic", "--no-input", "-v", "0")

    prepared_files = {}
    for db in (small, large):
        log(f"Preparing sessions and objects ({db.label})")
        prepared = django_side("prepare", envs[db.label])
        path = WORK / f"prepared-{db.label}.json"
        path.write_text(json.dumps(prepared, indent=2))
        prepared_files[db.label] = path
    prepared = json.loads(prepared_files["large"].read_text())
    endpoints = [Endpoint.from_json(e) for e in prepared["endpoints"]]

    log("Counting queries (small) and measuring in-process with floors (large)")
    in_small = django_side("measure", envs["small"], prepared=prepared_files["small"])
    in_large = django_side("measure", envs["large"], "--floor", prepared=prepared_files["large"])

    port = free_port()
    log(f"Starting gunicorn on 127.0.0.1:{port}")
    started = dt.datetime.now(dt.UTC)
    served = gunicorn_settings(envs["large"], args.workers, args.threads)
    server = start_gunicorn(envs["large"], port, served)
    loads: dict[str, dict[str, Any]] = {}
    only = {k for k in args.only.split(",") if k}
    try:
        for endpoint in endpoints:
            if only and endpoint.key not in only:
                continue
            log(f"Loading: {endpoint.title}")
            try:
                loads[endpoint.key] = (
                    download(port, endpoint, prepared) if endpoint.download else load(port, endpoint, prepared, args)
                )
            except wrk.WrkFailed as error:
                loads[endpoint.key] = {"failed": True, "problem": str(error)}
            log(f"  {json.dumps({k: v for k, v in loads[endpoint.key].items() if k != 'errors'})}")
        worker_kb = worker_peaks_kb(server.pid)
    finally:
        stop(server)
    log("Deleting the load test's contacts and referrals")
    cleaned = django_side("cleanup", envs["large"], "--since", started.isoformat(), prepared=prepared_files["large"])

    log("Timing the jobs (small, then large)")
    jobs_small = django_side("jobs", envs["small"])
    jobs_large = django_side("jobs", envs["large"])
    log("Report generation memory (small, then large)")
    xlsx = {
        f"xlsx_{db.label}": django_side("xlsx", envs[db.label], prepared=prepared_files[db.label])
        for db in (small, large)
    }

    date = dt.date.today().isoformat()
    pages = page_rows([e for e in endpoints if not only or e.key in only], loads, in_small, in_large, xlsx)
    failures = [f"{r['title']}: {r.get('problem') or 'errors'}" for r in pages if r["failed"]]
    results = {
        "run": {
            "date": date,
            "started": started.isoformat(),
            "scale": args.scale,
            "small_scale": args.small_scale,
            **served,
            "connections": args.connections,
            "threads_wrk": min(2, args.connections),
            "seconds": args.seconds,
            "warmup": args.warmup,
            "single_seconds": args.single_seconds,
            "explain_file": _shown(args.results / f"{date}-explain.txt"),
            "picked": prepared["picked"],
            "people": prepared["people"],
            "cleanup": cleaned,
        },
        "machine": report.machine(states["large"]["postgresql"], load_average),
        "pages": pages,
        "jobs": job_rows(jobs_small, jobs_large),
        "memory": {"gunicorn_workers_kb": worker_kb, **xlsx},
        "open_cases": jobs_large["open_cases"],
        "failed": bool(failures),
        "failures": failures,
    }
    write_results(results, args.results, readme=not args.no_readme)
    return 1 if failures else 0


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def write_results(results: dict[str, Any], folder: Path, *, readme: bool) -> None:
    """<date>.json, <date>.md, <date>-explain.txt and (with ``readme``) the README's Performance section."""
    date = results["run"]["date"]
    folder.mkdir(parents=True, exist_ok=True)
    json_file, md_file, explain_file = folder / f"{date}.json", folder / f"{date}.md", folder / f"{date}-explain.txt"
    json_file.write_text(json.dumps(compact(results), indent=2, default=str) + "\n")
    md_file.write_text(report.results_markdown(results))
    explain_file.write_text(report.explain_text(results))
    if readme:
        path = ROOT / "README.md"
        path.write_text(report.update_readme(path.read_text(), report.readme_section(results, _shown(md_file))))
    print(report.summary_markdown(results))
    log(f"Results: {json_file}, {md_file}, {explain_file}")


if __name__ == "__main__":
    sys.exit(main())
