"""The data folder does not depend on the working directory: a checkout's own folder (found from
the code's location), else the user's data directory; ``DATA_DIR`` overrides both."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from infra.settings import default_data_dir, load_settings, project_root

CHECKOUT = Path(__file__).resolve().parents[3]


def _project(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    return folder


def test_a_checkout_keeps_its_data_in_its_own_folder_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_settings().data_dir == CHECKOUT / ".amazon-channel"


def test_the_nearest_pyproject_naming_this_project_is_the_root(tmp_path: Path) -> None:
    root = _project(tmp_path / "clone", "amazon-channel")
    _project(root / "vendor" / "other", "something-else")
    module = root / "vendor" / "other" / "pkg" / "settings.py"
    assert project_root(module) == root
    assert default_data_dir(module) == root / ".amazon-channel"


def test_an_installed_copy_uses_the_users_data_directory(tmp_path: Path) -> None:
    _project(tmp_path / "site", "not-this-project")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "pyproject.toml").write_text("[project\nname=")
    for module in (tmp_path / "site" / "infra" / "settings.py", tmp_path / "broken" / "x.py"):
        assert project_root(module) is None
        assert default_data_dir(module) == platformdirs.user_data_path("amazon-channel")


def test_data_dir_overrides_and_a_relative_one_is_taken_from_where_the_command_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", "mine")
    assert load_settings().data_dir == tmp_path / "mine"
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings().data_dir == tmp_path / "elsewhere"
