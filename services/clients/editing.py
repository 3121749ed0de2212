"""Creating and editing a client by hand: name, company, phones and e-mails, contact persons.

Every change checks that the employee may see the client (`visibility`), keeps
`Client.search_text` up to date (what /find matches words against) and is audited with its
before → after. A phone or e-mail is one client's: one that already belongs to another client
is refused with that client named (`IdentityTaken`), never silently duplicated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, ChannelIdentity, Client, ContactPerson
from services import audit
from services.actors import Actor
from services.clients import identities, visibility
from services.clients.matching import search_text_of
from services.errors import Conflict, InvalidEmail, InvalidInput, InvalidPhone, NotFound
from services.team import topics as team_topics

NAME_MAX = 300  # the columns' length
COMPANY_MAX = 300
EDITABLE = (Channel.PHONE, Channel.EMAIL)


class IdentityTaken(Conflict):
    """The phone or e-mail is already another client's (`client_id`; `visible` says whether
    the employee may open that client)."""

    code = "identity_taken"

    def __init__(self, address: str, *, client_id: int, name: str | None, visible: bool) -> None:
        key = "client.taken_visible" if visible else "client.taken_hidden"
        super().__init__(
            "the address belongs to another client",
            key=key,
            address=address,
            client_id=client_id,
            name=name or "—",
        )
        self.client_id, self.visible = client_id, visible


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("a name is required", key="client.name_empty")
    if len(name) > NAME_MAX:
        raise InvalidInput("the name is too long", key="client.too_long", limit=NAME_MAX)
    return name


def clean_company(raw: str | None) -> str | None:
    company = " ".join((raw or "").split())
    if len(company) > COMPANY_MAX:
        raise InvalidInput("the company is too long", key="client.too_long", limit=COMPANY_MAX)
    return company or None


def normalize(channel: Channel, raw: str) -> str:
    """E.164 for a phone, a lower-case address for an e-mail; InvalidPhone / InvalidEmail with
    a clear text otherwise."""
    text = raw.strip()
    try:
        if channel is Channel.PHONE:
            return identities.normalize_phone(text[:100])
        if channel is Channel.EMAIL:
            return identities.normalize_email(text[:320])
    except InvalidPhone as exc:
        raise InvalidPhone(exc.message, key="client.invalid_phone", raw=text[:100]) from exc
    except InvalidEmail as exc:
        raise InvalidEmail(exc.message, key="client.invalid_email", raw=text[:100]) from exc
    raise InvalidInput("only phones and e-mails are typed by hand", channel=str(channel))


async def check_free(
    session: AsyncSession, channel: Channel, address: str, *, by: Actor, client_id: int | None
) -> None:
    """Refuse an address that already belongs to a client (another one: `IdentityTaken`; this
    one: already on the card)."""
    stmt = (
        sa.select(Client.id, Client.name)
        .join(ChannelIdentity, ChannelIdentity.client_id == Client.id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        return
    owner_id, name = found
    if owner_id == client_id:
        raise Conflict("already on this card", key="client.already_there", address=address)
    seen = await visibility.can_see(session, owner_id, by)
    shown = identities.format_phone(address) if channel is Channel.PHONE else address
    raise IdentityTaken(shown, client_id=owner_id, name=name if seen else None, visible=seen)


async def check_address(
    session: AsyncSession, channel: Channel, raw: str, *, by: Actor, client_id: int | None = None
) -> str:
    """A typed phone or e-mail, normalised and free to use (a dialog checks each step)."""
    address = normalize(channel, raw)
    await check_free(session, channel, address, by=by, client_id=client_id)
    return address


@dataclass(frozen=True)
class NewContact:
    name: str
    phone: str | None = None  # as typed


@dataclass(frozen=True)
class ClientIn:
    """A client typed in chat (addresses as typed)."""

    name: str
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    company: str | None = None
    contacts: list[NewContact] = field(default_factory=list)


async def create(session: AsyncSession, new: ClientIn, *, by: Actor, now: datetime) -> int:
    """A new client owned by its creator (in the creator's office); returns its id."""
    name, company = clean_name(new.name), clean_company(new.company)
    addresses = [(Channel.PHONE, raw) for raw in new.phones]
    addresses += [(Channel.EMAIL, raw) for raw in new.emails]
    typed = [(ch, await check_address(session, ch, raw, by=by)) for ch, raw in addresses]
    contacts = [
        (
            clean_name(c.name),
            await check_address(session, Channel.PHONE, c.phone, by=by) if c.phone else None,
        )
        for c in new.contacts
    ]
    every = [a for _, a in typed] + [p for _, p in contacts if p]
    if len(set(every)) < len(every):
        raise InvalidInput("an address is typed twice", key="client.typed_twice")
    client = Client(
        name=name,
        company=company,
        search_text=search_text_of(name, company, [n for n, _ in contacts]),
        owner_id=by.id,
        office_id=by.office_id,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    await session.flush()
    for channel, address in typed:
        session.add(_identity(client.id, channel, address, now))
    for contact_name, phone in contacts:
        await _add_contact(session, client.id, contact_name, phone, now)
    await session.flush()
    await audit.log(
        session,
        action="client.create",
        entity_type="client",
        entity_id=client.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        changes=audit.diff({}, await _state(session, client)),
    )
    return client.id


async def rename(
    session: AsyncSession, client_id: int, name: str, *, by: Actor, now: datetime
) -> None:
    new_name = clean_name(name)

    async def change(client: Client) -> None:
        client.name = new_name

    await _change(session, client_id, change, by=by, now=now)


async def set_company(
    session: AsyncSession, client_id: int, company: str | None, *, by: Actor, now: datetime
) -> None:
    """The company (None or blank clears it)."""
    new_company = clean_company(company)

    async def change(client: Client) -> None:
        client.company = new_company

    await _change(session, client_id, change, by=by, now=now)


async def add_identity(
    session: AsyncSession, client_id: int, channel: Channel, raw: str, *, by: Actor, now: datetime
) -> str:
    """Add a phone or e-mail as typed; returns it normalised."""
    await visibility.require(session, client_id, by)
    address = await check_address(session, channel, raw, by=by, client_id=client_id)

    async def change(client: Client) -> None:
        session.add(_identity(client.id, channel, address, now))

    await _change(session, client_id, change, by=by, now=now)
    return address


async def remove_identity(
    session: AsyncSession, client_id: int, identity_id: int, *, by: Actor, now: datetime
) -> None:
    """Remove one of the client's phones or e-mails (one of another client is NotFound)."""
    await visibility.require(session, client_id, by)
    found = await session.get(ChannelIdentity, identity_id)
    if found is None or found.client_id != client_id or found.channel not in EDITABLE:
        raise NotFound("no such phone or e-mail on this client", key="client.no_identity")

    async def change(client: Client) -> None:
        await session.delete(found)

    await _change(session, client_id, change, by=by, now=now)


async def add_contact_person(
    session: AsyncSession,
    client_id: int,
    name: str,
    phone: str | None,
    *,
    by: Actor,
    now: datetime,
) -> None:
    """A contact person (someone at the client's company), with their phone if given."""
    await visibility.require(session, client_id, by)
    contact_name = clean_name(name)
    address = (
        await check_address(session, Channel.PHONE, phone, by=by, client_id=client_id)
        if phone
        else None
    )

    async def change(client: Client) -> None:
        await _add_contact(session, client.id, contact_name, address, now)

    await _change(session, client_id, change, by=by, now=now)


async def _add_contact(
    session: AsyncSession, client_id: int, name: str, phone: str | None, now: datetime
) -> None:
    person = ContactPerson(client_id=client_id, name=name, created_at=now, updated_at=now)
    session.add(person)
    await session.flush()
    if phone:
        identity = _identity(client_id, Channel.PHONE, phone, now)
        identity.contact_person_id = person.id
        session.add(identity)


def _identity(client_id: int, channel: Channel, address: str, now: datetime) -> ChannelIdentity:
    return ChannelIdentity(
        client_id=client_id, channel=channel, address=address, created_at=now, updated_at=now
    )


async def _change(
    session: AsyncSession,
    client_id: int,
    change: Callable[[Client], Awaitable[None]],
    *,
    by: Actor,
    now: datetime,
) -> None:
    """Apply `change` to a client `by` may see, refresh its search text, audit before → after."""
    client = await visibility.require(session, client_id, by)
    before = await _state(session, client)
    await change(client)
    await session.flush()
    names = await _contact_names(session, client.id)
    client.search_text = search_text_of(client.name, client.company, names)
    client.updated_at = now
    await session.flush()
    after = await _state(session, client)
    await team_topics.clients_changed(session, [client.id], now=now)  # the topic's name, card
    await audit.log(
        session,
        action="client.update",
        entity_type="client",
        entity_id=client.id,
        at=now,
        actor_id=by.id,
        actor_kind="employee",
        changes=audit.diff(before, after),
    )


async def _contact_names(session: AsyncSession, client_id: int) -> list[str]:
    stmt = (
        sa.select(ContactPerson.name)
        .where(ContactPerson.client_id == client_id)
        .order_by(ContactPerson.id)
    )
    return [n for n in (await session.execute(stmt)).scalars() if n]


async def _state(session: AsyncSession, client: Client) -> dict[str, Any]:
    """The client's editable fields, for the audit's before → after."""
    rows = (
        await session.execute(
            sa.select(ChannelIdentity.channel, ChannelIdentity.address)
            .where(ChannelIdentity.client_id == client.id, ChannelIdentity.channel.in_(EDITABLE))
            .order_by(ChannelIdentity.id)
        )
    ).all()
    return {
        "name": client.name,
        "company": client.company,
        "phones": [a for ch, a in rows if ch is Channel.PHONE],
        "emails": [a for ch, a in rows if ch is Channel.EMAIL],
        "contacts": await _contact_names(session, client.id),
    }
