"""The two bases of internal contracts: a tolerant answer and a strict request."""

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """What a route answers: unknown keys are ignored (the tolerant reader), values frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Request(BaseModel):
    """What a caller sends: unknown keys are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")
