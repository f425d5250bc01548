"""Real peers for the adapter tests: an SMTP server (aiosmtpd, in this venv), an S3 server
(moto, from bankflow-s3/scripts/moto-venv.sh) and a Kafka broker (tansu, via
scripts/kafka-broker.sh). Each fails the test, never skips it, when it cannot start."""

import os
import pathlib
import socket
import subprocess
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: How long a peer may take to accept connections (Python imports are slow on a cold cache).
START_TIMEOUT_S = 60
MOTO_ACCESS_KEY_ID = "bankflow-test"
MOTO_SECRET_ACCESS_KEY = "bankflow-test-secret"
MOTO_REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, log):
    deadline = time.time() + START_TIMEOUT_S
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"peer exited ({proc.returncode}): {pathlib.Path(log).read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on {port} within {START_TIMEOUT_S}s: {pathlib.Path(log).read_text()}")


class SmtpServer:
    """aiosmtpd on a free port, keeping every accepted message."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.arrived = threading.Event()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append(envelope)
                outer.arrived.set()
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


class MotoServer:
    """`python -m moto.server` on a free port; objects are read back with boto3, not with the
    adapter under test."""

    def __init__(self, tmp):
        python = subprocess.run(
            ["bash", str(ROOT / "bankflow-s3/scripts/moto-venv.sh")],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        self.python = python
        self.port = free_port()
        self.log = tmp / "moto.log"
        self.proc = subprocess.Popen(
            [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),
        )
        wait_listening(self.port, self.proc, self.log)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def documents_url(self, bucket):
        return f"s3://{bucket}?endpoint={self.endpoint}&region={MOTO_REGION}&allow_http=true"

    def boto3(self, code, *args):
        """Runs `code` with an independent S3 client `s3` (boto3 from moto's venv)."""
        prelude = (
            "import sys, boto3\n"
            f"s3 = boto3.client('s3', endpoint_url='{self.endpoint}', region_name='{MOTO_REGION}',"
            f" aws_access_key_id='{MOTO_ACCESS_KEY_ID}', aws_secret_access_key='{MOTO_SECRET_ACCESS_KEY}')\n"
        )
        return subprocess.run([self.python, "-c", prelude + code, *args],
                              check=True, capture_output=True, text=True).stdout

    def create_bucket(self, bucket):
        self.boto3("s3.create_bucket(Bucket=sys.argv[1])", bucket)

    def objects(self, bucket):
        """Every object of `bucket` as {key: bytes}."""
        out = self.boto3(
            "for o in s3.list_objects_v2(Bucket=sys.argv[1]).get('Contents', []):\n"
            "    print(o['Key'] + '\\t' + s3.get_object(Bucket=sys.argv[1], Key=o['Key'])['Body'].read().hex())",
            bucket,
        )
        return {k: bytes.fromhex(h) for k, h in (line.split("\t") for line in out.splitlines())}

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Broker:
    """A tansu broker started with scripts/kafka-broker.sh in `dir`."""

    def __init__(self, dir, port):
        self.dir, self.port = str(dir), port

    def start(self):
        self._script("start", str(self.port))

    def stop(self):
        self._script("stop")

    def _script(self, *args):
        r = subprocess.run(["bash", str(ROOT / "scripts/kafka-broker.sh"), args[0], self.dir, *args[1:]],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"kafka-broker.sh {args[0]} failed: {r.stderr}")


def aws_env():
    """The credentials the S3 adapter reads from the environment (moto accepts any)."""
    os.environ["AWS_ACCESS_KEY_ID"] = MOTO_ACCESS_KEY_ID
    os.environ["AWS_SECRET_ACCESS_KEY"] = MOTO_SECRET_ACCESS_KEY
