"""Settings read once from the environment (and `.env`) at start-up."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import LOCALES

WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    staff_chat_id: int | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_locale: str = "uz"
    staff_locale: str | None = None  # what staff read cards and reports in; DEFAULT_LOCALE if unset
    content_dir: Path = Path("content")
    locales_dir: Path = Path("locales")
    webhook_url: str | None = None
    # Telegram sends it with every update (setWebhook's secret_token); required with a webhook.
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    content_reload_seconds: float = Field(default=5.0, gt=0)
    retention_days: int = Field(default=365, ge=1)
    # Keep Telegram's sending limits (30 messages/s, 20/min per group). Only a self-hosted Bot
    # API server without limits, or a benchmark of the bot's own speed, turns this off.
    telegram_rate_limit: bool = True
    # Announcements: a segment larger than this needs a second admin's approval; they are
    # sent at this pace (a little below Telegram's ~30/s, so replies to people who are writing
    # still fit); paid broadcast (Telegram Stars) lets operators who pay go up to 1000/s.
    announce_approval_threshold: int = Field(default=1000, ge=0)
    announce_messages_per_second: float = Field(default=25.0, gt=0, le=1000)
    announce_paid_broadcast: bool = False
    # The staff console (bot/console): served beside the bot by `run`, or alone by
    # `python -m bot console`. CONSOLE_PUBLIC_URL is what /console links point to (the
    # address staff open, e.g. behind a reverse proxy with HTTPS); unset, the listen address.
    console_enabled: bool = True
    console_listen: str = "127.0.0.1"
    console_port: int = Field(default=8080, ge=0, le=65535)
    console_public_url: str | None = None
    console_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # The bot's username, where the operator set the console's domain with @BotFather
    # (/setdomain): the login page then offers the Telegram Login Widget too.
    console_login_widget_bot: str | None = None
    # Remind the staff group of cases that wait longer than this many hours (0: never).
    staff_reminder_hours: float = Field(default=24.0, ge=0)
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("default_locale", "staff_locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @property
    def console_url(self) -> str:
        return self.console_public_url or f"http://{self.console_listen}:{self.console_port}"

    @field_validator("telegram_api_url", "webhook_url", "console_public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1 to 256 characters: A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("staff_chat_id", "webhook_url", "webhook_secret", "telegram_bot_token",
                     "staff_locale", "console_public_url", "console_login_widget_bot",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def require_webhook_secret(self) -> None:
        if self.webhook_url and self.webhook_secret is None:
            raise SettingsError(
                "WEBHOOK_SECRET is not set: with WEBHOOK_URL, set it to a random string of "
                "1-256 characters (A-Z, a-z, 0-9, _ and -), e.g. from `openssl rand -hex 32`")

    def require_token(self) -> str:
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env"
            )
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{variable} is malformed: {first['msg']}") from None
