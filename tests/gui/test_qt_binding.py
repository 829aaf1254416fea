"""The Qt binding itself: guard against PySide6 builds that corrupt reference counts.

PySide6 6.12.0 on Python < 3.12 drops a reference to None on every call of a Qt
method returning nothing; a live chart aborts the app ("none_dealloc") within a
minute. pyproject.toml excludes that release; this test catches a repeat.
"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")


def test_void_qt_calls_do_not_leak_references_to_none(qapp):
    from PySide6.QtWidgets import QWidget

    w = QWidget()
    before = sys.getrefcount(None)
    for _ in range(2000):
        w.update()
        w.isVisible()
    assert abs(sys.getrefcount(None) - before) < 100
