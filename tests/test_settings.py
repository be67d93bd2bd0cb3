from __future__ import annotations

from pathlib import Path

from assay import Settings


def test_settings_precedence(tmp_path: Path) -> None:
    env = {"ASSAY_HOME": str(tmp_path / "home"), "ASSAY_USER": " carol "}
    s = Settings.from_env(env)
    assert s.db_url == f"sqlite:///{(tmp_path / 'home').resolve() / '.assay' / 'assay.db'}"
    assert s.user == "carol"
    explicit = Settings.from_env(env, project_dir=tmp_path / "given")
    assert explicit.artifact_root == str((tmp_path / "given").resolve() / ".assay" / "artifacts")
    custom = Settings.from_env(
        {**env, "ASSAY_DB_URL": "sqlite://", "ASSAY_ARTIFACT_ROOT": "memory://a"}
    )
    assert (custom.db_url, custom.artifact_root) == ("sqlite://", "memory://a")


def test_user_is_never_blank(tmp_path: Path) -> None:
    assert Settings.from_env({"ASSAY_USER": "   "}, project_dir=tmp_path).user.strip()
