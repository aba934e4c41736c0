"""The README cannot drift from the code: every variable the code reads has a row in its
configuration table, and its examples run as written."""

from __future__ import annotations

import re

from stashsense.tests.documented_settings import (
    README,
    REPO,
    configuration_rows,
    variables_read,
)


def code_blocks() -> list[str]:
    return re.findall(r"```(?:sh|bash)?\n(.*?)```", README, flags=re.S)


def test_the_scan_finds_the_variables_it_must() -> None:
    read = variables_read()
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "STASHSENSE_MAX_FACES", "PUID"} <= set(read)


def test_every_variable_the_code_reads_has_a_row_in_the_readme_configuration_table() -> None:
    rows = configuration_rows()
    missing = sorted(
        f"{name} (read in {where})" for name, where in variables_read().items() if name not in rows
    )
    assert not missing, (
        "README.md's configuration table has no row for: "
        + ", ".join(missing)
        + ". Add `| `NAME` | default | meaning |` under '## Configuration'."
    )


def test_the_table_names_no_variable_the_code_does_not_read() -> None:
    read = set(variables_read())
    # read by Compose (docker-compose.yml) or by make, not by the server
    outside = {"STASHSENSE_PORT", "HOST", "PORT"}
    stale = sorted(configuration_rows() - read - outside)
    assert not stale, f"README.md documents variables nothing reads: {stale}"


def test_every_shell_variable_in_the_examples_is_defined_before_use() -> None:
    defined: set[str] = set(configuration_rows())
    undefined = []
    for block in code_blocks():
        for line in block.splitlines():
            command = line.split("#", 1)[0]
            undefined += [
                name
                for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", command)
                if name not in defined
            ]
            defined |= set(re.findall(r"(?:^|\s|export\s)([A-Z][A-Z0-9_]*)=", command))
    assert not undefined, f"README examples use variables they never set: {sorted(set(undefined))}"


def test_the_example_probe_photos_exist_and_were_not_enrolled() -> None:
    enrolled = re.findall(r"enroll (\.\./shared/\S+)", README)
    probes = re.findall(r"image=@(\S+)", README) + re.findall(r"identify (\S+\.jpg)", README)
    assert enrolled and probes
    for probe in probes:
        path = (REPO / probe).resolve()
        assert path.is_file(), f"README's example photo {probe} does not exist"
        for root in enrolled:
            relative = path.relative_to((REPO / root).resolve())
            # enroll skips folders whose names start with "_" or "." (recognition/enrollment.py)
            assert relative.parts[0].startswith(("_", ".")), f"{probe} is in the gallery"
