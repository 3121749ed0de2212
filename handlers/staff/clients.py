"""The client card in Telegram: open it and page its timeline (‹ › edit the same message), list
the client's leads and deals, add a note, create a client (/new_client, or from a shared
contact's phone) and edit one field at a time. Every rule is in services (visibility, editing,
notes); these handlers parse, call one service function and show a screen."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Message
from aiogram.utils.formatting import Text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import client_screens
from bot.telegram.screens import Screen, Ui
from config.i18n import Translator
from handlers.callbacks import (
    ClientAction,
    ClientCallback,
    ClientEditCallback,
    ClientField,
    CreateClientCallback,
    Presses,
)
from handlers.errors import message_for
from handlers.filters import TypedText
from handlers.router import Router
from models import Channel
from services import actors, notes
from services.actors import Actor
from services.clients import editing, profile, visibility
from services.clients.editing import ClientIn, IdentityTaken, NewContact
from services.context import Company

SKIP = "-"  # typed to leave an optional field empty


class NoteDialog(StatesGroup):
    text = State()


class CreateDialog(StatesGroup):
    name = State()
    phone = State()
    email = State()
    company = State()
    contact_name = State()
    contact_phone = State()


class EditDialog(StatesGroup):
    value = State()  # the new value of `field`
    contact_phone = State()  # a new contact person's phone, after the name


DIALOGS = StateFilter(NoteDialog, CreateDialog, EditDialog)


def make_router() -> Router:
    router = Router(name="staff.clients")
    router.callback_query.filter(Presses(ClientCallback, CreateClientCallback, ClientEditCallback))
    router.message.register(cancel, Command("cancel"), DIALOGS)
    router.message.register(new_client, Command("new_client"))
    router.callback_query.register(client_button, ClientCallback.filter())
    router.callback_query.register(create_button, CreateClientCallback.filter())
    router.callback_query.register(edit_button, ClientEditCallback.filter())
    router.message.register(note_text, StateFilter(NoteDialog.text), TypedText())
    router.message.register(create_step, StateFilter(CreateDialog), TypedText())
    router.message.register(edit_value, StateFilter(EditDialog), TypedText())
    return router


async def show_card(
    ui: Ui,
    session: AsyncSession,
    client_id: int,
    *,
    actor: Actor,
    company: Company,
    t: Translator,
    page: int = 0,
    edit: bool = True,
) -> None:
    screen = await client_screens.client_card(
        session, client_id, by=actor, t=t, default_tz=company.timezone, page=page
    )
    await (ui.show(screen) if edit else ui.send(screen))


# --- the card's buttons


async def client_button(
    query: CallbackQuery,
    callback_data: ClientCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    action, client_id = callback_data.action, callback_data.client_id
    if action is ClientAction.OPEN:
        await show_card(
            ui, session, client_id, actor=actor, company=company, t=t, page=callback_data.page
        )
    elif action is ClientAction.LEADS:
        items = await profile.leads_of(session, client_id, by=actor)
        tz = await actors.zone_of(session, actor, company.timezone)
        await ui.edit(client_screens.leads_screen(client_id, items, t, tz))
    elif action is ClientAction.DEALS:
        items = await profile.deals_of(session, client_id, by=actor)
        await ui.edit(client_screens.deals_screen(client_id, items, t))
    elif action is ClientAction.EDIT:
        card = await profile.load(session, client_id, by=actor)
        await ui.edit(client_screens.edit_screen(card, t))
    elif action is ClientAction.NOTE:
        await visibility.require(session, client_id, actor)
        await state.set_state(NoteDialog.text)
        await state.set_data({"client_id": client_id})
        await ui.say("client.note_prompt")
    else:  # MERGE is the merge feature's (MergeCallback); an old button gets nothing here
        return query.answer(t("client.unknown_button"), show_alert=True)
    return query.answer()


async def cancel(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.clear()
    await ui.say("client.cancelled")


# --- notes


async def note_text(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> None:
    client_id = int((await state.get_data())["client_id"])
    await notes.add(
        session, message.text or "", by=actor, now=company.clock.now(), client_id=client_id
    )
    await state.clear()
    await ui.say("client.note_added")
    await show_card(ui, session, client_id, actor=actor, company=company, t=t, edit=False)


# --- creating a client


async def new_client(message: Message, state: FSMContext, ui: Ui) -> None:
    await state.set_state(CreateDialog.name)
    await state.set_data({"phones": [], "emails": [], "contacts": []})
    await ui.say("client.create.name")


async def create_button(
    query: CallbackQuery,
    callback_data: CreateClientCallback,
    session: AsyncSession,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    """Create a client with a shared contact's phone already filled in."""
    phones = []
    if callback_data.phone:
        try:
            phones.append(
                await editing.check_address(
                    session, Channel.PHONE, "+" + callback_data.phone, by=actor
                )
            )
        except IdentityTaken as taken:
            await _taken(ui, taken, t)
            return query.answer()
    await state.set_state(CreateDialog.name)
    await state.set_data({"phones": phones, "emails": [], "contacts": []})
    await ui.say("client.create.name")
    return query.answer()


async def create_step(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> None:
    text, step, data = (message.text or "").strip(), await state.get_state(), await state.get_data()
    skip = text == SKIP
    try:
        if step == CreateDialog.name.state:
            data["name"] = editing.clean_name(text)
            nxt = CreateDialog.email if data["phones"] else CreateDialog.phone
        elif step == CreateDialog.phone.state:
            if not skip:
                data["phones"] = [
                    await editing.check_address(session, Channel.PHONE, text, by=actor)
                ]
            nxt = CreateDialog.email
        elif step == CreateDialog.email.state:
            if not skip:
                data["emails"] = [
                    await editing.check_address(session, Channel.EMAIL, text, by=actor)
                ]
            nxt = CreateDialog.company
        elif step == CreateDialog.company.state:
            data["company"] = None if skip else editing.clean_company(text)
            nxt = CreateDialog.contact_name
        elif step == CreateDialog.contact_name.state:
            if skip:
                await state.clear()
                await _create(data, session, company, actor, t, ui)
                return
            data["contact"] = editing.clean_name(text)
            nxt = CreateDialog.contact_phone
        else:  # the contact person's phone
            phone = None
            if not skip:
                phone = await editing.check_address(session, Channel.PHONE, text, by=actor)
                if phone in data["phones"] or phone in [p for _, p in data["contacts"]]:
                    raise editing.InvalidInput("typed twice", key="client.typed_twice")
            data["contacts"].append([data.pop("contact"), phone])
            nxt = CreateDialog.contact_name
    except IdentityTaken as taken:
        await _taken(ui, taken, t)
        return
    await state.set_data(data)
    await state.set_state(nxt)
    prompts = {
        CreateDialog.phone: "client.create.phone",
        CreateDialog.email: "client.create.email",
        CreateDialog.company: "client.create.company",
        CreateDialog.contact_phone: "client.create.contact_phone",
    }
    if nxt is CreateDialog.contact_name:
        key = "client.create.more_contacts" if data["contacts"] else "client.create.contact"
    else:
        key = prompts[nxt]
    await ui.say(key)


async def _create(
    data: dict[str, Any],
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
) -> None:
    new = ClientIn(
        name=data["name"],
        phones=list(data["phones"]),
        emails=list(data["emails"]),
        company=data.get("company"),
        contacts=[NewContact(name, phone) for name, phone in data["contacts"]],
    )
    try:
        client_id = await editing.create(session, new, by=actor, now=company.clock.now())
    except IdentityTaken as taken:  # taken meanwhile; checked before anything was written
        await _taken(ui, taken, t)
        return
    await ui.say("client.created")
    await show_card(ui, session, client_id, actor=actor, company=company, t=t, edit=False)


async def _taken(ui: Ui, taken: IdentityTaken, t: Translator) -> None:
    """Which client has the address, with a button to open it if this employee may."""
    keyboard = client_screens.open_button(taken.client_id, t) if taken.visible else []
    await ui.send(Screen.of(Text(message_for(taken, t)), keyboard))


# --- editing one field


_PROMPTS = {
    ClientField.NAME: "client.edit.name_prompt",
    ClientField.COMPANY: "client.edit.company_prompt",
    ClientField.PHONE: "client.edit.phone_prompt",
    ClientField.EMAIL: "client.edit.email_prompt",
    ClientField.CONTACT: "client.edit.contact_prompt",
}


async def edit_button(
    query: CallbackQuery,
    callback_data: ClientEditCallback,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> AnswerCallbackQuery:
    field, client_id = callback_data.field, callback_data.client_id
    if field is ClientField.REMOVE:
        await editing.remove_identity(
            session, client_id, callback_data.identity_id, by=actor, now=company.clock.now()
        )
        card = await profile.load(session, client_id, by=actor)
        await ui.edit(client_screens.edit_screen(card, t))
        return query.answer(t("client.removed"))
    await visibility.require(session, client_id, actor)
    await state.set_state(EditDialog.value)
    await state.set_data({"client_id": client_id, "field": field.value})
    await ui.say(_PROMPTS[field])
    return query.answer()


async def edit_value(
    message: Message,
    session: AsyncSession,
    company: Company,
    actor: Actor,
    t: Translator,
    ui: Ui,
    state: FSMContext,
) -> None:
    data, text, now = await state.get_data(), (message.text or "").strip(), company.clock.now()
    client_id, field = int(data["client_id"]), ClientField(data["field"])
    skip = text == SKIP
    try:
        if await state.get_state() == EditDialog.contact_phone.state:
            phone = None if skip else text
            name = str(data["contact"])
            await editing.add_contact_person(session, client_id, name, phone, by=actor, now=now)
        elif field is ClientField.NAME:
            await editing.rename(session, client_id, text, by=actor, now=now)
        elif field is ClientField.COMPANY:
            await editing.set_company(session, client_id, None if skip else text, by=actor, now=now)
        elif field is ClientField.PHONE:
            await editing.add_identity(session, client_id, Channel.PHONE, text, by=actor, now=now)
        elif field is ClientField.EMAIL:
            await editing.add_identity(session, client_id, Channel.EMAIL, text, by=actor, now=now)
        else:  # a contact person: the name now, the phone next
            data["contact"] = editing.clean_name(text)
            await state.set_data(data)
            await state.set_state(EditDialog.contact_phone)
            await ui.say("client.create.contact_phone")
            return
    except IdentityTaken as taken:
        await _taken(ui, taken, t)
        return
    await state.clear()
    await ui.say("client.saved")
    await show_card(ui, session, client_id, actor=actor, company=company, t=t, edit=False)
