"""config/settings.py read afresh under other environment variables, for tests of what
the settings make of them."""

import importlib.util
from pathlib import Path
from types import ModuleType

SETTINGS = Path(__file__).resolve().parents[1] / "config" / "settings.py"


def settings_with(monkeypatch, *, unset: tuple[str, ...] = (), **env: str) -> ModuleType:
    """The settings module executed under `env` (with the variables in `unset` removed),
    without touching the live settings; monkeypatch restores the environment.

    A secret key is set unless `env` names one or `unset` removes it: with DEBUG=0 the
    settings refuse to load without one.
    """
    if "SECRET_KEY" not in unset:
        env.setdefault("SECRET_KEY", "settings-under-test-secret-key-0123456789abcdef")
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
