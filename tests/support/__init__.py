"""Reusable test helpers shared by the suites under tests/.

pytest puts tests/ on ``sys.path`` (``pythonpath = ["tests"]``), so import them
as ``support.<module>``, e.g. ``from support.moto_server import start_moto``.

With tests/ on ``sys.path``, the folder tests/api would be found as a namespace
package named ``api`` before the installed (editable) ``api`` package, which
the import system only consults afterwards. Importing ``support`` therefore puts
the repository root first, so ``import api`` always means the real package.
(``pythonpath = [".", "tests"]`` in pyproject.toml would do the same.)
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if "api" in sys.modules and getattr(sys.modules["api"], "__file__", None) is None:
    del sys.modules["api"]  # a namespace-package impostor imported before this ran
