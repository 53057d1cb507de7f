"""The staff, for admins: add a member by Telegram id, change a role, remove a member. The
service audits each change; a member removed is out of the console at once."""
from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from bot.console.web import Console, admin_page, back_to, form_of, int_or_none
from bot.i18n import N_
from bot.services.staff import ROLES, StaffChangeRefused

# Telegram's user ids have at most 52 significant bits.
TELEGRAM_ID_LIMIT = 2 ** 52
ROLE_NAMES = {"staff": N_("staff"), "admin": N_("admin")}
DONE = {"added": N_("The member was added."), "role": N_("The role was changed."),
        "removed": N_("The member was removed; their console sessions ended.")}


def _telegram_id(value: object) -> int | None:
    number = int_or_none(value)
    return number if number is not None and 0 < number < TELEGRAM_ID_LIMIT else None


def _refused(console: Console, error: StaffChangeRefused) -> str:
    if error.reason == "self":
        return console.t("You cannot remove yourself: another admin can.")
    return console.t("You are the last admin: make another member an admin first.")


async def _render(console: Console, problem: str | None = None, draft: dict | None = None) -> Response:
    done = DONE.get(console.request.query_params.get("done", ""))
    return console.render("staff.html", status=400 if problem else 200,
                          members=await console.services.staff.listed(),
                          roles=[(role, console.t(ROLE_NAMES[role])) for role in ROLES],
                          problem=problem, done=console.t(done) if done and not problem else None,
                          draft=draft or {"user_id": "", "role": "staff"})


@admin_page
async def staff_page(console: Console) -> Response:
    return await _render(console)


@admin_page
async def add_member(console: Console) -> Response:
    form = await form_of(console.request)
    draft = {"user_id": str(form.get("user_id", "")).strip()[:40], "role": str(form.get("role", ""))}
    user_id = _telegram_id(draft["user_id"])
    if user_id is None:
        return await _render(console, console.t("A Telegram id is a whole number, like 123456789."),
                             draft)
    if draft["role"] not in ROLES:
        return await _render(console, console.t("Choose a role from the list."), draft)
    if not await console.services.staff.enlist(console.who.staff_id, user_id, draft["role"]):
        return await _render(console, console.t(
            "{user_id} is a staff member already: change their role in the list.", user_id=user_id),
            draft)
    return back_to("/staff?done=added")


@admin_page
async def change_role(console: Console) -> Response:
    user_id = _telegram_id(console.request.path_params["user_id"])
    role = str((await form_of(console.request)).get("role", ""))
    if role not in ROLES:
        return await _render(console, console.t("Choose a role from the list."))
    try:
        member = await console.services.staff.change_role(console.who.staff_id, user_id, role) \
            if user_id is not None else None
    except StaffChangeRefused as error:
        return await _render(console, _refused(console, error))
    if member is None:
        return await _render(console, console.t("They are not a staff member any more."))
    # An admin who made themselves staff may not see this page any more.
    return back_to("/" if user_id == console.who.staff_id and role != "admin" else "/staff?done=role")


@admin_page
async def remove_member(console: Console) -> Response:
    user_id = _telegram_id(console.request.path_params["user_id"])
    try:
        if user_id is not None:
            await console.services.staff.dismiss(console.who.staff_id, user_id)
    except StaffChangeRefused as error:
        return await _render(console, _refused(console, error))
    return back_to("/staff?done=removed")


routes = [
    Route("/staff", staff_page),
    Route("/staff", add_member, methods=["POST"]),
    Route("/staff/{user_id:int}/role", change_role, methods=["POST"]),
    Route("/staff/{user_id:int}/remove", remove_member, methods=["POST"]),
]
