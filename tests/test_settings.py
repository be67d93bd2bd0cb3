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


def test_audit_anchors_live_outside_the_store_and_follow_the_chain(tmp_path: Path) -> None:
    env = {"ASSAY_HOME": str(tmp_path / "p"), "XDG_STATE_HOME": str(tmp_path / "state")}
    s = Settings.from_env(env)
    # No path of the store's: keys are found by key id, checkpoints by chain.
    assert (s.audit_key, s.audit_checkpoints) == ("", "")
    assert s.audit_home == str(tmp_path / "state" / "assay")
    assert s.audit_key_location() == str(tmp_path / "state" / "assay" / "keys" / "<key id>.key")
    assert "checkpoints" in s.audit_checkpoint_location()
    assert not Path(s.audit_home).is_relative_to(tmp_path / "p")  # never inside the store
    other = Settings.from_env({**env, "ASSAY_DB_URL": "sqlite:///elsewhere.db"})
    assert other.audit_home == s.audit_home  # one keyring; each chain has its own key
    moved = Settings.from_env({**env, "ASSAY_AUDIT_DIR": str(tmp_path / "vault")})
    assert moved.audit_key == str(tmp_path / "vault" / "signing.key")
    assert moved.audit_checkpoints == str(tmp_path / "vault" / "checkpoints.jsonl")
    assert moved.audit_key_location() == moved.audit_key
    single = Settings.from_env({**env, "ASSAY_AUDIT_CHECKPOINTS": "s3://bucket/cps"})
    assert single.audit_checkpoints == "s3://bucket/cps" and single.audit_key == ""
    key_only = Settings.from_env({**env, "ASSAY_AUDIT_KEY": str(tmp_path / "k.key")})
    assert (key_only.audit_key, key_only.audit_checkpoints) == (str(tmp_path / "k.key"), "")
    assert s.as_user(" bob ").user == "bob" and s.as_user("  ").user == s.user
