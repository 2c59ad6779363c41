"""Mapping between table rows and the domain's plain objects (the only place that knows both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from battrace.domain.lifecycle import Battery, Vehicle
from battrace.domain.vocab import State

BATTERY_COLUMNS = (
    "code",
    "product_type",
    "battery_type",
    "chemistry",
    "manufacturer",
    "state",
    "holder",
    "to_party",
    "retired",
    "vin",
    "parent",
    "successor",
    "reprocessed",
    "application",
    "obligated",
    "mass_g",
    "energy_wh",
    "since_us",
    "last_us",
    "first_seq",
    "last_seq",
    "collected",
)
VEHICLE_COLUMNS = (
    "vin",
    "model",
    "automaker",
    "packs",
    "sold_on",
    "sold_region",
    "scrapped_on",
    "scrapped_by",
    "last_us",
    "first_seq",
    "last_seq",
)
EVENT_COLUMNS = (
    "seq",
    "reporter",
    "event_id",
    "type",
    "code",
    "vin",
    "time_us",
    "recorded_us",
    "payload",
    "leaf_hash",
    "nodes",
)
#: PostgreSQL types of EVENT_COLUMNS, for binary `COPY` of log rows (the server's own
#: encoding: no text escaping of the hashes and payload on either side)
EVENT_PG_TYPES = (
    "int8",
    "text",
    "text",
    "text",
    "text",
    "text",
    "int8",
    "int8",
    "text",
    "bytea",
    "bytea",
)


def battery_row(b: Battery) -> tuple[Any, ...]:
    """The `batteries` row of a state."""
    return (
        b.code,
        b.product_type,
        b.battery_type,
        b.chemistry,
        b.manufacturer,
        b.state._value_,
        b.holder,
        b.to,
        b.retired,
        b.vin,
        b.parent,
        b.successor,
        b.reprocessed,
        b.application,
        b.obligated,
        b.mass_g,
        b.energy_wh,
        b.since_us,
        b.last_us,
        b.first_seq,
        b.last_seq,
        b.collected,
    )


def battery_from_row(r: Sequence[Any]) -> Battery:
    """A state from its `batteries` row (columns in BATTERY_COLUMNS order)."""
    return Battery(
        code=r[0],
        product_type=r[1],
        battery_type=r[2],
        chemistry=r[3],
        manufacturer=r[4],
        state=State(r[5]),
        holder=r[6],
        to=r[7],
        retired=bool(r[8]),
        vin=r[9],
        parent=r[10],
        successor=r[11],
        reprocessed=bool(r[12]),
        application=r[13],
        obligated=r[14],
        mass_g=r[15],
        energy_wh=r[16],
        since_us=r[17],
        last_us=r[18],
        first_seq=r[19],
        last_seq=r[20],
        collected=bool(r[21]),
    )


def vehicle_row(v: Vehicle) -> tuple[Any, ...]:
    """The `vehicles` row of a vehicle."""
    return (
        v.vin,
        v.model,
        v.automaker,
        " ".join(v.packs),
        v.sold_on,
        v.sold_region,
        v.scrapped_on,
        v.scrapped_by,
        v.last_us,
        v.first_seq,
        v.last_seq,
    )


def vehicle_from_row(r: Sequence[Any]) -> Vehicle:
    """A vehicle from its `vehicles` row."""
    return Vehicle(
        vin=r[0],
        model=r[1],
        automaker=r[2],
        packs=tuple(r[3].split()) if r[3] else (),
        sold_on=r[4],
        sold_region=r[5],
        scrapped_on=r[6],
        scrapped_by=r[7],
        last_us=r[8],
        first_seq=r[9],
        last_seq=r[10],
    )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the log, as stored."""

    seq: int
    reporter: str
    event_id: str
    type: str
    code: str | None
    vin: str | None
    time_us: int
    recorded_us: int
    payload: str
    leaf_hash: bytes

    @property
    def key(self) -> tuple[str, str]:
        """The idempotency key."""
        return (self.reporter, self.event_id)


STORED_EVENT_COLUMNS = EVENT_COLUMNS[:-1]


def stored_event(r: Sequence[Any]) -> StoredEvent:
    """A StoredEvent from a row in STORED_EVENT_COLUMNS order."""
    return StoredEvent(
        int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6]), int(r[7]), r[8], bytes(r[9])
    )
