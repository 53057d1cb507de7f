"""The operator's commands: clear one-line errors, exit codes, no token in output."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings
from tests.conftest import ROOT, TEST_TOKEN


def run_cli(*args: str, cwd, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "DATABASE_", "STAFF_", "ADMIN_"))}
    base.update(PYTHONPATH=str(ROOT), CONTENT_DIR=str(ROOT / "content"),
                LOCALES_DIR=str(ROOT / "locales"), **env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=base,
                          capture_output=True, text=True, timeout=120)


def test_run_without_token_says_so_in_one_line_and_exits_2(tmp_path):
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]


@pytest.mark.parametrize("variable, value", [("STAFF_CHAT_ID", "not-a-number"),
                                             ("ADMIN_IDS", "12,abc"),
                                             ("DEFAULT_LOCALE", "fr")])
def test_malformed_setting_names_the_variable_and_hides_the_token(tmp_path, variable, value):
    result = run_cli("run", cwd=tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, **{variable: value})
    assert result.returncode == 2
    assert variable in result.stderr
    assert TEST_TOKEN not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_settings_read_dotenv_and_parse_admin_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:abc\nADMIN_IDS=5, 6\nSTAFF_CHAT_ID=\n")
    settings = load_settings()
    assert settings.require_token() == "1:abc"
    assert settings.admin_ids == (5, 6)
    assert settings.staff_chat_id is None
    assert "1:abc" not in repr(settings)


def test_require_token_when_missing():
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        load_settings(_env_file=None, telegram_bot_token=None).require_token()


def test_content_check_passes_on_the_real_content(tmp_path):
    result = run_cli("content", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path):
    result = run_cli("db", "upgrade", cwd=tmp_path,
                     DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x/bot.db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x" / "bot.db").exists()


def test_staff_and_export_commands_from_the_shell(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    assert run_cli("staff", "add", "77", "--role", "admin", cwd=tmp_path, DATABASE_URL=url).returncode == 0
    listed = run_cli("staff", "list", cwd=tmp_path, DATABASE_URL=url)
    assert "77\tadmin" in listed.stdout
    assert "77 removed" in run_cli("staff", "remove", "77", cwd=tmp_path, DATABASE_URL=url).stdout
    assert run_cli("staff", "add", cwd=tmp_path, DATABASE_URL=url).returncode == 2
    exported = run_cli("export", "requests", "--since", "2026-01-01", "--format", "csv",
                       cwd=tmp_path, DATABASE_URL=url)
    assert exported.returncode == 0
    assert exported.stdout.splitlines()[0].startswith("number,status,created_at,topic_key")
    out = tmp_path / "interactions.jsonl"
    result = run_cli("export", "interactions", "--format", "jsonl", "--output", str(out),
                     cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0 and out.exists()


def test_head_revision_read_from_files_matches_alembic():
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config, head_revisions

    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    # One head, or several while revisions added side by side are not yet chained.
    assert head_revisions() == frozenset(script.get_heads())
