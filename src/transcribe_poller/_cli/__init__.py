"""The command-line layer: the ``transcribe-poller`` command, above the library.

:mod:`._main` parses and runs one subcommand, each a module with ``add_parser()``
and ``run() -> ExitCode``: ``wait`` (:mod:`._wait`) waits for jobs and shows its
progress (:mod:`._progress`), reading job names from arguments or files
(:mod:`._jobfile`); ``submit`` (:mod:`._submit`) starts a manifest's jobs
(:mod:`._manifest`) and waits for them as ``wait`` does; ``demo`` (:mod:`._demo`,
its tables in :mod:`._demo_report`) and ``local`` (:mod:`._local`) run the test
bed of :mod:`transcribe_poller.testing`.
Every subcommand ends with an :class:`~._status.ExitCode` and reports bad input by
raising :class:`~._status.UsageError`; argument types are in :mod:`._args`.

The arrows point one way: this layer imports the core and the testing kit, by their
public names only, and neither imports anything from here.
"""

from ._main import entry_point

__all__ = ["entry_point"]
