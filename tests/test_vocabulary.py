"""One vocabulary: the API, the pages' forms, the CLI, the services and the columns agree.

Each check reads a limit or a name list where an interface enforces it and compares it with
``hotdeals.vocabulary``, so a second copy of a limit that drifts fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from hotdeals.api import deal_schemas, schemas
from hotdeals.bandit import POLICY_NAMES, make_policy
from hotdeals.cli import app as cli_app
from hotdeals.db.models import Bandit, Project, User
from hotdeals.errors import InvalidRequest
from hotdeals.services.specs import DealSpec, ProjectSpec, validated
from hotdeals.vocabulary import (
    MAX_DEALS_PER_REQUEST,
    MAX_EMAIL,
    MAX_EMOJI,
    MAX_IMAGE_URL,
    MAX_NAME,
    MAX_SLOTS,
    PolicyName,
    ProjectStatus,
)
from hotdeals.web.forms import DealForm, FormError, ProjectForm, deal_spec, project_spec

CONSTRAINTS = ("maxLength", "minLength", "pattern", "minimum", "maximum", "exclusiveMinimum")


def constraints(model: type[Any], field: str) -> dict[str, Any]:
    """A field's limits as the model's JSON schema states them (optional fields unwrapped)."""
    schema = model.model_json_schema()
    found: dict[str, Any] = {}
    for option in schema["properties"][field].get("anyOf", [schema["properties"][field]]):
        if "$ref" in option:
            option = schema["$defs"][option["$ref"].rsplit("/", 1)[1]]
        found.update({key: option[key] for key in (*CONSTRAINTS, "enum") if key in option})
    return found


@pytest.mark.parametrize(
    ("api_model", "spec_model", "field"),
    [
        (schemas.ProjectIn, ProjectSpec, "project_name"),
        (schemas.ProjectIn, ProjectSpec, "project_description"),
        (schemas.ProjectIn, ProjectSpec, "policy"),
        (schemas.ProjectIn, ProjectSpec, "epsilon"),
        (schemas.ProjectIn, ProjectSpec, "slots"),
        (schemas.ProjectIn, ProjectSpec, "prior_alpha"),
        (schemas.ProjectIn, ProjectSpec, "min_prob_best"),
        (schemas.ProjectIn, ProjectSpec, "min_impressions"),
        (schemas.ProjectPatch, ProjectSpec, "slots"),
        (schemas.ProjectPatch, ProjectSpec, "policy"),
        (schemas.DealIn, DealSpec, "bandit_name"),
        (schemas.DealIn, DealSpec, "price"),
        (schemas.DealIn, DealSpec, "emoji"),
        (schemas.DealIn, DealSpec, "image_url"),
        (deal_schemas.DealPatch, DealSpec, "bandit_name"),
    ],
)
def test_the_api_and_the_services_take_the_same_limits(
    api_model: type[Any], spec_model: type[Any], field: str
) -> None:
    limits = constraints(spec_model, field)
    assert limits, f"{spec_model.__name__}.{field} states no limit"
    assert constraints(api_model, field) == limits


def test_the_limits_are_the_vocabulary_s_and_the_columns_sizes() -> None:
    assert constraints(ProjectSpec, "slots")["maximum"] == MAX_SLOTS
    assert constraints(ProjectSpec, "project_name")["maxLength"] == MAX_NAME
    assert constraints(DealSpec, "emoji")["maxLength"] == MAX_EMOJI
    assert constraints(DealSpec, "image_url")["maxLength"] == MAX_IMAGE_URL
    assert ProjectSpec.model_json_schema()["properties"]["bandits"]["maxItems"] == (
        MAX_DEALS_PER_REQUEST
    )
    assert Project.__table__.c.project_name.type.length == MAX_NAME
    assert Bandit.__table__.c.bandit_name.type.length == MAX_NAME
    assert Bandit.__table__.c.emoji.type.length == MAX_EMOJI
    assert Bandit.__table__.c.image_url.type.length == MAX_IMAGE_URL
    assert User.__table__.c.email.type.length == MAX_EMAIL


def test_policy_and_status_names_are_listed_once() -> None:
    names = [str(name) for name in PolicyName]
    assert list(POLICY_NAMES) == names
    for name in names:
        assert make_policy(name).name == name
    assert constraints(schemas.ProjectIn, "policy")["enum"] == names
    assert constraints(schemas.ProjectOut, "policy")["enum"] == names
    assert constraints(schemas.ProjectOut, "status")["enum"] == [str(s) for s in ProjectStatus]
    check = next(c for c in Project.__table__.constraints if c.name and "status_known" in c.name)
    for status in ProjectStatus:
        assert f"'{status}'" in str(check.sqltext)  # type: ignore[attr-defined]


def test_the_page_form_refuses_what_the_api_refuses() -> None:
    accepted = project_spec(ProjectForm(project_name="W", policy="ucb1", slots=str(MAX_SLOTS)))
    assert accepted.slots == MAX_SLOTS
    with pytest.raises(FormError, match="Slots"):
        project_spec(ProjectForm(project_name="W", slots=str(MAX_SLOTS + 1)))
    with pytest.raises(FormError, match="Policy"):
        project_spec(ProjectForm(project_name="W", policy="greedy"))
    with pytest.raises(FormError, match="Name"):
        project_spec(ProjectForm(project_name="x" * (MAX_NAME + 1)))
    with pytest.raises(FormError, match="emoji"):
        deal_spec(DealForm(bandit_name="Figs", emoji="🍓" * (MAX_EMOJI + 1)))


def test_the_cli_refuses_what_the_api_refuses() -> None:
    runner = CliRunner()
    helped = runner.invoke(cli_app, ["create-project", "--help"], env={"COLUMNS": "200"})
    for name in PolicyName:
        assert name in helped.stdout
    assert f"1-{MAX_SLOTS}" in helped.stdout
    for args in (["--slots", str(MAX_SLOTS + 1)], ["--policy", "greedy"], ["--epsilon", "2"]):
        refused = runner.invoke(cli_app, ["create-project", "W", *args])
        assert refused.exit_code == 2, refused.output
        assert args[0] in refused.stderr


def test_validated_names_each_field_in_the_caller_s_words() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validated(ProjectSpec, {"project_name": "", "slots": 0}, labels={"slots": "--slots"})
    message = str(caught.value)
    assert "--slots: Input should be greater than or equal to 1" in message
    assert "project_name: String should have at least 1 character" in message
