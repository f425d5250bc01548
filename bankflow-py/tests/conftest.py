"""Shared fixtures: a bank per test, on every backend this machine has."""

import os
import subprocess
import urllib.parse
import uuid

import pytest

import bankflow


def fresh_postgres_database(base_url):
    """Creates an empty database next to DATABASE_URL's (one per test, so ledger totals are
    the test's own); returns its URL and a function that drops it."""
    name = "bf_py_" + uuid.uuid4().hex[:16]
    psql = ["psql", base_url, "-v", "ON_ERROR_STOP=1", "-q", "-c"]
    subprocess.run(psql + [f'CREATE DATABASE "{name}"'], check=True)
    url = urllib.parse.urlsplit(base_url)._replace(path="/" + name).geturl()
    return url, lambda: subprocess.run(psql + [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def bank(request, tmp_path):
    """A fresh engine on each backend. PostgreSQL runs when DATABASE_URL is set
    (scripts/ci.sh sets it via scripts/pg-test-env.sh) and is skipped otherwise."""
    if request.param == "memory":
        return bankflow.Bank.open(":memory:")
    if request.param == "sqlite":
        return bankflow.Bank.open(str(tmp_path / "bank.db"))
    base = os.environ.get("DATABASE_URL")
    if not base:
        pytest.skip("DATABASE_URL is not set (source scripts/pg-test-env.sh)")
    url, drop = fresh_postgres_database(base)
    request.addfinalizer(drop)
    return bankflow.Bank.open(url)


@pytest.fixture
def customer_id():
    return str(uuid.uuid4())


def key():
    """A fresh idempotency key."""
    return f"k-{uuid.uuid4()}"
