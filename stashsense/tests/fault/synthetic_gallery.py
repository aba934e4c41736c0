"""Fill a stack's database with a large synthetic gallery: random faces in bulk.

Run inside a stack's environment (`python -m stashsense.tests.fault.synthetic_gallery 200000`)
so that the rows land in that stack's database, not the test run's, as faces of the profile
the stack serves. The vectors are random unit-scale directions, far from any real face (cosine
distance ~1, L2 ~1.4), so real photos still find their real gallery faces among them.
"""

from __future__ import annotations

import argparse

import django
import numpy as np

BATCH = 20_000


def gallery_fill(*, faces: int, performers: int, profile: str, dim: int, seed: int = 7) -> int:
    """Add `faces` synthetic `dim`-d faces of `profile` spread over `performers` new
    performers; returns faces added.

    Rows go in with one prepared INSERT per batch: the ORM's bulk_create spends ~60 µs of
    Python per object, which at a few hundred thousand faces is most of a test's time. The
    column values come from the model's own fields, so new columns with defaults need no edit.
    """
    from django.db import connection, transaction

    from performers.models import Performer
    from recognition.models import Face

    rng = np.random.default_rng(seed)
    people = [
        Performer(name=f"Synthetic {n}", normalized_name=f"synthetic {n}")
        for n in range(performers)
    ]
    Performer.objects.bulk_create(people, batch_size=BATCH)
    performer_field = Face._meta.get_field("performer")
    owners = [performer_field.get_db_prep_save(person.pk, connection) for person in people]
    template = Face(performer=people[0], profile=profile, embedding=b"")
    fields = [field for field in Face._meta.concrete_fields if not field.primary_key]
    row = [
        field.get_db_prep_save(field.pre_save(template, add=True), connection) for field in fields
    ]
    varying = [fields.index(performer_field), fields.index(Face._meta.get_field("embedding"))]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    insert = f"INSERT INTO {Face._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
    added = 0
    while added < faces:
        count = min(BATCH, faces - added)
        vectors = (rng.standard_normal((count, dim)) / np.sqrt(dim)).astype(np.float32)
        batch = []
        for owner, vector in zip(
            rng.integers(0, performers, size=count).tolist(), vectors, strict=True
        ):
            values = list(row)
            values[varying[0]], values[varying[1]] = owners[owner], vector.tobytes()
            batch.append(values)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
        added += count
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("faces", type=int)
    parser.add_argument("--performers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    django.setup()
    from recognition.configured_profile import profile_for

    serving = profile_for()
    added = gallery_fill(
        faces=arguments.faces,
        performers=arguments.performers,
        profile=serving.name,
        dim=serving.dim,
        seed=arguments.seed,
    )
    print(f"added {added} synthetic faces")


if __name__ == "__main__":
    main()
