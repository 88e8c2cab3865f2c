"""Benchmark of ``harbor-kms audit --all-keys`` against a bare boto3 floor.

Run: ``.venv/bin/python bench/audit_fleet.py [--sizes 1 10 100] [--repeat 3]``.
For each size N the local sandbox is reset and seeded with one Harbor account
holding N customer managed keys (``guide-as-written`` for 1, ``many-keys:N-1``
otherwise: that scenario adds N-1 keys to the guide's key). Then, in this one
process and against the same sandbox:

- audit: ``harbor-kms audit --all-keys --format json`` through
  ``wizard.cli.main``, output to memory, best of ``--repeat`` runs.
- floor: a bare boto3 script that makes exactly the HTTP requests the audit
  made (same operations, parameters and pages, recorded from an untimed audit
  run through botocore's event hooks), best of ``--repeat`` runs. Like the
  audit, it builds its session and clients inside the timing. It makes
  GetCallerIdentity and ListKeys first, as any script must before it knows the
  keys, then every other request at once on a pool of as many threads as the
  audit can have requests in flight (``AccountReader.max_concurrency``: the
  reader's pool and the fleet's snapshot threads). It knows every
  request in advance and ignores the audit's other data dependencies, so it is
  a lower bound; the requests it made are checked against the recording.
- Prowler, where installed (``--prowler PATH`` or on PATH): ``prowler aws
  --service kms cloudtrail cloudwatch`` with the sandbox's environment (it
  honours ``AWS_ENDPOINT_URL``), one run, beside one run of the audit as a
  command of its own, since Prowler's time includes its start-up.

How to read the numbers: by default the sandbox runs as its own process
(``harbor-kms sandbox``, as a user runs it and as AWS is another machine), so
the emulator's CPU time does not compete with the client for this process's
GIL; ``--emulator thread`` serves it from a thread of this process instead, as
the tests do, which makes every client pay for the emulator's work too. The
emulator's time per request is still part of both the audit and the floor, and
absolute seconds mean little. Both also pay for their boto3 session and
clients. audit/floor is therefore the tool's own
overhead (argument and values parsing, its read layer, the checklist, the JSON
report) on top of the same requests to the same emulator; target at most 1.3
for every size. Runs of the audit and the floor alternate, so drift affects
both, and each starts after a garbage collection, as a fresh process would.
Scaling is time(100 keys)/time(1 key), target under 10; the floor's own scaling
is printed beside it, because the emulator's cost per request bounds what any
client can reach here. "calls" are HTTP requests (each page counts), in total
and per key; "in flight" is the peak of concurrent requests.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))

from wizard.aws.readers import AccountReader  # noqa: E402
from wizard.aws.sandbox import Sandbox, seed  # noqa: E402
from wizard.aws.sandbox.server import sandbox_environment  # noqa: E402
from wizard.cli import main as harbor_kms  # noqa: E402
from wizard.core import store  # noqa: E402
from wizard.core.snapshot import CallerIdentity  # noqa: E402

SIZES = (1, 10, 100)
FLOOR_TARGET = 1.3
SCALING_TARGET = 10.0
# What a script must read before it knows which keys to read.
_FIRST = frozenset({"sts:GetCallerIdentity", "kms:ListKeys"})


@dataclass(frozen=True)
class Request:
    """One HTTP request as boto3 was asked to make it."""

    service: str
    operation: str
    params: dict[str, Any]

    @property
    def api(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True)
class Read:
    """One boto3 call of the floor: a request, and its pages when paginated."""

    request: Request
    pages: int


@dataclass(frozen=True)
class Recording:
    """What one run made: its requests in order, outcomes, peak concurrency."""

    requests: tuple[Request, ...]
    outcomes: Counter[str]
    peak: int


class Recorder:
    """botocore event hooks that record every request a session's clients make.

    Handlers registered on a session before its clients exist are copied into
    each client, so attaching to a fresh session sees every call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._outcomes: Counter[str] = Counter()
        self._running = 0
        self._peak = 0

    def attach(self, events: Any) -> None:
        """Register the hooks on a session's (or client's) event emitter."""
        events.register("provide-client-params", self._started)
        events.register("after-call", self._finished)
        events.register("after-call-error", self._failed)

    def recording(self) -> Recording:
        with self._lock:
            return Recording(tuple(self._requests), self._outcomes.copy(), self._peak)

    def _started(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = str(model.service_model.service_name)
        request = Request(service, str(model.name), copy.deepcopy(params))
        with self._lock:
            self._requests.append(request)
            self._running += 1
            self._peak = max(self._peak, self._running)

    def _finished(self, parsed: dict[str, Any], **_: Any) -> None:
        code = parsed.get("Error", {}).get("Code") if parsed else None
        with self._lock:
            self._running -= 1
            self._outcomes[str(code or "ok")] += 1

    def _failed(self, exception: BaseException, **_: Any) -> None:
        with self._lock:
            self._running -= 1
            self._outcomes[type(exception).__name__] += 1


@dataclass(frozen=True)
class Size:
    """The measurements for one fleet size."""

    keys: int
    audit: float
    floor: float
    calls: int
    audit_peak: int
    floor_peak: int
    workers: int
    prowler: float | None
    audit_process: float | None


class ProcessSandbox:
    """``harbor-kms sandbox`` in a child process, driven over HTTP.

    It offers what :func:`measure` uses of :class:`Sandbox`: the endpoint, the
    region, the environment and a reset (the ``/_sandbox/reset`` control
    endpoint); seeding goes over HTTP either way.
    """

    region = "us-east-1"

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.endpoint_url = ""

    def __enter__(self) -> ProcessSandbox:
        command = [
            sys.executable,
            "-c",
            "from wizard.cli import main; raise SystemExit(main())",
        ]
        self._process = subprocess.Popen(
            [*command, "sandbox", "--scenario", "empty"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=TOP,
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        if not first.startswith("AWS sandbox on "):
            self.__exit__()
            raise RuntimeError(f"the sandbox did not start: {first!r}")
        self.endpoint_url = first.split()[3].rstrip(":")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def reset(self) -> None:
        request = urllib.request.Request(
            f"{self.endpoint_url}/_sandbox/reset", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    def environment(self) -> dict[str, str]:
        return sandbox_environment(self.endpoint_url, self.region)


AnySandbox = Sandbox | ProcessSandbox


def _seed(sandbox: AnySandbox, keys: int, config: Path) -> None:
    """An account with ``keys`` customer managed keys, and its values file."""
    sandbox.reset()
    scenario = "guide-as-written" if keys == 1 else f"many-keys:{keys - 1}"
    result = seed(sandbox.endpoint_url, scenario, sandbox.region)
    config.unlink(missing_ok=True)
    store.save(result.values(), config)


def _audit_argv(sandbox: AnySandbox, config: Path) -> list[str]:
    return [
        "audit",
        "--all-keys",
        "--format",
        "json",
        "--endpoint-url",
        sandbox.endpoint_url,
        "--config",
        str(config),
    ]


def _audit(argv: list[str]) -> int:
    """One audit in this process; the number of keys it reported."""
    out, err = io.StringIO(), io.StringIO()
    code = harbor_kms(argv, out, err)
    if code not in (0, 1):
        raise RuntimeError(f"audit exited {code}: {err.getvalue().strip()}")
    return len(json.loads(out.getvalue())["keys"])


def _record_audit(argv: list[str]) -> tuple[Recording, int, int]:
    """The audit's requests, its reader's pool size, and its own count of calls.

    The hooks go on the reader's boto3 session when ``connect`` (its first
    call) runs. The product has no public hook for this, so the session is
    reached through the private ``_clients``; nothing in the product changes.
    """
    recorder = Recorder()
    readers: list[AccountReader] = []
    connect = AccountReader.connect

    def recording_connect(reader: AccountReader) -> CallerIdentity:
        recorder.attach(reader._clients.session.events)
        readers.append(reader)
        return connect(reader)

    with mock.patch.object(AccountReader, "connect", recording_connect):
        _audit(argv)
    (reader,) = readers
    return recorder.recording(), reader.max_concurrency, len(reader.calls)


def _input_tokens(service: str, operation: str) -> frozenset[str]:
    """The parameters that carry a paginator's continuation token."""
    model = botocore.session.get_session().get_paginator_model(service)
    try:
        token = model.get_paginator(operation)["input_token"]
    except ValueError:  # the operation has no paginator
        return frozenset()
    return frozenset([token] if isinstance(token, str) else token)


def _plan(requests: tuple[Request, ...]) -> tuple[list[Read], list[Read]]:
    """The floor's calls: the ones a script makes first, then all the others.

    A request carrying a continuation token is a later page of the latest
    earlier request with the same operation and other parameters; the floor
    follows those with the paginator, as the audit did.
    """
    reads: list[Request] = []
    pages: list[int] = []
    for request in requests:
        tokens = _input_tokens(request.service, request.operation)
        if not tokens & request.params.keys():
            reads.append(request)
            pages.append(1)
            continue
        base = {k: v for k, v in request.params.items() if k not in tokens}
        first = max(
            i for i, r in enumerate(reads) if r.api == request.api and r.params == base
        )
        pages[first] += 1
    planned = [Read(r, n) for r, n in zip(reads, pages, strict=True)]
    lead = 0
    while lead < len(planned) and planned[lead].request.api in _FIRST:
        lead += 1
    return planned[:lead], planned[lead:]


def _floor(
    sandbox: AnySandbox,
    plan: tuple[list[Read], list[Read]],
    workers: int,
    recorder: Recorder | None = None,
) -> float:
    """Seconds a bare boto3 script takes to make the planned calls."""
    first, rest = plan
    start = time.perf_counter()
    session = boto3.session.Session(region_name=sandbox.region)
    if recorder is not None:
        recorder.attach(session.events)
    config = Config(max_pool_connections=workers)
    services = sorted({read.request.service for read in (*first, *rest)})
    clients = {
        service: session.client(  # type: ignore[call-overload]
            service, endpoint_url=sandbox.endpoint_url, config=config
        )
        for service in services
    }

    def call(read: Read) -> None:
        request = read.request
        client = clients[request.service]
        method = xform_name(request.operation)
        try:
            if read.pages > 1:
                for _ in client.get_paginator(method).paginate(**request.params):
                    pass
            else:
                getattr(client, method)(**request.params)
        except ClientError:
            pass  # the audit got the same error; the request was made

    for read in first:
        call(read)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(call, rest))
    return time.perf_counter() - start


def _check_floor(audit: Recording, floor: Recording) -> None:
    """The floor made the audit's requests, page for page, with its outcomes."""

    def key(request: Request) -> str:
        return json.dumps([request.api, request.params], sort_keys=True, default=str)

    made, wanted = Counter(map(key, floor.requests)), Counter(map(key, audit.requests))
    if made != wanted or floor.outcomes != audit.outcomes:
        extra = list((made - wanted).elements())[:3]
        missing = list((wanted - made).elements())[:3]
        raise RuntimeError(
            f"the floor's requests differ from the audit's: extra {extra}, "
            f"missing {missing}; outcomes {dict(floor.outcomes)} "
            f"vs {dict(audit.outcomes)}"
        )


def _best_of(repeat: int, *runs: Callable[[], object]) -> list[float]:
    """The best wall time of each run; the runs alternate, so drift hits all.

    The garbage of earlier runs is collected before each run: otherwise a
    collection of one run's objects (boto3 models, responses) lands in
    whichever run comes next and the timings alternate between two modes.
    """
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            gc.collect()
            start = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _prowler_command(given: str | None) -> list[str] | None:
    """How to run Prowler here, or None when it is not installed.

    ``--prowler PATH`` names its executable (it has heavy dependencies and is
    best kept in a virtual environment of its own); otherwise ``prowler`` on
    PATH, or the ``prowler`` package of this interpreter.
    """
    if given:
        return [given]
    found = shutil.which("prowler")
    if found:
        return [found]
    if importlib.util.find_spec("prowler") is not None:
        return [sys.executable, "-m", "prowler"]
    return None


def _audit_process(argv: list[str]) -> float:
    """Seconds of one ``harbor-kms audit`` in a process of its own.

    Prowler can only be timed as a command, start-up included, so the audit is
    timed the same way for that comparison.
    """
    command = [
        sys.executable,
        "-c",
        "from wizard.cli import main; raise SystemExit(main())",
        *argv,
    ]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--output", os.devnull],
        cwd=TOP,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 1:  # every seeded account has failing items
        raise RuntimeError(f"audit exited {done.returncode}: {done.stderr[-500:]}")
    return seconds


def _prowler(command: list[str], sandbox: AnySandbox) -> float:
    """Seconds of one Prowler run of the KMS, CloudTrail and CloudWatch checks."""
    with tempfile.TemporaryDirectory() as output:
        argv = [
            *command,
            "aws",
            "--service",
            "kms",
            "cloudtrail",
            "cloudwatch",
            "--region",
            sandbox.region,
            "--no-banner",
            "--output-directory",
            output,
        ]
        start = time.perf_counter()
        done = subprocess.run(
            argv,
            env={**os.environ, **sandbox.environment()},
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    # Prowler exits 3 when a check fails, which is expected of these keys.
    if done.returncode not in (0, 3):
        raise RuntimeError(f"prowler exited {done.returncode}: {done.stderr[-500:]}")
    return seconds


def measure(
    sandbox: AnySandbox, keys: int, repeat: int, prowler: list[str] | None
) -> Size:
    """Seed ``keys`` keys, then time the audit, the floor and Prowler on them."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "harbor-kms.toml"
        _seed(sandbox, keys, config)
        argv = _audit_argv(sandbox, config)

        audited, workers, counted = _record_audit(argv)
        found = _audit(argv)
        if found != keys or counted != len(audited.requests):
            raise RuntimeError(
                f"{keys} keys seeded, {found} audited; the audit counted {counted} "
                f"calls, the hooks saw {len(audited.requests)}"
            )
        plan = _plan(audited.requests)
        checker = Recorder()
        _floor(sandbox, plan, workers, checker)
        floored = checker.recording()
        _check_floor(audited, floored)

        audit, floor = _best_of(
            repeat, lambda: _audit(argv), lambda: _floor(sandbox, plan, workers)
        )
        prowled = _prowler(prowler, sandbox) if prowler else None
        alone = _audit_process(argv) if prowler else None
    return Size(
        keys=keys,
        audit=audit,
        floor=floor,
        calls=len(audited.requests),
        audit_peak=audited.peak,
        floor_peak=floored.peak,
        workers=workers,
        prowler=prowled,
        audit_process=alone,
    )


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def report(sizes: list[Size], repeat: int, prowler: bool) -> None:
    """Print the table and the scaling line."""
    print(
        f"audit --all-keys vs a bare boto3 floor making the same calls, "
        f"best of {repeat}"
    )
    print(
        f"{'keys':>5} {'audit s':>8} {'floor s':>8} {'audit/floor':>18} "
        f"{'calls':>6} {'per key':>8} {'in flight a/f':>14}"
    )
    for size in sizes:
        ratio = size.audit / size.floor
        verdict = f"{ratio:.2f} {_verdict(ratio <= FLOOR_TARGET)}"
        print(
            f"{size.keys:>5} {size.audit:>8.3f} {size.floor:>8.3f} {verdict:>18} "
            f"{size.calls:>6} {size.calls / size.keys:>8.1f} "
            f"{f'{size.audit_peak}/{size.floor_peak}':>14}"
        )
    workers = ", ".join(sorted({str(size.workers) for size in sizes}))
    print(
        f"  target audit/floor <= {FLOOR_TARGET}; floor threads {workers} (the "
        "audit reader's max_concurrency); in flight: peak concurrent requests"
    )

    by_keys = {size.keys: size for size in sizes}
    if 1 in by_keys and 100 in by_keys:
        scaling = by_keys[100].audit / by_keys[1].audit
        print(
            f"scaling: time(100 keys) / time(1 key) = {scaling:.1f} "
            f"({_verdict(scaling < SCALING_TARGET)} < {SCALING_TARGET:.0f}; "
            f"floor {by_keys[100].floor / by_keys[1].floor:.1f})"
        )
    elif len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(
            f"scaling: time({large.keys}) / time({small.keys}) = "
            f"{large.audit / small.audit:.1f} (the target is for 100 vs 1 key)"
        )

    if not prowler:
        print(
            "Prowler is not installed, so the ratio to Prowler's "
            "--service kms cloudtrail cloudwatch run was not measured."
        )
        return
    print(
        "Prowler --service kms cloudtrail cloudwatch and harbor-kms audit "
        "--all-keys, each as a command of its own (start-up included), one run:"
    )
    for size in sizes:
        assert size.prowler is not None and size.audit_process is not None
        print(
            f"  {size.keys:>4} keys: prowler {size.prowler:.2f} s, audit "
            f"{size.audit_process:.2f} s; prowler/audit "
            f"{size.prowler / size.audit_process:.1f}"
        )


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The sandbox's credentials and region for this process, restored after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv: list[str] | None = None) -> None:
    """Measure every size and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=5, help="best of R timings")
    parser.add_argument(
        "--emulator",
        choices=("process", "thread"),
        default="process",
        help="run the sandbox as its own process (default) or on a thread here",
    )
    parser.add_argument(
        "--prowler", metavar="PATH", help="Prowler's executable (default: PATH)"
    )
    args = parser.parse_args(argv)
    prowler = _prowler_command(args.prowler)
    sandbox: AnySandbox = (
        ProcessSandbox() if args.emulator == "process" else Sandbox(port=0)
    )
    where = "a child process" if args.emulator == "process" else "a thread here"
    print(f"emulator: the sandbox runs in {where}", flush=True)

    with sandbox, _environment(sandbox.environment()):
        sizes = [
            measure(sandbox, keys, max(1, args.repeat), prowler)
            for keys in sorted(args.sizes)
        ]
    report(sizes, max(1, args.repeat), prowler is not None)


if __name__ == "__main__":
    main()
