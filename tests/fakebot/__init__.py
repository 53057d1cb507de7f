"""A local fake of the Telegram Bot API for tests (see server.py for usage)."""

from .params import UploadedFile
from .server import DEFAULT_TOKEN, FakeTelegram

__all__ = ["DEFAULT_TOKEN", "FakeTelegram", "UploadedFile"]
