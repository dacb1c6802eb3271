"""Tests of the sandbox (extractors/sandbox).

Why this file has code: pytest puts `tests/` on sys.path (rootdir conftest, no
`tests/__init__.py`), so `tests/extractors/` can be imported as a namespace package named
`extractors`, and this folder would then shadow the real `extractors.sandbox` for every
test that imports it. When imported under that name, this module hands over to the real
package: its folder goes first on `__path__` and its `__init__` runs here. Under its own
test-package name it is an ordinary, empty package. The lasting fix is
`pythonpath = ["."]` in pytest's settings (pyproject.toml), which the lead owns.
"""

if __name__ == "extractors.sandbox":
    from pathlib import Path as _Path

    _real = _Path(__file__).resolve().parents[3] / "extractors" / "sandbox"
    __path__.insert(0, str(_real))  # noqa: F821 - a package's own __path__
    __file__ = str(_real / "__init__.py")
    exec(compile((_real / "__init__.py").read_text(), __file__, "exec"))
