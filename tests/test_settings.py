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


def test_audit_anchors_live_outside_the_store_and_can_be_moved(tmp_path: Path) -> None:
    env = {"ASSAY_HOME": str(tmp_path / "p"), "XDG_STATE_HOME": str(tmp_path / "state")}
    s = Settings.from_env(env)
    folder = Path(s.audit_key).parent
    assert folder.parent == tmp_path / "state" / "assay" / "audit"
    assert Path(s.audit_checkpoints) == folder / "checkpoints.jsonl"
    assert not folder.is_relative_to(tmp_path / "p")  # never inside the store it protects
    other = Settings.from_env({**env, "ASSAY_DB_URL": "sqlite:///elsewhere.db"})
    assert Path(other.audit_key).parent != folder  # one key per store
    moved = Settings.from_env({**env, "ASSAY_AUDIT_DIR": str(tmp_path / "vault")})
    assert moved.audit_key == str(tmp_path / "vault" / "signing.key")
    single = Settings.from_env({**env, "ASSAY_AUDIT_CHECKPOINTS": "s3://bucket/cps"})
    assert single.audit_checkpoints == "s3://bucket/cps" and single.audit_key == s.audit_key
    assert s.as_user(" bob ").user == "bob" and s.as_user("  ").user == s.user
