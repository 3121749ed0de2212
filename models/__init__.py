"""Database tables, one module per table group; importing this package registers them all."""

from models.audit import AuditEntry
from models.base import Base
from models.broadcast import Broadcast, BroadcastRecipient
from models.bulk import BulkOperation, BulkOperationRow, BulkTrash
from models.call import Call
from models.client import ChannelIdentity, Client, ClientMerge, ClientTag, ContactPerson
from models.company_setting import CompanySetting
from models.conversation import Conversation, EarlyStatus, Message, MessageCopy
from models.counter import Counter
from models.deal import Deal, DealStageChange, Pipeline, PipelineStage
from models.employee import Employee, SalesPlan, WorkSchedule
from models.enums import (
    CallPhase,
    CallStatus,
    Channel,
    ClientKind,
    DealStatus,
    Direction,
    LeadStatus,
    MessageStatus,
    OutboxLane,
    OutboxStatus,
    Role,
    StageKind,
    TaskKind,
    TaskStatus,
    TicketStatus,
)
from models.imports import ClientImport, ClientImportRow
from models.inbound_event import InboundEvent
from models.lead import Lead
from models.login_throttle import LoginThrottle
from models.note import Note
from models.office import Office, PhoneLine
from models.outbox import OutboxMessage
from models.report import ReportChange, ReportRollup, ReportRollupMonth
from models.task import Task
from models.team import TeamInbox, TeamShown, TeamTopic
from models.ticket import Ticket, TicketReply
from models.web_session import WebSession

__all__ = [
    "AuditEntry",
    "Base",
    "Broadcast",
    "BroadcastRecipient",
    "BulkOperation",
    "BulkOperationRow",
    "BulkTrash",
    "Call",
    "CallPhase",
    "CallStatus",
    "Channel",
    "ChannelIdentity",
    "Client",
    "ClientImport",
    "ClientImportRow",
    "ClientKind",
    "ClientMerge",
    "ClientTag",
    "CompanySetting",
    "ContactPerson",
    "Conversation",
    "Counter",
    "Deal",
    "DealStageChange",
    "DealStatus",
    "Direction",
    "EarlyStatus",
    "Employee",
    "InboundEvent",
    "Lead",
    "LeadStatus",
    "LoginThrottle",
    "Message",
    "MessageCopy",
    "MessageStatus",
    "Note",
    "Office",
    "OutboxLane",
    "OutboxMessage",
    "OutboxStatus",
    "PhoneLine",
    "Pipeline",
    "PipelineStage",
    "ReportChange",
    "ReportRollup",
    "ReportRollupMonth",
    "Role",
    "SalesPlan",
    "StageKind",
    "Task",
    "TaskKind",
    "TaskStatus",
    "TeamInbox",
    "TeamShown",
    "TeamTopic",
    "Ticket",
    "TicketReply",
    "TicketStatus",
    "WebSession",
    "WorkSchedule",
]
