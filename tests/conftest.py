"""Shared fixtures. The local test bed fixtures (local_transcribe, local_transcribe_server)
come from the package's own pytest plugin, exactly as users get them."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # aiobotocore's transport is aiohttp, which needs asyncio.
    return "asyncio"
