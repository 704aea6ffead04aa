"""Hypothesis profiles of the model-based check: ``ci`` (the normal run), ``fuzz`` (longer).

Select one with ``pytest --hypothesis-profile=fuzz`` (``make fuzz``); ``ci`` otherwise.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    # A failure prints its steps and a blob for @reproduce_failure; nothing is written to disk.
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}

# ci is derandomized: the same worlds every run, so whether they reach every answer that
# matters does not depend on luck; fuzz draws new worlds each time.
settings.register_profile(
    "ci", max_examples=500, stateful_step_count=25, derandomize=True, **_COMMON
)
settings.register_profile("fuzz", max_examples=5000, stateful_step_count=40, **_COMMON)
