"""Announcements: the message users get, and what admins see while composing and sending one.

`names` maps a locale to its language's name in its own words (the catalogs' "Language name").
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import LOCALES
from bot.content.model import Content
from bot.i18n import Translator
from bot.services.announcements import ACTIVE_DAYS, Progress, Segment
from bot.services.requests import COUNTRIES
from bot.services.search import Result
from bot.views import callbacks, escape
from bot.views.countries import COUNTRY_NAMES, flagged
from bot.views.screens import Screen

TOPIC_RESULTS = 6


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line is not None)


# What users get.

def for_user(content: Content, t: Translator, locale: str, html: str,
             topic_key: str | None) -> Screen:
    """The announcement as its readers in `locale` see it: the text as the admin wrote it
    (Telegram HTML), the topic button in their language, and the way to stop them."""
    rows = []
    if topic_key and content.topic(topic_key) is not None:
        rows.append([_button(content.text(locale, topic_key).title,
                             callbacks.announced_topic(topic_key))])
    rows.append([_button(t("🔕 Stop announcements"), callbacks.STOP_ANNOUNCEMENTS)])
    return Screen(html, InlineKeyboardMarkup(rows))


def user_choice(t: Translator, off: bool) -> Screen:
    if off:
        text = t("🔕 Announcements are off: you get no news from the Migration Agency. "
                 "/announcements on turns them back on.")
        button = _button(t("🔔 Turn announcements on"), callbacks.ANNOUNCEMENTS_ON)
    else:
        text = t("🔔 Announcements are on: the Migration Agency sends you news that concerns "
                 "you, such as new entry rules. /announcements off stops them.")
        button = _button(t("🔕 Stop announcements"), callbacks.ANNOUNCEMENTS_OFF)
    return Screen(escape(text), InlineKeyboardMarkup(
        [[button], [_button(t("Main menu"), callbacks.MAIN_MENU)]]))


# Composing (admins, in the staff language).

def segment_summary(t: Translator, names: dict[str, str], segment: Segment) -> str:
    languages = (", ".join(names[locale] for locale in segment.locales) if segment.locales
                 else t("all languages"))
    countries = (", ".join(t(COUNTRY_NAMES[code]) for code in segment.countries)
                 if segment.countries else t("all countries"))
    active = (t("active in the last {days} days", days=segment.active_days)
              if segment.active_days else t("active any time"))
    cases = t("with an open request") if segment.open_case else t("with or without an open request")
    return "; ".join((languages, countries, active, cases))


def _count_line(t: Translator, names: dict[str, str], counts: dict[str, int]) -> str:
    by_locale = " · ".join(f"{names[locale]} {counts.get(locale, 0)}" for locale in LOCALES)
    return t("Recipients now: {count}", count=sum(counts.values())) + f" ({by_locale})"


def draft(t: Translator, names: dict[str, str], texts: dict[str, str], topic_title: str | None,
          segment: Segment, counts: dict[str, int]) -> Screen:
    marks = " · ".join(f"{'✅' if texts.get(locale) else '❌'} {names[locale]}" for locale in LOCALES)
    missing = [names[locale] for locale in LOCALES if not texts.get(locale)]
    title = t("📢 New announcement")
    text = _lines(
        f"<b>{escape(title)}</b>",
        escape(t("Texts:")) + " " + escape(marks),
        escape(t("Missing: {languages}. Their readers get another language's text (see the preview).",
                 languages=", ".join(missing))) if missing else None,
        escape(t("Topic button: {title}", title=topic_title) if topic_title
               else t("Topic button: none")),
        escape(t("Who gets it: {segment}", segment=segment_summary(t, names, segment))),
        escape(_count_line(t, names, counts)),
    )
    edit_row = [_button(f"✏️ {names[locale]}", callbacks.announce("edit", locale))
                for locale in LOCALES]
    rows = [edit_row[:2], edit_row[2:],
            [_button(t("📎 Topic button"), callbacks.announce("topic")),
             _button(t("🎯 Who gets it"), callbacks.announce("seg"))],
            [_button(t("👁 Preview"), callbacks.announce("prev")),
             _button(t("✖ Discard"), callbacks.announce("quit"))]]
    return Screen(text, InlineKeyboardMarkup(rows))


def _to_draft_row(t: Translator) -> list[InlineKeyboardButton]:
    return [_button(t("‹ Back"), callbacks.announce("menu"))]


def write_text(t: Translator, names: dict[str, str], locale: str) -> Screen:
    text = escape(t("Send the text for {language} readers as one message (bold, italic and "
                    "links are kept).", language=names[locale]))
    return Screen(text, InlineKeyboardMarkup([
        [_button(t("Skip this language"), callbacks.announce("skip"))], _to_draft_row(t)]))


def offer_transliteration(t: Translator, names: dict[str, str], html: str) -> Screen:
    """The Uzbek text transliterated into Cyrillic, offered as the uz_Cyrl text."""
    intro = escape(t("This {language} text was transliterated from the {source} text. Use it, "
                     "or send your own text.", language=names["uz_Cyrl"], source=names["uz"]))
    return Screen(f"{intro}\n\n{html}", InlineKeyboardMarkup([
        [_button(t("✅ Use it"), callbacks.announce("tr"))],
        [_button(t("Skip this language"), callbacks.announce("skip"))], _to_draft_row(t)]))


def choose_topic(t: Translator, results: list[Result] | None) -> Screen:
    """Ask for a word to find the topic by; `results`: what the last word found."""
    lines = [escape(t("Send a word to find the topic for the button, for example: patent"))]
    rows = []
    if results is not None and not results:
        lines.insert(0, escape(t("Nothing found. Try another word.")))
    for result in (results or [])[:TOPIC_RESULTS]:
        rows.append([_button(result.title, callbacks.announce("tk", result.key))])
    rows.append([_button(t("No topic button"), callbacks.announce("tk", "-"))])
    rows.append(_to_draft_row(t))
    return Screen("\n\n".join(lines), InlineKeyboardMarkup(rows))


def _toggle(selected: bool, label: str) -> str:
    return f"✅ {label}" if selected else label


def segment(t: Translator, names: dict[str, str], chosen: Segment,
            counts: dict[str, int]) -> Screen:
    title = t("🎯 Who gets it")
    text = _lines(f"<b>{escape(title)}</b>",
                  escape(segment_summary(t, names, chosen)),
                  escape(_count_line(t, names, counts)))
    languages = [_button(_toggle(locale in chosen.locales, names[locale]),
                         callbacks.announce("lang", locale)) for locale in LOCALES]
    countries = [_button(_toggle(code in chosen.countries, flagged(t, code)),
                         callbacks.announce("cty", code)) for code in COUNTRIES]
    days = [_button(_toggle(chosen.active_days is None, t("Any time")), callbacks.announce("days", "0"))]
    days += [_button(_toggle(chosen.active_days == n, t("{days} days", days=n)),
                     callbacks.announce("days", str(n))) for n in ACTIVE_DAYS]
    rows = [languages[:2], languages[2:]]
    rows += [countries[i:i + 3] for i in range(0, len(countries), 3)]
    rows += [days[:3], days[3:],
             [_button(_toggle(chosen.open_case, t("Only people with an open request")),
                      callbacks.announce("open"))],
             _to_draft_row(t)]
    return Screen(text, InlineKeyboardMarkup(rows))


def preview_label(t: Translator, names: dict[str, str], locale: str, count: int,
                  source: str) -> str:
    if source == locale:
        return escape(t("👁 {language} · recipients: {count}", language=names[locale], count=count))
    return escape(t("👁 {language} · recipients: {count} · they get the {source} text",
                    language=names[locale], count=count, source=names[source]))


def preview_summary(t: Translator, total: int, threshold: int) -> Screen:
    if total == 0:
        return Screen(escape(t("Nobody matches: change who gets it.")),
                      InlineKeyboardMarkup([_to_draft_row(t)]))
    lines = [escape(t("Total recipients: {count}.", count=total))]
    if total > threshold:
        lines.append(escape(t("Sending needs a second admin's approval: more than {threshold} "
                              "recipients.", threshold=threshold)))
    return Screen("\n".join(lines), InlineKeyboardMarkup([
        [_button(t("✅ Send (recipients: {count})", count=total), callbacks.announce("go"))],
        [_button(t("‹ Back"), callbacks.announce("menu")),
         _button(t("✖ Discard"), callbacks.announce("quit"))]]))


# Sending: progress, report, approval.

def _status(t: Translator, status: str) -> str:
    # The literal ids, so the catalogs know them.
    return {"awaiting_approval": t("Awaiting approval"), "sending": t("Sending"),
            "paused": t("Paused"), "done": t("Finished"), "cancelled": t("Stopped")}[status]


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def progress_text(t: Translator, names: dict[str, str], p: Progress) -> str:
    per_locale = [escape(t("{language}: {sent} of {total} sent", language=names[locale],
                           sent=p.by_locale[locale].get("sent", 0),
                           total=sum(p.by_locale[locale].values())))
                  for locale in LOCALES if locale in p.by_locale]
    title = t("📢 Announcement #{number}: {status}", number=p.id, status=_status(t, p.status))
    return _lines(
        f"<b>{escape(title)}</b>",
        escape(t("By {admin} on {date}", admin=p.created_by, date=_when(p.created_at))),
        escape(t("Who gets it: {segment}", segment=segment_summary(t, names, p.segment))),
        escape(t("Recipients: {count}", count=p.recipients)),
        escape(t("✅ Sent: {sent} · ⏳ Pending: {pending} · 🚫 Blocked: {blocked} · ❌ Failed: "
                 "{failed} · ⏭ Not sent: {skipped}", sent=p.sent, pending=p.pending,
                 blocked=p.blocked, failed=p.failed, skipped=p.not_sent)),
        *per_locale,
    )


def progress(t: Translator, names: dict[str, str], p: Progress) -> Screen:
    rows = []
    if p.status == "awaiting_approval":
        rows.append([_button(t("✅ Approve"), callbacks.announcement("approve", p.id)),
                     _button(t("✖ Reject"), callbacks.announcement("reject", p.id))])
    elif p.status == "sending":
        rows.append([_button(t("⏸ Pause"), callbacks.announcement("pause", p.id)),
                     _button(t("✖ Stop sending"), callbacks.announcement("cancel", p.id))])
    elif p.status == "paused":
        rows.append([_button(t("▶️ Resume"), callbacks.announcement("resume", p.id)),
                     _button(t("✖ Stop sending"), callbacks.announcement("cancel", p.id))])
    rows.append([_button(t("🔄 Refresh"), callbacks.announcement("view", p.id))])
    return Screen(progress_text(t, names, p), InlineKeyboardMarkup(rows))


def report(t: Translator, names: dict[str, str], p: Progress) -> str:
    """The final delivery report, for the staff group and the admin."""
    title = t("Delivery report")
    return _lines(f"<b>{escape(title)}</b>", progress_text(t, names, p))


def approval_request(t: Translator, names: dict[str, str], p: Progress) -> Screen:
    intro = escape(t("Announcement #{number} from {admin} (recipients: {count}) needs a second "
                     "admin's approval. Its preview is above.", number=p.id, admin=p.created_by,
                     count=p.recipients))
    screen = progress(t, names, p)
    return Screen(f"{intro}\n\n{screen.text}", screen.keyboard)


def recent(t: Translator, announcements: list[Progress]) -> Screen:
    if not announcements:
        return Screen(escape(t("Nothing here.")))
    title = t("Recent announcements")
    lines = [f"<b>{escape(title)}</b>"]
    rows = []
    for p in announcements:
        lines.append(escape(f"#{p.id} · {_status(t, p.status)} · {p.sent}/{p.recipients} · "
                            f"{_when(p.created_at)}"))
        rows.append([_button(f"#{p.id}", callbacks.announcement("view", p.id))])
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))
