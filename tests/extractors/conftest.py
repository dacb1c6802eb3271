"""Make `extractors` resolve to the project package, not to this `tests/extractors` folder.

pytest puts `tests/` on sys.path (the rootdir conftest, no __init__.py); there the folder
`tests/extractors/` would shadow the real package as an empty namespace package.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [ROOT]:
    sys.path.insert(0, ROOT)
for name in [m for m in sys.modules if m == "extractors" or m.startswith("extractors.")]:
    if getattr(sys.modules[name], "__file__", None) is None:
        del sys.modules[name]
