"""`cobro worker` runs the cycle's shards on the database queue or on RQ over Redis (#16), in real
subprocesses on a real database; the union of the shards equals a single-process run."""

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ci_env import in_ci
from subprocess_db import clone
from subprocess_db import run as _run
from subprocess_db import subprocess_env as _env

HERE = Path(__file__).parent
CRASH = str(HERE / "crash_worker.py")
SHARDS = str(HERE / "shard_worker.py")
DAY = "2026-03-04"


def unavailable(message: str):
    """Under CI a missing piece fails the test; elsewhere it skips, saying what is missing."""
    if in_ci():
        pytest.fail(f"{message} (under CI this fails instead of skipping)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(folder: Path, binds=("127.0.0.1",)) -> tuple[subprocess.Popen, int]:
    """A throwaway redis-server of this test (its own port and folder, nothing saved)."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", *binds, "--save", "", "--appendonly", "no",
                             "--protected-mode", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    unavailable(f"redis-server did not start on port {port}")


@pytest.fixture(scope="module")
def book(tmp_path_factory, request):
    """crash_worker's book migrated and built once (``template``), and one process's run of its day
    on a copy (``expected``, crash_worker's dump)."""
    folder = tmp_path_factory.mktemp("book")
    template = _env(folder, "template", request.addfinalizer)
    _run(template, "-m", "cobro", "migrate", "--noinput", "-v0")
    _run(template, SHARDS, "build")
    single = _env(folder, "single", request.addfinalizer)
    clone(template, single)
    _run(single, CRASH, "cycle", "0")
    expected = json.loads(_run(single, CRASH, "dump").stdout)
    assert len(expected["actions"]) > 40 and expected["tasks"] and expected["outbox"]
    return template, expected


def copy_of(book, tmp_path, request, name: str, **extra) -> dict:
    env = _env(tmp_path, name, request.addfinalizer, **extra)
    clone(book[0], env)
    return env


@pytest.mark.dbtest
@pytest.mark.parametrize("backend", ["db", "rq"])
def test_the_worker_runs_the_shards_on_either_queue(book, tmp_path, request, backend):
    extra = {"COBRO_TASKS_BACKEND": backend}
    if backend == "rq":
        redis, port = start_redis(tmp_path / "redis")
        request.addfinalizer(redis.kill)
        extra["COBRO_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    expected, env = book[1], copy_of(book, tmp_path, request, f"shards_{backend}", **extra)
    out = _run(env, "-m", "cobro", "cycle", "--org", "crash", "--as-of", DAY, "--shards", "3").stdout
    assert "enqueued 3 shards" in out
    assert not any(r["finished_at"] for r in json.loads(_run(env, SHARDS, "status").stdout))
    _run(env, SHARDS, "work", "0", "--once")
    rows = json.loads(_run(env, SHARDS, "status").stdout)
    assert [r["finished_at"] for r in rows] == [True, True, True]
    assert sum(r["created"] for r in rows) == len(expected["actions"])
    assert json.loads(_run(env, CRASH, "dump").stdout) == expected


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")


class TwoHosts:
    """Two network namespaces, each joined to this one by a veth pair: two "machines" that reach this
    side (where PostgreSQL and Redis are) at ``gateway[k]``, this side reaching them at ``address[k]``."""

    def __init__(self):
        tag = os.getpid() % 100000
        net = 20 + os.getpid() % 200
        self.names = [f"cobro{tag}h{k}" for k in range(2)]
        self.gateway = [f"10.{net}.{k}.1" for k in range(2)]
        self.address = [f"10.{net}.{k}.2" for k in range(2)]
        self._links = [f"cb{tag}v{k}" for k in range(2)]

    def up(self) -> None:
        for name, link, gateway, address in zip(self.names, self._links, self.gateway, self.address, strict=True):
            ip("netns", "add", name)
            ip("link", "add", link, "type", "veth", "peer", "name", f"{link}p")
            ip("link", "set", f"{link}p", "netns", name)
            ip("addr", "add", f"{gateway}/24", "dev", link)
            ip("link", "set", link, "up")
            ip("-n", name, "addr", "add", f"{address}/24", "dev", f"{link}p")
            ip("-n", name, "link", "set", f"{link}p", "up")
            ip("-n", name, "link", "set", "lo", "up")

    def down(self) -> None:
        for name, link in zip(self.names, self._links, strict=True):
            subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


class Forward:
    """A small TCP proxy: PostgreSQL listens on 127.0.0.1 only, the namespaces reach it through this,
    listening on each veth address of this side."""

    def __init__(self, addresses, target: tuple[str, int]):
        self.target, self.servers = target, []
        port = 0
        for address in addresses:
            server = socket.create_server((address, port))
            port = server.getsockname()[1]
            self.servers.append(server)
            threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        self.port = port

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        for server in self.servers:
            server.close()


def _read_lines(proc, number, lines: queue.Queue):
    for line in proc.stdout:
        lines.put((number, line))


@pytest.mark.dbtest
def test_three_workers_on_two_hosts_one_killed_mid_shard(book, tmp_path, request):
    """Three `cobro worker` processes on RQ over one Redis and one PostgreSQL, two in one network
    namespace and one in another (two hosts); the first of the pair to be in the middle of a shard is
    SIGKILLed.
    Its shard is redone by another worker, and the union of the shards equals one process's run."""
    url = os.environ.get("COBRO_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("the multi-host test runs against PostgreSQL (the PostgreSQL pass: COBRO_DATABASE_URL)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        unavailable("the multi-host test needs root and iproute2 (`ip netns`) to make two network namespaces")
    hosts = TwoHosts()
    request.addfinalizer(hosts.down)
    try:
        hosts.up()
    except OSError as exc:
        unavailable(f"cannot make two network namespaces: {exc}")
    redis, redis_port = start_redis(tmp_path / "redis", binds=("127.0.0.1", *hosts.gateway))
    request.addfinalizer(redis.kill)
    import dj_database_url

    db = dj_database_url.parse(url)
    proxy = Forward(hosts.gateway, (db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    request.addfinalizer(proxy.close)

    expected = book[1]
    env = copy_of(book, tmp_path, request, "hosts", COBRO_TASKS_BACKEND="rq", COBRO_SHARD_LEASE="4",
                  COBRO_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    count = 6
    assert f"enqueued {count} shards" in _run(env, "-m", "cobro", "cycle", "--org", "crash", "--as-of", DAY,
                                               "--shards", str(count)).stdout
    name = env["COBRO_DATABASE_URL"].rsplit("/", 1)[1]
    user = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
    workers, lines = [], queue.Queue()
    for number, host in enumerate((0, 0, 1)):
        there = dict(env, COBRO_DATABASE_URL=f"postgres://{user}{hosts.gateway[host]}:{proxy.port}/{name}",
                     COBRO_REDIS_URL=f"redis://{hosts.gateway[host]}:{redis_port}/0")
        proc = subprocess.Popen(["ip", "netns", "exec", hosts.names[host], sys.executable, SHARDS, "work", "0.25",
                                 "--every", "1"], env=there, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        request.addfinalizer(proc.kill)
        workers.append((proc, host))
        threading.Thread(target=_read_lines, args=(proc, number, lines), daemon=True).start()

    deadline, output = time.monotonic() + 45, []
    killed = None
    while killed is None:
        number, line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        output.append(line)
        if line.startswith("batch ") and workers[number][1] == 0:  # one of the pair on the first host
            killed, shard = number, int(line.split()[1])
            workers[number][0].send_signal(signal.SIGKILL)
            workers[number][0].wait()
    rows = json.loads(_run(env, SHARDS, "status").stdout)
    assert not rows[shard]["finished_at"], "the kill landed after the shard's end: it proves nothing"
    killed_name = rows[shard]["worker"]
    assert killed_name.endswith(f":{workers[killed][0].pid}")

    while not all(r["finished_at"] for r in rows):
        assert time.monotonic() < deadline, f"shards not all finished: {rows}\n{''.join(output)[-3000:]}"
        time.sleep(0.5)
        rows = json.loads(_run(env, SHARDS, "status").stdout)
    for proc, _ in workers:
        proc.terminate()
    for proc, _ in workers:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    assert rows[shard]["attempts"] >= 2 and rows[shard]["worker"] != killed_name
    pids = {int(r["worker"].rsplit(":", 1)[1]) for r in rows}
    hosts_used = {host for proc, host in workers if proc.pid in pids}
    assert hosts_used == {0, 1}, (rows, "each host should have finished shards")
    got = json.loads(_run(env, CRASH, "dump").stdout)
    assert got == expected  # every action, task and outbox row once: none lost, none twice
    # The killed attempt's committed batches are in the tables, not in the count of finished attempts.
    assert sum(r["created"] for r in rows) < len(expected["actions"])
