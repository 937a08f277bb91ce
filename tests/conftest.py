"""Shared fixtures. The local test bed fixtures (local_transcribe, local_transcribe_server)
come from the package's own pytest plugin, exactly as users get them."""

from __future__ import annotations

from pathlib import Path

import pytest

# Modules whose tests run other processes (the command line, examples, benchmarks).
SUBPROCESS_MODULES = frozenset(
    {
        "test_benchmarks.py",
        "test_cli_local.py",
        "test_examples.py",
        "test_pytest_asyncio_kit.py",
        "test_scale_benchmark.py",
        "test_submit_benchmark.py",
    }
)
# Modules outside tests/virtual whose tests run in memory only (pure logic, the fake).
IN_MEMORY_MODULES = frozenset(
    {
        "test_backoff.py",
        "test_classify.py",
        "test_documents.py",
        "test_jobs.py",
        "test_layout.py",
        "test_progress.py",
        "test_public_api.py",
        "test_scrub.py",
        "test_sightings.py",
        "test_testing_fake.py",
    }
)
VIRTUAL = Path(__file__).parent / "virtual"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Sort every test into one tier, so `pytest -m virtual` runs in seconds:
    ``virtual`` (in memory: the fake under a virtual clock, and pure logic),
    ``subprocess`` (runs other processes), ``wire`` (the rest: real aiobotocore
    clients against the local test bed on 127.0.0.1). A new module is ``wire``
    until listed here."""
    for item in items:
        path = Path(str(item.fspath))
        if VIRTUAL in path.parents or path.name in IN_MEMORY_MODULES:
            item.add_marker(pytest.mark.virtual)
        elif path.name in SUBPROCESS_MODULES:
            item.add_marker(pytest.mark.subprocess)
        else:
            item.add_marker(pytest.mark.wire)


@pytest.fixture
def anyio_backend() -> str:
    # aiobotocore's transport is aiohttp, which needs asyncio.
    return "asyncio"
