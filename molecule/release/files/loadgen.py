#!/usr/bin/python3
"""Steady HTTPS load through nginx for release tests (runs inside the test host, loopback only).

    mvp-rel-loadgen --out RESULT.json [--host DOMAIN] [--port 443] [--threads 4] [--no-retry-threads 2]
                    [--interval 0.05] [--paths / /api/health] [--max-seconds 900] [--stop-file PATH]

Each thread keeps one keepalive HTTPS connection to DOMAIN:443 (resolving to 127.0.0.1) and
sends GET requests in turn to every path, sleeping --interval between them, until the stop file
appears or --max-seconds pass (always bounded). A request counts as failed when no response
arrives or the status is not 200 (or /api/health is not {"status": "ok"}).

Like browsers and HTTP libraries (RFC 9112, 9.3.1), a request that fails on a *reused* keepalive
connection before any byte of the answer arrived (the server closed the idle connection, which
nginx does when a reload retires its old workers) is retried once on a new connection; these are
counted separately as `stale_keepalive_retries`, and a failure of the retry counts as failed.
Many API clients do not retry (Python's requests, non-idempotent requests in most libraries): the
--no-retry-threads clients (in addition to --threads) keep their connection alive the same way
but count such a request as failed; their share is reported as `no_retry` (requests, failed).

The result (JSON): requests, failed, failures (first 50 with time and reason), longest_gap_ms
(the longest time without any successful answer, over all threads), versions seen per path
(X-App-Version) with the time each was first and last seen, duration.
"""

import argparse
import http.client
import json
import os
import ssl
import sys
import threading
import time


def healthy(body: bytes) -> bool:
    """A health answer says {"status": "ok"} (any JSON spacing: the stand-ins' or NestJS's)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("status") == "ok"


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.failed = 0
        self.retries = 0
        self.failures: list[dict] = []
        self.no_retry = {"requests": 0, "failed": 0}
        self.last_ok = None
        self.longest_gap = 0.0
        self.longest_gap_at = None
        self.versions: dict[str, dict[str, dict]] = {}
        self.started = time.time()

    def ok(self, path: str, version: str) -> None:
        now = time.time()
        with self.lock:
            self.requests += 1
            if self.last_ok is not None and now - self.last_ok > self.longest_gap:
                self.longest_gap = now - self.last_ok
                self.longest_gap_at = self.last_ok - self.started
            self.last_ok = now
            seen = self.versions.setdefault(path, {}).setdefault(
                version, {"count": 0, "first_s": round(now - self.started, 3)}
            )
            seen["count"] += 1
            seen["last_s"] = round(now - self.started, 3)

    def fail(self, path: str, reason: str, client: str = "retrying") -> None:
        with self.lock:
            self.requests += 1
            self.failed += 1
            if len(self.failures) < 50:
                self.failures.append(
                    {"t_s": round(time.time() - self.started, 3), "path": path, "client": client, "reason": reason}
                )

    def counted_no_retry(self, failed: bool) -> None:
        with self.lock:
            self.no_retry["requests"] += 1
            self.no_retry["failed"] += int(failed)

    def retried(self) -> None:
        with self.lock:
            self.retries += 1


class Client:
    """One keepalive HTTPS connection; retries once when a reused connection was closed idle,
    unless retry is False (then that request fails, as it does for clients that never retry)."""

    def __init__(self, host: str, stats: Stats, retry: bool = True, port: int = 443) -> None:
        self.host = host
        self.port = port
        self.stats = stats
        self.retry = retry
        self.kind = "retrying" if retry else "no-retry"
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE  # the scenario's self-signed certificate; loopback only
        self.conn = None
        self.used = False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def _send(self, path: str):
        if self.conn is None:
            # DOMAIN resolves to 127.0.0.1 in the test host (/etc/hosts).
            self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=10, context=self.ctx)
            self.used = False
        reused = self.used
        try:
            self.conn.request("GET", path, headers={"Host": self.host, "User-Agent": "mvp-rel-loadgen"})
            self.used = True
            return self.conn.getresponse(), None
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            self.close()
            return None, ("stale" if reused else f"{type(exc).__name__}: {exc}")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return None, f"{type(exc).__name__}: {exc}"

    def get(self, path: str) -> None:
        failed = self._get(path)
        if not self.retry:
            self.stats.counted_no_retry(failed)

    def _fail(self, path: str, reason: str) -> bool:
        self.stats.fail(path, reason, self.kind)
        return True

    def _get(self, path: str) -> bool:
        """One request; True when it failed."""
        resp, error = self._send(path)
        if error == "stale" and self.retry:
            self.stats.retried()
            resp, error = self._send(path)
            error = "connection closed twice" if error == "stale" else error
        elif error == "stale":
            error = "the server closed the reused keepalive connection (not retried)"
        if resp is None:
            return self._fail(path, error)
        try:
            body = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return self._fail(path, f"reading the body: {type(exc).__name__}: {exc}")
        version = resp.getheader("X-App-Version", "?")
        failed = False
        if resp.status != 200:
            failed = self._fail(path, f"status {resp.status} from {version}: {body[:120]!r}")
        elif path.startswith("/api/health") and not healthy(body):
            failed = self._fail(path, f"unhealthy answer from {version}: {body[:120]!r}")
        else:
            self.stats.ok(path, version)
        if resp.will_close:
            self.close()
        return failed


def worker(args, stats: Stats, stop: threading.Event, offset: int, retry: bool) -> None:
    client = Client(args.host, stats, retry, args.port)
    i = offset
    while not stop.is_set():
        client.get(args.paths[i % len(args.paths)])
        i += 1
        stop.wait(args.interval)
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", default="mvp-release.test")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-retry-threads", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--paths", nargs="+", default=["/", "/api/health"])
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--stop-file", default="")
    args = parser.parse_args()
    args.threads = max(1, min(args.threads, 16))
    args.no_retry_threads = max(0, min(args.no_retry_threads, 16))
    args.max_seconds = min(args.max_seconds, 1800)
    stats = Stats()
    stop = threading.Event()
    kinds = [True] * args.threads + [False] * args.no_retry_threads
    threads = [
        threading.Thread(target=worker, args=(args, stats, stop, n, retry), daemon=True)
        for n, retry in enumerate(kinds)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline and not (args.stop_file and os.path.exists(args.stop_file)):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(15)
    if stats.last_ok is not None:  # time since the last success counts as a gap too
        tail = time.time() - stats.last_ok
        if tail > stats.longest_gap and tail > 1:
            stats.longest_gap = tail
            stats.longest_gap_at = stats.last_ok - stats.started
    result = {
        "requests": stats.requests,
        "failed": stats.failed,
        "stale_keepalive_retries": stats.retries,
        "failures": stats.failures,
        "longest_gap_ms": round(stats.longest_gap * 1000, 1),
        "longest_gap_at_s": round(stats.longest_gap_at, 3) if stats.longest_gap_at is not None else None,
        "versions": stats.versions,
        "duration_s": round(time.time() - stats.started, 2),
        "started_at": stats.started,
        "threads": args.threads,
        "no_retry_threads": args.no_retry_threads,
        "no_retry": stats.no_retry,
        "interval_s": args.interval,
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
