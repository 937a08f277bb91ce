"""``python -m transcribe_poller``: the same as the ``transcribe-poller`` command."""

from ._cli import entry_point

entry_point()
