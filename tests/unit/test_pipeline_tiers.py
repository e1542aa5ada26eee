"""The queues an agent serves come from the last tier list, however it was set."""

from __future__ import annotations

from cti_middleware.model.snapshot import parse_tier_list
from cti_middleware.model.state import State
from cti_middleware.notify import Notifier
from cti_middleware.pipeline import Pipeline

TIERS = """queue|agent|state|level|position
support@default|1000@default|Ready|1|1
sales@default|1000@default|Ready|1|1
support@default|1001@default|Ready|1|2
+OK
"""


def test_queues_follow_the_tier_list():
    pipeline = Pipeline(State(), Notifier())
    assert pipeline.queues_of("1000@default") == []
    pipeline.tiers = parse_tier_list(TIERS)
    assert pipeline.queues_of("1000@default") == ["support@default", "sales@default"]
    assert pipeline.queues_of("1001@default") == ["support@default"]
    pipeline.queues_of("1001@default").append("mutated")  # a copy: the index stays
    assert pipeline.queues_of("1001@default") == ["support@default"]
    pipeline.tiers = [t for t in pipeline.tiers if t.queue != "support@default"]
    assert pipeline.queues_of("1001@default") == [] and len(pipeline.tiers) == 1
