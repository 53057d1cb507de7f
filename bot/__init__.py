"""Telegram bot for labour migrants from Uzbekistan and their families."""

LOCALES = ("uz", "uz_Cyrl", "ru", "en")
