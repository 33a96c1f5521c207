from pathlib import Path

from appwarden.settings import GATEWAY_SETTINGS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_gateway_setting_is_explained_in_gateways_md():
    text = (DOCS / "gateways.md").read_text(encoding="utf-8")
    missing = [s.name for s in GATEWAY_SETTINGS if s.name not in text]
    assert not missing, f"docs/gateways.md misses {missing}"
