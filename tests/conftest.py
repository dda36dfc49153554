"""Shared fixtures: a fresh copy of the tiny valid network for each test that corrupts it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
TINY_VALID = DATA / "tiny_valid"


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A writable copy of ``tests/data/tiny_valid`` (scenario.yaml + CSV tables)."""
    dest = tmp_path / "tiny"
    shutil.copytree(TINY_VALID, dest)
    return dest


@pytest.fixture
def tiny_scenario(tiny_dir: Path) -> Path:
    """The scenario file of :func:`tiny_dir`."""
    return tiny_dir / "scenario.yaml"
