"""MkDocs hooks for the documentation site (see mkdocs.yml).

The docstrings use Sphinx roles (:class:`Poller`, :meth:`watch`) so that they read
well in ``help()`` and in editors; mkdocstrings renders the text as Markdown and
would show the roles verbatim. The name in backticks is what a reader needs.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|exc|data|obj|const):(<code>)")


def on_page_content(html: str, **_: Any) -> str:
    """Drop the role prefix in front of each rendered name."""
    return _ROLE.sub(r"\1", html)
