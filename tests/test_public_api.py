"""The public surface stays small and deliberate."""

from __future__ import annotations

import transcribe_poller
import transcribe_poller.testing


def test_all_lists_exactly_the_public_names() -> None:
    """__all__ matches the names the package exports, and each one resolves."""
    # (pytest rewrites the package, being a plugin, and adds "@py_*" names.)
    public = {n for n in dir(transcribe_poller) if n.isidentifier() and not n.startswith("_")}
    modules = {"testing"}  # the subpackage, once imported
    assert set(transcribe_poller.__all__) == public - modules
    for name in transcribe_poller.__all__:
        assert getattr(transcribe_poller, name) is not None
    for name in transcribe_poller.testing.__all__:
        assert getattr(transcribe_poller.testing, name) is not None
