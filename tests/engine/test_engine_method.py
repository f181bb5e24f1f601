"""Method validation and group labels."""

from __future__ import annotations

import pytest

from scoring.engine import Component, Method, Override, group_label


def default_components() -> tuple[Component, ...]:
    return (
        Component("votes", "votes", 55),
        Component("media", "panel", 15),
        Component("expert", "panel", 30, aggregate="trimmed", min_reviews=5),
    )


def test_default_qingdao_method_is_valid() -> None:
    method = Method(default_components())
    assert method.keys == ("votes", "media", "expert")
    assert [c.key for c in method.panels] == ["media", "expert"]
    assert method.votes_component is not None
    assert method.votes_component.key == "votes"
    assert method.quota_for("数字政府 / 政务服务") == 3


def test_weights_summing_to_100_within_float_noise_are_accepted() -> None:
    # 0.1 + 0.2 + 99.7 is not exactly 100.0 in binary floating point.
    Method(
        (Component("a", "panel", 0.1), Component("b", "panel", 0.2), Component("c", "panel", 99.7))
    )


@pytest.mark.parametrize(
    ("components", "kwargs", "message"),
    [
        ((Component("a", "panel", 50), Component("b", "panel", 49)), {}, "sum to 100"),
        ((Component("a", "panel", 50), Component("a", "panel", 50)), {}, "unique"),
        ((Component("a", "votes", 50), Component("b", "votes", 50)), {}, "one votes"),
        ((Component("a", "panel", 100),), {"vote_group": "region"}, "vote_group"),
        ((Component("a", "panel", 100),), {"rank_group": "city"}, "rank_group"),
        ((Component("a", "panel", 100),), {"award_quota": -1}, "award_quota"),
        ((Component("a", "panel", 100),), {"group_quotas": {"x": -2}}, "group_quotas"),
        ((Component("rank", "panel", 100),), {}, "clash"),
        ((Component("a", "panel", 50), Component("n_a", "panel", 50)), {}, "n_/need_"),
        ((), {}, "at least one component"),
        (
            (Component("a", "panel", 100),),
            {"overrides": (Override("E1", "grant", "r"), Override("E1", "revoke", "r"))},
            "one override per entry",
        ),
        ((Component("a", "panel", 100),), {"tie_decisions": {"E1": "yes"}}, "tie_decisions"),
    ],
)
def test_invalid_methods_are_refused_with_a_reason(components, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        Method(components, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trim": -1}, "trim"),
        ({"min_reviews": -1}, "min_reviews"),
        ({"weight": -5}, "weight"),
        ({"weight": 101}, "weight"),
        ({"aggregate": "mode"}, "aggregate"),
        ({"normalise": "minmax"}, "normalise"),
        ({"kind": "jury"}, "kind"),
        ({"key": ""}, "key"),
    ],
)
def test_invalid_components_are_refused(kwargs, message) -> None:
    fields = {"key": "a", "kind": "panel", "weight": 100} | kwargs
    with pytest.raises(ValueError, match=message):
        Component(**fields)


def test_override_needs_a_reason_and_a_known_action() -> None:
    with pytest.raises(ValueError, match="reason"):
        Override("E1", "grant", "  ")
    with pytest.raises(ValueError, match="action"):
        Override("E1", "move", "committee")


def test_method_is_frozen_and_its_mappings_are_read_only() -> None:
    method = Method((Component("a", "panel", 100),), group_quotas={"g": 2})
    with pytest.raises(AttributeError):
        method.award_quota = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        method.group_quotas["g"] = 9  # type: ignore[index]


def test_group_quotas_override_the_campaign_quota() -> None:
    method = Method((Component("a", "panel", 100),), award_quota=3, group_quotas={"g": 1})
    assert method.quota_for("g") == 1
    assert method.quota_for("other") == 3


def test_tie_break_skips_keys_the_campaign_lacks() -> None:
    method = Method((Component("votes", "votes", 40), Component("expert", "panel", 60)))
    assert method.effective_tie_break == ("expert", "votes")


@pytest.mark.parametrize(
    ("how", "label"),
    [
        ("category", "数字政府"),
        ("domain", "政务服务"),
        ("category_domain", "数字政府 / 政务服务"),
        ("all", "all"),
    ],
)
def test_group_label(how: str, label: str) -> None:
    assert group_label("数字政府", "政务服务", how) == label


def test_group_label_refuses_unknown_grouping() -> None:
    with pytest.raises(ValueError, match="unknown group"):
        group_label("a", "b", "region")
