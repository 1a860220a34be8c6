"""CloudWatch alarm evaluation over raw metric samples: pure, no clock, no I/O.

An alarm here is what Terraform's ``aws_cloudwatch_metric_alarm`` declares: one
metric with a statistic and a period, or metric queries whose one returned
expression is metric math; a comparison with a threshold; ``evaluation_periods``
(N), ``datapoints_to_alarm`` (M) and ``treat_missing_data``. CloudWatch's
evaluation, as documented ("Evaluating an alarm", "Metric math syntax"):

* samples are aggregated into datapoints per period, periods aligned to
  multiples of the period since the epoch (minute boundaries for 60 s);
* at each evaluation the alarm looks at the N most recent *complete* periods;
  it is ALARM when at least M of them breach; a missing datapoint counts as
  ``treat_missing_data`` says (notBreaching: fine; breaching: breaching;
  missing/ignore: not counted, and all-missing is INSUFFICIENT_DATA, here OK);
* a metric math expression yields a datapoint at every period where at least
  one metric it reads has one; ``FILL(m, v)`` stands in ``v`` where ``m`` has
  none; ``IF(c, a, b)``, arithmetic, comparisons (1 or 0), ``MAX``/``MIN``/
  ``SUM``/``AVG`` of a list, ``ABS``; a division by zero yields no datapoint;
* ``pNN`` (extended statistic) is the nearest-rank percentile of the samples.

Periods may be scaled (``scaled``) for a drill that cannot wait minutes: every
period is multiplied by the same factor, so thresholds, N and M and the shape
of the evaluation stay those of the definition.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

#: (namespace, metric name, dimensions as sorted (name, value) pairs)
MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]
Value = float | None

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


@dataclass(frozen=True)
class MetricStat:
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # Sum, Average, Minimum, Maximum, SampleCount, or pNN
    period: float

    @property
    def key(self) -> MetricKey:
        return (self.namespace, self.metric, self.dimensions)


@dataclass(frozen=True)
class Query:
    id: str
    metric: MetricStat | None = None
    expression: str | None = None
    return_data: bool = False


@dataclass(frozen=True)
class AlarmDefinition:
    name: str
    queries: tuple[Query, ...]
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str = "missing"

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"{self.name}: comparison {self.comparison!r} not supported")
        if self.treat_missing_data not in MISSING_DATA:
            raise ValueError(f"{self.name}: treat_missing_data {self.treat_missing_data!r}")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError(f"{self.name}: need 1 <= datapoints_to_alarm <= evaluation_periods")
        returned = [q for q in self.queries if q.return_data]
        if len(returned) != 1:
            raise ValueError(f"{self.name}: exactly one query must return data")
        if len({q.metric.period for q in self.queries if q.metric}) != 1:
            raise ValueError(f"{self.name}: its metrics must share one period")

    @property
    def period(self) -> float:
        return next(q.metric.period for q in self.queries if q.metric)

    @property
    def window(self) -> float:
        """How far back one evaluation looks: N periods."""
        return self.evaluation_periods * self.period

    @property
    def metrics(self) -> set[MetricKey]:
        return {q.metric.key for q in self.queries if q.metric}

    def scaled(self, factor: float) -> AlarmDefinition:
        """The same alarm with every period multiplied by ``factor``."""
        queries = tuple(
            replace(q, metric=replace(q.metric, period=q.metric.period * factor)) if q.metric else q
            for q in self.queries
        )
        return replace(self, queries=queries)


# --------------------------------------------------------------------------- statistics


def statistic(stat: str, values: Sequence[float]) -> Value:
    if not values:
        return None
    if stat == "Sum":
        return float(sum(values))
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Minimum":
        return float(min(values))
    if stat == "Maximum":
        return float(max(values))
    if stat == "SampleCount":
        return float(len(values))
    if stat.startswith("p"):
        rank = float(stat[1:])
        ordered = sorted(values)
        return float(ordered[max(math.ceil(rank / 100 * len(ordered)) - 1, 0)])
    raise ValueError(f"statistic {stat!r} not supported")


def period_index(timestamp: float, period: float) -> int:
    """Which period a timestamp (seconds) falls in: periods start at multiples of ``period``."""
    return math.floor(timestamp / period)


def datapoints(stat: MetricStat, samples: Iterable[tuple[float, float]]) -> dict[int, float]:
    """Per period index: the statistic of the (timestamp seconds, value) samples in it."""
    grouped: dict[int, list[float]] = {}
    for timestamp, value in samples:
        grouped.setdefault(period_index(timestamp, stat.period), []).append(value)
    return {index: statistic(stat.stat, values) for index, values in grouped.items()}  # type: ignore[misc]


# --------------------------------------------------------------------------- metric math


class MetricMath:
    """One metric math expression, parsed once; ``evaluate`` at one timestamp.

    Python's own parser reads the expression (metric math shares its infix
    syntax for what these alarms use); only the nodes listed are accepted.
    """

    FUNCTIONS = ("IF", "FILL", "MAX", "MIN", "SUM", "AVG", "ABS")
    _BINARY: ClassVar[dict[type, Callable[[float, float], float]]] = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.Div: operator.truediv,
    }
    _COMPARE: ClassVar[dict[type, Callable[[float, float], bool]]] = {
        ast.Gt: operator.gt,
        ast.GtE: operator.ge,
        ast.Lt: operator.lt,
        ast.LtE: operator.le,
        ast.Eq: operator.eq,
        ast.NotEq: operator.ne,
    }

    def __init__(self, expression: str) -> None:
        self.text = expression
        try:
            self.tree = ast.parse(expression.strip(), mode="eval").body
        except SyntaxError as error:
            raise ValueError(f"metric math {expression!r}: {error.msg}") from None
        self.names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)} - set(
            self.FUNCTIONS
        )
        self._check(self.tree)

    def _check(self, node: ast.AST) -> None:
        allowed = (ast.Call, ast.Name, ast.Constant, ast.BinOp, ast.Compare, ast.UnaryOp, ast.List)
        allowed_ops = (*self._BINARY, *self._COMPARE, ast.USub, ast.Load)
        for child in ast.walk(node):
            if isinstance(child, ast.operator | ast.cmpop | ast.unaryop | ast.expr_context):
                if not isinstance(child, allowed_ops):
                    raise ValueError(
                        f"metric math {self.text!r}: {type(child).__name__} unsupported"
                    )
            elif not isinstance(child, allowed):
                raise ValueError(f"metric math {self.text!r}: {type(child).__name__} unsupported")
            if isinstance(child, ast.Call) and (
                not isinstance(child.func, ast.Name) or child.func.id not in self.FUNCTIONS
            ):
                raise ValueError(f"metric math {self.text!r}: unsupported function")

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        """The expression's value given each metric's datapoint (None: missing)."""
        return self._value(self.tree, values)

    def _value(self, node: ast.AST, values: Mapping[str, Value]) -> Value:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values.get(node.id)
        if isinstance(node, ast.UnaryOp):
            inner = self._value(node.operand, values)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp):
            left, right = self._value(node.left, values), self._value(node.right, values)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div) and right == 0:
                return None
            return self._BINARY[type(node.op)](left, right)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise ValueError(f"metric math {self.text!r}: chained comparison")
            left = self._value(node.left, values)
            right = self._value(node.comparators[0], values)
            if left is None or right is None:
                return None
            return float(self._COMPARE[type(node.ops[0])](left, right))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return self._call(node.func.id, node.args, values)

    def _call(self, name: str, args: list[ast.expr], values: Mapping[str, Value]) -> Value:
        if name == "IF":
            condition = self._value(args[0], values)
            if condition is None:
                return None
            return self._value(args[1] if condition else args[2], values)
        if name == "FILL":
            value = self._value(args[0], values)
            return self._value(args[1], values) if value is None else value
        if name == "ABS":
            value = self._value(args[0], values)
            return None if value is None else abs(value)
        if len(args) != 1 or not isinstance(args[0], ast.List):
            raise ValueError(f"metric math {self.text!r}: {name} takes one list")
        present = [v for v in (self._value(e, values) for e in args[0].elts) if v is not None]
        if not present:
            return None
        combine = {"MAX": max, "MIN": min, "SUM": sum, "AVG": lambda v: sum(v) / len(v)}[name]
        return float(combine(present))


# --------------------------------------------------------------------------- evaluation


def series(
    alarm: AlarmDefinition, samples: Mapping[MetricKey, Iterable[tuple[float, float]]]
) -> dict[int, float]:
    """The alarm's evaluated time series: period index -> value (missing periods absent)."""
    by_query = {
        q.id: datapoints(q.metric, samples.get(q.metric.key, ())) for q in alarm.queries if q.metric
    }
    returned = next(q for q in alarm.queries if q.return_data)
    if returned.metric:
        return by_query[returned.id]
    assert returned.expression is not None
    math_expression = MetricMath(returned.expression)
    unknown = math_expression.names - set(by_query)
    if unknown:
        raise ValueError(f"{alarm.name}: {returned.id} reads unknown queries {sorted(unknown)}")
    indexes = set().union(*(by_query[name] for name in math_expression.names))
    result = {}
    for index in indexes:
        value = math_expression.evaluate({name: by_query[name].get(index) for name in by_query})
        if value is not None:
            result[index] = value
    return result


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of an alarm at ``at`` (seconds): its state and what it looked at."""

    at: float
    state: str  # ALARM or OK
    datapoints: tuple[Value, ...]  # the N periods, oldest first (None: missing)
    breaching: int


def evaluate(alarm: AlarmDefinition, points: Mapping[int, float], boundary: int) -> Evaluation:
    """The alarm's state as period ``boundary`` begins, from its series ``points``.

    It looks at the N periods that ended last: ``boundary - N`` to ``boundary - 1``.
    """
    indexes = range(boundary - alarm.evaluation_periods, boundary)
    window = tuple(points.get(index) for index in indexes)
    compare = COMPARISONS[alarm.comparison]
    breaching = sum(
        1
        for value in window
        if (value is None and alarm.treat_missing_data == "breaching")
        or (value is not None and compare(value, alarm.threshold))
    )
    state = "ALARM" if breaching >= alarm.datapoints_to_alarm else "OK"
    return Evaluation(boundary * alarm.period, state, window, breaching)


def first_alarm(
    alarm: AlarmDefinition,
    samples: Mapping[MetricKey, Iterable[tuple[float, float]]],
    since: float,
    until: float,
) -> Evaluation | None:
    """The first evaluation in ``(since, until]`` that finds the alarm in ALARM, if any.

    CloudWatch evaluates once per period, right as a period ends; so does this.
    """
    points = series(alarm, samples)
    boundary = period_index(since, alarm.period) + 1
    while boundary * alarm.period <= until:
        evaluation = evaluate(alarm, points, boundary)
        if evaluation.state == "ALARM":
            return evaluation
        boundary += 1
    return None
