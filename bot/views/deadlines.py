"""My deadlines: the screens of each step, the answer and the reminder. Pure: a `Step` (see
bot/services/deadlines.py) and a translator in, text and keyboard out."""
from __future__ import annotations

import calendar
import html
from datetime import date, timedelta

from babel.dates import format_date, get_day_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.deadlines import Deadline, Rule
from bot.deadlines.reminders import DAYS_BEFORE, REMINDER_HOUR
from bot.i18n import N_, Translator
from bot.services import deadlines as steps
from bot.services.deadlines import ReminderDue, Step, counts_a_window, needs_contract
from bot.views import callbacks, escape
from bot.views.screens import Screen

COUNTRY_NAMES = {
    "RU": N_("Russia"), "KZ": N_("Kazakhstan"), "TR": N_("Türkiye"), "KR": N_("South Korea"),
    "GB": N_("United Kingdom"),
}
ZONE_NAMES = {
    "RU": N_("Moscow time"), "KZ": N_("Kazakhstan time"), "TR": N_("Türkiye time"),
    "GB": N_("UK time"), "KR": N_("Korea time"),
}
ERRORS = {
    "not_a_date": N_("I could not read a date there. Please type it like 12.11.2026, or pick "
                     "the day below."),
    "impossible": N_("There is no such day in the calendar. Please check the day and the month."),
    "far_future": N_("That date is more than a year ahead. Please check the year."),
    "far_past": N_("That date is more than ten years ago. Please check the year."),
    steps.USE_BUTTONS: N_("Please pick the day below or type the date."),
    steps.TOO_MANY_STAYS: N_("You can add up to {limit} earlier stays."),
    steps.STAY_AHEAD: N_("An earlier stay cannot be in the future. Please check the date."),
}
NOTICES = {
    steps.REMINDERS_ON: N_("🔔 Reminders are on."),
    steps.REMINDERS_OFF: N_("🔕 All reminders are stopped. Your dates are kept until you delete "
                            "them or the deadlines pass."),
    steps.DECLINED: N_("No reminders. You can turn them on here at any time."),
    steps.STALE: N_("That button is no longer current."),
    steps.STAYS_DROPPED: N_("Earlier stays that ended after the new entry date were removed."),
    steps.NO_PLAN: N_("You have no saved dates."),
}
PROMPTS = {
    "entry": N_("{country}: when did you enter? Pick the day below or type the date, e.g. "
                "12.11.2026, 12/11 or 12 noyabr. Not there yet? Type the planned date with the "
                "year."),
    "contract": N_("When did your labour contract take effect? Pick the day or type the date. "
                   "Don't know it yet? Press Skip."),
    "from": N_("An earlier stay ({country}): on which day did you enter that time? Pick the "
               "day or type the date."),
}
SEPARATOR = "\n\n"


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def country_name(t: Translator, country: str | None) -> str:
    return t(COUNTRY_NAMES[country]) if country in COUNTRY_NAMES else (country or "")


# Babel's long Russian date ends in "г." (with a narrow space), which sentences would end in
# twice: "… 2026 г..".
DATE_FORMATS = {"ru": "d MMMM y"}


def long_date(day: date, locale: str) -> str:
    return format_date(day, format=DATE_FORMATS.get(locale, "long"), locale=locale)


def short_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _bold(text: str) -> str:
    return f"<b>{escape(text)}</b>"


def _title(t: Translator) -> str:
    return _bold(t("📅 My deadlines"))


def _main_menu_row(t: Translator) -> list[InlineKeyboardButton]:
    # Through this feature, so that a step waiting for a date ends when the user leaves.
    return [_button(t("Main menu"), callbacks.deadlines("menu"))]


def _with_notice(t: Translator, step: Step, parts: list[str]) -> list[str]:
    if step.notice == steps.DONE and step.notice_rule is not None:
        title = step.notice_rule.title.get(t.locale, step.notice_rule.key)
        return [escape(t("✅ No more reminders about “{title}”.", title=title)), *parts]
    if step.notice in NOTICES:
        return [escape(t(NOTICES[step.notice])), *parts]
    return parts


def render(step: Step, t: Translator) -> Screen:
    """The screen for a step of the conversation."""
    return {
        steps.COUNTRIES: countries,
        steps.DATE: date_step,
        steps.STAYS: stays,
        steps.RESULT: result,
        steps.CONSENT: consent,
        steps.FORGOTTEN: forgotten,
    }.get(step.screen, unavailable)(step, t)


def unavailable(step: Step, t: Translator) -> Screen:
    return Screen(SEPARATOR.join([_title(t), escape(t(
        "My deadlines is not available right now. Please try again later."))]),
        InlineKeyboardMarkup([_main_menu_row(t)]))


def countries(step: Step, t: Translator) -> Screen:
    parts = _with_notice(t, step, [_title(t), escape(t(
        "I will count your days and deadlines from your date of entry. Which country are you "
        "in?"))])
    rows = [[_button(country_name(t, code), callbacks.deadlines("c", code))]
            for code in step.countries]
    rows.append(_main_menu_row(t))
    return Screen(SEPARATOR.join(parts), InlineKeyboardMarkup(rows))


def _prompt(step: Step, t: Translator) -> str:
    country = country_name(t, step.country)
    if step.field == "to":
        return t("And on which day did that stay end (it began on {date})? Pick the day or type "
                 "the date.", date=long_date(step.stay_from, t.locale))
    return t(PROMPTS[step.field], country=country)


def _error(step: Step, t: Translator) -> str | None:
    if step.error is None:
        return None
    if step.error == steps.ENDS_BEFORE_START:
        return t("A stay cannot end before it began ({date}). Please give the day you left.",
                 date=long_date(step.stay_from, t.locale))
    if step.error == steps.AFTER_ENTRY and step.plan is not None:
        return t("An earlier stay must be before your present entry on {date}.",
                 date=long_date(step.plan.entry, t.locale))
    return t(ERRORS.get(step.error, ERRORS["not_a_date"]), limit=steps.MAX_STAYS)


def date_step(step: Step, t: Translator) -> Screen:
    parts = [_title(t)]
    error = _error(step, t)
    if error:
        parts.append("⚠️ " + escape(error))
    parts.append(escape(_prompt(step, t)))
    rows = calendar_rows(t, step.field, step.month, step.earliest, step.latest, step.today)
    extra = []
    if step.earliest <= step.today <= step.latest:
        extra.append(_button(t("Today"), callbacks.deadlines("p", step.field,
                                                             int(step.today.strftime("%Y%m%d")))))
    if step.field == "contract":
        extra.append(_button(t("Skip"), callbacks.deadlines("skip")))
    if extra:
        rows.append(extra)
    if step.field in ("from", "to"):
        rows.append([_button(t("‹ Back"), callbacks.deadlines("stays"))])
    elif step.plan is not None and not step.setup:
        rows.append([_button(t("‹ Back"), callbacks.deadlines("res"))])
    else:
        rows.append([_button(t("✖️ Cancel"), callbacks.deadlines("menu"))])
    return Screen(SEPARATOR.join(parts), InlineKeyboardMarkup(rows))


def calendar_rows(t: Translator, field: str, month: date, earliest: date, latest: date,
                  today: date | None) -> list[list[InlineKeyboardButton]]:
    """A month of days to pick, with ‹ › to the months around it within the bounds."""
    noop = callbacks.NOOP
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    title = format_date(month, "LLLL y", locale=t.locale)
    rows = [[
        _button("‹", callbacks.deadlines("v", field, int(previous.strftime("%Y%m"))))
        if previous >= earliest.replace(day=1) else _button("·", noop),
        _button(title[:1].upper() + title[1:], noop),
        _button("›", callbacks.deadlines("v", field, int(following.strftime("%Y%m"))))
        if following <= latest else _button("·", noop),
    ]]
    names = get_day_names("short", context="stand-alone", locale=t.locale)
    rows.append([_button(names[weekday], noop) for weekday in range(7)])  # Monday first
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        row = []
        for day in week:
            if day.month != month.month or not earliest <= day <= latest:
                row.append(_button("·", noop))
                continue
            label = f"[{day.day}]" if day == today else str(day.day)
            row.append(_button(label, callbacks.deadlines("p", field, int(day.strftime("%Y%m%d")))))
        rows.append(row)
    return rows


def stays(step: Step, t: Translator) -> Screen:
    plan, country = step.plan, country_name(t, step.country)
    window_rules = [rule.title.get(t.locale, rule.key) for rule in step.rules
                    if any(reading.counts_a_window for reading in rule.readings)]
    parts = [_bold(t("🧳 Earlier stays: {country}", country=country)),
             escape(t("Some rules count the days over a period, so earlier stays count too: "
                      "{rules}.", rules="; ".join(window_rules))),
             escape(t("Add each stay in this country in the last 12 months: the day you entered "
                      "and the day you left."))]
    if step.error:
        parts.insert(0, "⚠️ " + escape(_error(step, t)))
    if plan.stays:
        parts.append("\n".join(
            "• " + escape(t("{entered} – {left} ({days} days)", entered=long_date(a, t.locale),
                            left=long_date(b, t.locale), days=(b - a).days + 1))
            for _, a, b in plan.stays))
    else:
        parts.append(escape(t("No earlier stays added.")))
    rows = [[_button(t("➕ Add a stay"), callbacks.deadlines("add"))]]
    rows += [[_button(f"🗑 {short_date(a)} – {short_date(b)}", callbacks.deadlines("rm", str(i)))]
             for i, a, b in plan.stays]
    rows.append([_button(t("✅ Show my deadlines"), callbacks.deadlines("res"))])
    rows.append(_main_menu_row(t))
    return Screen(SEPARATOR.join(parts), InlineKeyboardMarkup(rows))


def when(t: Translator, days: int) -> str:
    if days == 0:
        return t("today")
    if days == 1:
        return t("tomorrow")
    if days == -1:
        return t("yesterday")
    if days > 1:
        return t("in {days} days", days=days)
    return t("{days} days ago", days=-days)


def _sources(t: Translator, deadline: Deadline) -> str:
    titles = []
    for source in deadline.sources:
        title = escape(source.title)
        if source.url:
            title = f'<a href="{html.escape(source.url)}">{title}</a>'
        titles.append(title)
    heading = escape(t("Sources:"))
    return f"<i>{heading} {'; '.join(titles)}</i>"


def deadline_lines(t: Translator, deadline: Deadline, reference: date) -> list[str]:
    """What one rule means today: its date (or days used and left) and what it rests on.
    `reference` is the day the window rules are counted for: today, or the entry if ahead."""
    locale = t.locale
    rule = deadline.rule
    unconfirmed = t("to be confirmed")
    title = escape(rule.title.get(locale, rule.key))
    if not deadline.verified:
        title += " — ⚠️ " + escape(unconfirmed)
    lines = [f"<b>{title}</b>"]
    if deadline.missing_event is not None:
        lines.append("❔ " + escape(t("Add the date your labour contract took effect to count this.")))
    elif deadline.days_used is not None:
        lines.append(escape(t("Days of stay from {start} to {end}: {used} of {allowed}.",
                              start=long_date(deadline.window_start, locale),
                              end=long_date(reference, locale),
                              used=deadline.days_used, allowed=deadline.days_allowed)))
        if deadline.over_limit:
            lines.append("❗ " + escape(t("Over the limit by {days} days. The last allowed day was "
                                         "{date}.", days=-deadline.days_left_in_window,
                                         date=long_date(deadline.deadline, locale))))
        else:
            lines.append(escape(t("Days left: {left}. Staying without a break, your last day is "
                                  "{date} ({when}).", left=deadline.days_left_in_window,
                                  date=long_date(deadline.deadline, locale),
                                  when=when(t, deadline.days_to_deadline))))
    elif deadline.season_start is not None:
        lines.append(escape(t("Season: {start} – {end} ({when}).",
                              start=long_date(deadline.season_start, locale),
                              end=long_date(deadline.deadline, locale),
                              when=when(t, deadline.days_to_deadline))))
    elif deadline.passed:
        lines.append("❗ " + escape(t("The last day was {date} ({when}).",
                                     date=long_date(deadline.deadline, locale),
                                     when=when(t, deadline.days_to_deadline))))
    else:
        lines.append("⏳ " + escape(t("Last day: {date} ({when}).",
                                     date=long_date(deadline.deadline, locale),
                                     when=when(t, deadline.days_to_deadline))))
    lines.append(escape(rule.note.get(locale, "")))
    if rule.dispute and deadline.others:
        other = "; ".join(
            long_date(o.deadline, locale) + ("" if o.reading.verified else f" ({unconfirmed})")
            for o in deadline.others if o.deadline)
        lines.append("⚖️ " + escape(rule.dispute.get(locale, "")) + " "
                     + escape(t("By the other reading: {date}.", date=other)))
    lines.append(_sources(t, deadline))
    return lines


def result(step: Step, t: Translator) -> Screen:
    plan, locale = step.plan, t.locale
    country = country_name(t, plan.country)
    header = [_bold(t("📅 My deadlines: {country}", country=country))]
    if plan.entry > step.today:
        header.append(escape(t("Planned entry: {entry}. Counted as from that day.",
                               entry=long_date(plan.entry, locale))))
    else:
        header.append(escape(t("Entry: {entry}. Counted for today, {today}.",
                               entry=long_date(plan.entry, locale),
                               today=long_date(step.today, locale))))
    if plan.contract is not None:
        header.append(escape(t("Labour contract in effect from {date}.",
                               date=long_date(plan.contract, locale))))
    if counts_a_window(step.rules):
        header.append(escape(t("Earlier stays counted: {count}.", count=len(plan.stays))))
    parts = _with_notice(t, step, ["\n".join(header)])
    reference = max(step.today, plan.entry)
    for deadline in step.deadlines:
        parts.append("\n".join(line for line in deadline_lines(t, deadline, reference) if line))
    parts.append(reminder_status(t, step))
    parts.append("ℹ️ " + escape(t("This is a help to count, not a legal decision. The official "
                                  "count is the one of the host country's authorities.")))
    parts.append("🔒 " + escape(t("Your dates are kept only while a deadline is ahead, then "
                                  "deleted. /mydata shows them; /delete erases them.")))
    return Screen(SEPARATOR.join(parts), InlineKeyboardMarkup(result_rows(t, step)))


def reminder_status(t: Translator, step: Step) -> str:
    plan = step.plan
    if not plan.reminders:
        return "🔕 " + escape(t("Reminders are off. Press “🔔 Remind me” to get them."))
    text = "🔔 " + escape(t("Reminders: {days} days before each deadline and on the day, at "
                           "{hour}:00 ({zone}).", days=max(DAYS_BEFORE), hour=REMINDER_HOUR,
                           zone=t(ZONE_NAMES[plan.country]) if plan.country in ZONE_NAMES
                           else plan.country))
    if plan.pending:
        key, _, _, at = plan.pending[0]
        rule = next((r for r in step.rules if r.key == key), None)
        title = rule.title.get(t.locale, key) if rule else key
        text += "\n" + escape(t("Next reminder: {date}, “{title}”.",
                                date=long_date(at.date(), t.locale), title=title))
    return text


def result_rows(t: Translator, step: Step) -> list[list[InlineKeyboardButton]]:
    plan = step.plan
    rows = [[_button(t("🔕 Stop all reminders"), callbacks.deadlines("stop")) if plan.reminders
             else _button(t("🔔 Remind me"), callbacks.deadlines("rem"))]]
    change = [_button(t("✏️ Entry date"), callbacks.deadlines("ch", "entry"))]
    if needs_contract(step.rules):
        change.append(_button(t("✏️ Labour contract"), callbacks.deadlines("ch", "contract")))
    rows.append(change)
    if counts_a_window(step.rules):
        rows.append([_button(t("🧳 Earlier stays ({count})", count=len(plan.stays)),
                             callbacks.deadlines("stays"))])
    rows.append([_button(t("🌍 Another country"), callbacks.deadlines("ch", "country")),
                 _button(t("🗑 Forget my dates"), callbacks.deadlines("forget"))])
    rows.append(_main_menu_row(t))
    return rows


def consent(step: Step, t: Translator) -> Screen:
    zone = t(ZONE_NAMES[step.country]) if step.country in ZONE_NAMES else step.country
    parts = [_bold(t("🔔 Reminders")),
             escape(t("I will write to you {days} days before each deadline and on the day, at "
                      "{hour}:00 ({zone}).", days=max(DAYS_BEFORE), hour=REMINDER_HOUR,
                      zone=zone)),
             escape(t("What we store for this: your country, your date of entry, earlier stays "
                      "and the times of the reminders.")),
             escape(t("How long: until the last deadline has passed; then it is all deleted.")),
             escape(t("You can stop the reminders at any time, see your data with /mydata and "
                      "delete it with /delete."))]
    rows = [[_button(t("✅ Yes, remind me"), callbacks.deadlines("yes"))],
            [_button(t("✖️ No, thanks"), callbacks.deadlines("no"))]]
    return Screen(SEPARATOR.join(parts), InlineKeyboardMarkup(rows))


def forgotten(step: Step, t: Translator) -> Screen:
    return Screen(escape(t("Your dates and reminders have been deleted.")),
                  InlineKeyboardMarkup([_main_menu_row(t)]))


def reminder(due: ReminderDue, t: Translator) -> Screen:
    """The reminder of one deadline, with "done" and "stop all"."""
    rule: Rule = due.rule
    title = rule.title.get(t.locale, rule.key)
    if due.days_left == 0:
        line = t("Today is the last day: {date}.", date=long_date(due.deadline, t.locale))
    else:
        line = t("Last day: {date} ({when}).", date=long_date(due.deadline, t.locale),
                 when=when(t, due.days_left))
    parts = ["⏰ " + _bold(t("Reminder: {title}", title=title)),
             escape(line), escape(rule.note.get(t.locale, "")),
             "ℹ️ " + escape(t("This is a help to count, not a legal decision. The official "
                              "count is the one of the host country's authorities."))]
    rows = [[_button(t("✅ Done, no more about this"), callbacks.deadlines("done", rule.key))],
            [_button(t("🔕 Stop all reminders"), callbacks.deadlines("stop"))],
            [_button(t("📅 My deadlines"), callbacks.DEADLINES)]]
    return Screen(SEPARATOR.join(p for p in parts if p), InlineKeyboardMarkup(rows))
