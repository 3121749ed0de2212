"""Closing many tasks in the admin web's task list: counted, closed as done or cancelled in
one transaction, shown with Undo; refusals (nothing ticked, no way chosen, a forged form)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from models import Task, TaskStatus
from services import admins
from tests import factories
from tests.admin_web.forms import page_token, sign_in


async def _setup(container, clock):
    async with container.db.unit_of_work() as s:
        await admins.create_admin(s, login="boss", password="correct horse", now=clock.now())
        anna = await factories.employee(s, clock, name="Анна", office="Центр")
        s.add_all(
            Task(title=f"Перезвонить {i}", assignee_id=anna.id, status=status)
            for i, status in enumerate([TaskStatus.OPEN] * 3 + [TaskStatus.DONE])
        )
        return anna


async def _statuses(container) -> list[TaskStatus]:
    async with container.db.unit_of_work() as s:
        return list(await s.scalars(sa.select(Task.status).order_by(Task.id)))


async def test_tasks_are_counted_closed_and_reopened(web, container, clock):
    anna = await _setup(container, clock)
    await sign_in(web, "boss", "correct horse")
    listing = await (await web.get("/admin/tasks", params={"assignee": anna.id})).text()
    assert 'name="close"' in listing and "Посчитать закрытие" in listing
    query = {"assignee": anna.id, "scope": "all", "close": "cancelled"}
    plan = await (await web.get("/admin/tasks/close", params=query)).text()
    assert "Закрыть 3 задачи как отменённые." in plan
    assert "Уже закрыты и останутся как есть: 1." in plan
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan))
    assert form["expected"] == "3"
    done = await web.post("/admin/tasks/close", data=form, allow_redirects=False)
    assert done.status == 302
    op_path = done.headers["Location"]
    page = await (await web.get(op_path)).text()
    assert "3 задачи — отменены" in page and "Отменить" in page
    assert await _statuses(container) == [TaskStatus.CANCELLED] * 3 + [TaskStatus.DONE]
    token = await page_token(web, op_path)
    await web.post(f"{op_path}/undo", data={"csrf_token": token})
    assert await _statuses(container) == [TaskStatus.OPEN] * 3 + [TaskStatus.DONE]


async def test_refusals_close_nothing(web, container, clock):
    anna = await _setup(container, clock)
    await sign_in(web, "boss", "correct horse")
    nothing = await web.get("/admin/tasks/close", params={"close": "done"})
    assert nothing.status == 422  # nothing ticked
    no_way = await web.get("/admin/tasks/close", params={"scope": "all"})
    assert no_way.status == 422 and "выполнены или отменены" in await no_way.text()
    odd = await web.get("/admin/tasks/close", params={"scope": "all", "close": "open"})
    assert odd.status == 422
    form = {"scope": "all", "close": "done", "expected": "3", "assignee": str(anna.id)}
    assert (await web.post("/admin/tasks/close", data=form)).status == 403  # no token
    token = await page_token(web, "/admin/tasks")
    stale = await web.post(
        "/admin/tasks/close", data={**form, "expected": "2", "csrf_token": token}
    )
    assert stale.status == 409
    assert await _statuses(container) == [TaskStatus.OPEN] * 3 + [TaskStatus.DONE]


async def test_only_the_ticked_tasks_close(web, container, clock):
    anna = await _setup(container, clock)
    await sign_in(web, "boss", "correct horse")
    async with container.db.unit_of_work() as s:
        first, second = list(await s.scalars(sa.select(Task.id).order_by(Task.id).limit(2)))
    query = [("assignee", anna.id), ("close", "done"), ("id", first), ("id", second)]
    plan = await (await web.get("/admin/tasks/close", params=query)).text()
    assert "Закрыть 2 задачи как выполненные." in plan
    form = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', plan)
    await web.post("/admin/tasks/close", data=form)
    assert await _statuses(container) == [TaskStatus.DONE] * 2 + [TaskStatus.OPEN, TaskStatus.DONE]
