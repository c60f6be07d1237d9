"""Property tests: random invalid configurations always give a clean ConfigError.

100 documents per test in the suite; ``NEEDLESIM_HYPOTHESIS_EXAMPLES=N`` draws ``N``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_examples import examples
from needlesim.config import ConfigError, RunConfig, Study, validate

KEYS = [
    "name",
    "patient",
    "protocol",
    "simulation",
    "age_years",
    "sex",
    "fitzpatrick",
    "region",
    "indication",
    "device",
    "type",
    "sessions",
    "interval_days",
    "passes",
    "needle_length_mm",
    "seed",
    "population",
    "measurements",
    "observable",
    "day",
    "n",
    "mean",
    "sd",
    "min",
    "max",
    "skin",
    "stiffness_relative",
    "roller",
    "pen",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["roller", "pen", "stamp", "cheek", "female", "layered", "pih_incidence"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5),
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def _check(model: type, doc: dict[str, Any]) -> None:
    try:
        validate(model, doc)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message
        assert exc.render()


@settings(max_examples=examples(100), deadline=None)
@given(documents)
def test_random_run_configs_never_crash(doc: dict[str, Any]) -> None:
    _check(RunConfig, doc)


@settings(max_examples=examples(100), deadline=None)
@given(documents)
def test_random_studies_never_crash(doc: dict[str, Any]) -> None:
    _check(Study, doc)


@settings(max_examples=examples(100), deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "patient": st.fixed_dictionaries(
                {"age_years": st.floats(), "fitzpatrick": st.integers(-5, 12)}
            ),
            "protocol": st.fixed_dictionaries(
                {
                    "device": st.fixed_dictionaries(
                        {
                            "type": st.sampled_from(["roller", "pen", "stamp", "x"]),
                            "needle_length_mm": st.floats(),
                            "passes": st.integers(-3, 300),
                        }
                    ),
                    "sessions": st.one_of(
                        st.integers(-3, 80),
                        st.lists(st.fixed_dictionaries({"day": st.floats()}), max_size=5),
                    ),
                }
            ),
        }
    )
)
def test_near_valid_configs_validate_or_fail_cleanly(doc: dict[str, Any]) -> None:
    _check(RunConfig, doc)
