"""The command-line layer: the ``transcribe-poller`` command, above the library.

``wait`` (:mod:`._main`) waits for jobs with the public API and shows its progress
(:mod:`._progress`), reading job names from arguments or files (:mod:`._jobfile`);
``demo`` (:mod:`._demo`) and ``local`` (:mod:`._local`) run the test bed of
:mod:`transcribe_poller.testing`. The arrows point one way: this layer imports the
core and the testing kit, and neither imports anything from here.
"""

from ._main import entry_point

__all__ = ["entry_point"]
