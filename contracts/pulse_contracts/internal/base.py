"""The two bases of internal contracts: a tolerant answer and a strict request."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer


class Answer(BaseModel):
    """What a route answers: unknown keys are ignored (the tolerant reader), values frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Request(BaseModel):
    """What a caller sends: unknown keys are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


# A moment written as Python's isoformat ("+00:00"), as FastAPI wrote the routes' plain dicts
# before they had a contract: typing a route then changes no byte of what it serves (pydantic
# alone would write "Z").
IsoDatetime = Annotated[
    datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json")
]
