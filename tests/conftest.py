import os
from pathlib import Path

import pytest

from tests.support.builders import engine

ARTIFACTS = Path(os.environ.get("APPWARDEN_ARTIFACTS", Path(__file__).parent.parent / "artifacts"))


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def compliance(tmp_path):
    eng = engine(tmp_path / "aw.db")
    yield eng
    eng.store.close()
