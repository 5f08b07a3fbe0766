"""Pipelines and deals for the tests of the pipeline: pipelines as an admin makes them, deals
through the real services."""

import itertools
from decimal import Decimal

from contacts.services import contact_create
from sales.models import Pipeline, Stage, StageKind
from sales.pipeline import deal_create

STAGES = [
    # name, kind, win probability (%)
    ("Lead", StageKind.OPEN, 10),
    ("Proposal", StageKind.OPEN, 50),
    ("Negotiation", StageKind.OPEN, 80),
    ("Won", StageKind.WON, 100),
    ("Lost", StageKind.LOST, 0),
]
_numbers = itertools.count(1)


class Board:
    """A pipeline and its stages by name: board.stage("Proposal")."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.stages = {stage.name: stage for stage in pipeline.stages.all()}

    def stage(self, name: str) -> Stage:
        return self.stages[name]


def make_pipeline(name: str | None = None, stages=STAGES, position: int = 0) -> Board:
    pipeline = Pipeline.objects.create(name=name or f"Pipeline {next(_numbers)}", position=position)
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, name=stage_name, kind=kind, probability=probability, position=n)
        for n, (stage_name, kind, probability) in enumerate(stages, start=1)
    )
    return Board(pipeline)


def make_deal(owner, board: Board, *, stage: str = "Lead", contact=None, amount="100000.00", by=None, **fields):
    contact = contact or contact_create(by=owner, owner=owner, given_name=f"Client {next(_numbers)}")
    return deal_create(
        by=by or owner,
        owner=owner,
        contact=contact,
        name=fields.pop("name", f"Deal {next(_numbers)}"),
        stage=board.stage(stage),
        amount=Decimal(amount),
        **fields,
    )
