"""The transparency log for verifiers (public): checkpoints, proofs, the public key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from battrace.api.deps import State
from battrace.api.routes import problem_responses
from battrace.api.schemas import (
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
    PublicKeyOut,
)
from battrace.errors import NotFound
from battrace.services import log as log_service
from battrace.store.sql import SqlStore

router = APIRouter(prefix="/v1", tags=["transparency log"])


def _latest_size(store: SqlStore) -> int:
    cp = log_service.latest_checkpoint(store)
    if cp is None:
        raise NotFound("no checkpoint yet: the log has no signing key, or nothing was logged")
    return cp.size


def _note(store: SqlStore, size: int) -> str | None:
    try:
        return log_service.checkpoint_at(store, size).note
    except NotFound:
        return None


@router.get(
    "/checkpoints/latest",
    response_model=CheckpointOut,
    summary="The latest signed checkpoint",
    responses=problem_responses(404),
)
def get_latest_checkpoint(state: State) -> dict[str, Any]:
    """The newest signed tree head (C2SP tlog-checkpoint)."""
    cp = log_service.latest_checkpoint(state.store)
    if cp is None:
        raise NotFound("no checkpoint yet: the log has no signing key, or nothing was logged")
    return cp.as_dict()


@router.get(
    "/checkpoints/{tree_size}",
    response_model=CheckpointOut,
    summary="The checkpoint of a tree size",
    responses=problem_responses(404),
)
def get_checkpoint(state: State, tree_size: Annotated[int, Path(ge=0, le=2**62)]) -> dict[str, Any]:
    """The signed checkpoint of exactly this size, if one was cut."""
    return log_service.checkpoint_at(state.store, tree_size).as_dict()


@router.get(
    "/log/proof/inclusion",
    response_model=InclusionProofOut,
    summary="Inclusion proof of a leaf",
    responses=problem_responses(404, 422),
)
def get_inclusion(
    state: State,
    leaf_index: Annotated[int, Query(ge=0, le=2**62)],
    tree_size: Annotated[
        int | None, Query(ge=1, le=2**62, description="Default: the latest checkpoint's size.")
    ] = None,
) -> dict[str, Any]:
    """RFC 9162 inclusion proof of leaf `leaf_index` in the tree of `tree_size` leaves."""
    size = tree_size if tree_size is not None else _latest_size(state.store)
    proof = log_service.inclusion(state.store, leaf_index, size)
    leaf = state.store.get_nodes([(0, leaf_index)]).get((0, leaf_index))
    if leaf is None:
        raise NotFound(f"no leaf {leaf_index}")
    return {
        "leaf_index": leaf_index,
        "tree_size": size,
        "leaf_hash": leaf.hex(),
        "proof": [h.hex() for h in proof],
        "checkpoint": _note(state.store, size),
    }


@router.get(
    "/log/proof/consistency",
    response_model=ConsistencyProofOut,
    summary="Consistency proof between two tree sizes",
    responses=problem_responses(404, 422),
)
def get_consistency(
    state: State,
    first: Annotated[int, Query(ge=0, le=2**62, description="The older tree size.")],
    second: Annotated[
        int | None, Query(ge=0, le=2**62, description="Default: the latest checkpoint's size.")
    ] = None,
) -> dict[str, Any]:
    """RFC 9162 consistency proof: the tree of `second` leaves extends the tree of `first`."""
    size = second if second is not None else _latest_size(state.store)
    proof = log_service.consistency(state.store, first, size)
    return {
        "first": first,
        "second": size,
        "proof": [h.hex() for h in proof],
        "first_checkpoint": _note(state.store, first),
        "second_checkpoint": _note(state.store, size),
    }


@router.get(
    "/log/public-key",
    response_model=PublicKeyOut,
    summary="The log's verifier key",
    responses=problem_responses(404),
)
def get_public_key(state: State) -> dict[str, Any]:
    """The Ed25519 verifier key that checks every checkpoint (note format), for verifiers."""
    v = state.verifier
    if v is None:
        raise NotFound("this deployment has no signing key (`battrace keys init`)")
    return {"verifier_key": v.text, "name": v.name, "origin": state.settings.log_origin}
