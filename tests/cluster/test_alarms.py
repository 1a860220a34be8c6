"""CloudWatch alarm evaluation, as the drill's deployment controller runs it.

Expected values are worked out by hand from CloudWatch's documented rules
(M of N complete periods, treat_missing_data, metric math's FILL and IF) and
from each alarm's own description, not from the evaluator.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.cluster import terraform_values
from bench.cluster.alarms import (
    AlarmDefinition,
    MetricMath,
    MetricStat,
    Query,
    evaluate,
    first_alarm,
    statistic,
)

SERVICE = (("Service", "svc"),)


def alarm(**overrides: object) -> AlarmDefinition:
    """One metric, Sum over 60 s, > 2 in 3 of 5 periods."""
    fields = {
        "name": "test",
        "queries": (
            Query("m1", MetricStat("NS", "Errors", SERVICE, "Sum", 60.0), return_data=True),
        ),
        "comparison": "GreaterThanThreshold",
        "threshold": 2.0,
        "evaluation_periods": 5,
        "datapoints_to_alarm": 3,
        "treat_missing_data": "notBreaching",
    }
    return AlarmDefinition(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def five_xx() -> AlarmDefinition:
    alarms, _ = terraform_values.deployment_alarms()
    return next(a for a in alarms if any(q.expression for q in a.queries))


@pytest.mark.parametrize(
    ("stat", "values", "expected"),
    [
        ("Sum", [1, 2, 3], 6),
        ("Average", [1, 2, 3], 2),
        ("Minimum", [4, 2, 9], 2),
        ("Maximum", [4, 2, 9], 9),
        ("SampleCount", [4, 2, 9], 3),
        ("p99", list(range(1, 101)), 99),  # nearest rank: the 99th of 100
        ("p99", list(range(1, 11)), 10),  # ceil(9.9) = the 10th of 10
        ("p50", [10, 20, 30, 40], 20),
        ("p99", [], None),
    ],
)
def test_statistics(stat: str, values: list[float], expected: float | None) -> None:
    assert statistic(stat, values) == expected


@pytest.mark.parametrize(
    ("window", "missing", "state"),
    [
        ([3, 0, 3, 0, 3], "notBreaching", "ALARM"),  # three breaching of five
        ([3, 3, 0, 0, 0], "notBreaching", "OK"),  # two
        ([2, 2, 2, 2, 2], "notBreaching", "OK"),  # at the threshold is not above it
        ([3, 3, None, None, None], "notBreaching", "OK"),
        ([3, 3, None, None, None], "breaching", "ALARM"),
        ([None] * 5, "missing", "OK"),
    ],
)
def test_m_of_n_over_the_last_complete_periods(
    window: list[float | None], missing: str, state: str
) -> None:
    definition = alarm(treat_missing_data=missing)
    points = {index: value for index, value in enumerate(window) if value is not None}
    points[5] = 100.0  # the period in progress is never looked at
    evaluation = evaluate(definition, points, boundary=5)
    assert evaluation.state == state
    assert evaluation.datapoints == tuple(window)


def test_the_first_alarm_comes_at_the_end_of_the_third_breaching_period() -> None:
    """Errors from t=130 s: periods [120,180), [180,240), [240,300) breach; the
    evaluation at 300 s is the first to count three."""
    samples = {("NS", "Errors", SERVICE): [(float(t), 1.0) for t in range(130, 600, 10)]}
    fired = first_alarm(alarm(), samples, since=100, until=600)
    assert fired is not None and fired.at == 300
    assert fired.datapoints == (None, None, 5.0, 6.0, 6.0)
    assert first_alarm(alarm(), samples, since=100, until=299) is None


def test_scaled_periods_keep_the_shape_of_the_evaluation() -> None:
    samples = {("NS", "Errors", SERVICE): [(t / 60, 1.0) for t in range(130, 600, 10)]}
    fired = first_alarm(alarm().scaled(1 / 60), samples, since=100 / 60, until=10)
    assert fired is not None and fired.at == pytest.approx(5.0)


OPTIONAL_COUNT = st.one_of(st.none(), st.integers(0, 500))


@given(s2=OPTIONAL_COUNT, s4=OPTIONAL_COUNT, s5=OPTIONAL_COUNT)
def test_the_5xx_rate_is_what_its_alarm_description_says(
    five_xx: AlarmDefinition, s2: int | None, s4: int | None, s5: int | None
) -> None:
    """The share of 5xx in percent, 0 below 20 requests in the period, no datapoint without data."""
    expression = next(q.expression for q in five_xx.queries if q.expression)
    value = MetricMath(expression).evaluate({"s2": s2, "s4": s4, "s5": s5})
    counts = [c for c in (s2, s4, s5) if c is not None]
    total = sum(counts)
    if total < 20:
        assert value == 0
    else:
        assert value == pytest.approx(100 * (s5 or 0) / total)


def test_a_period_without_any_request_has_no_5xx_datapoint(five_xx: AlarmDefinition) -> None:
    from bench.cluster.alarms import series

    keys = {q.id: q.metric.key for q in five_xx.queries if q.metric}
    samples = {keys["s2"]: [(30.0, 1.0)] * 25, keys["s5"]: [(150.0, 1.0)] * 25}
    # Period 0: 25 answers, none 5xx; period 1: nothing at all; period 2: 25 answers, all 5xx.
    assert series(five_xx, samples) == {0: 0.0, 2: 100.0}


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "s2.real", "s2 if s4 else s5", "LOG(s2)", "s2 ** 2", "[s2][0]"],
)
def test_metric_math_outside_the_supported_grammar_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="metric math"):
        MetricMath(expression)


def test_definitions_that_cloudwatch_would_refuse_are_refused() -> None:
    with pytest.raises(ValueError, match="datapoints_to_alarm"):
        alarm(datapoints_to_alarm=6)
    with pytest.raises(ValueError, match="comparison"):
        alarm(comparison="GreaterThanUpperThreshold")
    with pytest.raises(ValueError, match="exactly one query"):
        alarm(queries=(Query("a", MetricStat("NS", "E", SERVICE, "Sum", 60.0)),))
