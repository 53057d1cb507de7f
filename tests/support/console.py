"""The console in the test's own event loop, on the harness's services, through httpx."""
from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from bot.console.app import create_console_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class ConsoleClient:
    http: httpx.AsyncClient
    csrf: str = ""

    async def get(self, path: str, **kwargs) -> httpx.Response:
        response = await self.http.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict | None = None, csrf: str | None = None,
                   **kwargs) -> httpx.Response:
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        return await self.http.post(path, data=form, **kwargs)


def console_http(services) -> httpx.AsyncClient:
    app = create_console_app(services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5000)),
                             base_url="http://console.test", follow_redirects=False)


async def log_in(services, staff_id: int, name: str = "Dilnoza", role: str = "staff") -> ConsoleClient:
    """A staff member (added if new) logged in through a one-time link, as /console gives."""
    if await services.staff.role_of(staff_id) is None:
        await services.staff.add(None, staff_id, role)
    token = await services.console_auth.issue_link(staff_id, name)
    client = ConsoleClient(console_http(services))
    response = await client.http.post("/login/link", data={"token": token})
    assert response.status_code == 303, response.text
    await client.get("/")
    return client
