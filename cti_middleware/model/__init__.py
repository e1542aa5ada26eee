"""The pure call-centre model: live state from events, and the changes it reports."""

from . import changes
from .entities import Agent, Channel, Member, Queue
from .snapshot import Snapshot
from .state import State

__all__ = ["Agent", "Channel", "Member", "Queue", "Snapshot", "State", "changes"]
