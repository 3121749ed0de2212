"""The Done button on a task card."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from config.i18n import Translator
from handlers.callbacks import Presses, TaskCallback
from handlers.router import Router
from services import tasks
from services.actors import Actor
from services.context import Company


def make_router() -> Router:
    router = Router(name="staff.tasks")
    router.callback_query.filter(Presses(TaskCallback))
    router.callback_query.register(task_button, TaskCallback.filter())
    return router


async def task_button(
    query: CallbackQuery,
    callback_data: TaskCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
) -> AnswerCallbackQuery:
    await tasks.complete(session, callback_data.task_id, by=actor, company=company)
    return query.answer(t("alert.task_done"))
