"""A FreeSWITCH simulator speaking the real event-socket protocol with mod_callcenter
semantics, for tests and demos without a switch."""

from cti_middleware.simulator.config import (
    AgentConfig,
    QueueConfig,
    SimConfig,
    TierConfig,
)
from cti_middleware.simulator.core import Simulator

__all__ = ["AgentConfig", "QueueConfig", "SimConfig", "Simulator", "TierConfig"]
