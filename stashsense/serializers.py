"""The base of request serializers whose bad input is answered with one message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from stashsense.errors import InvalidInput


def first_message(detail: Any) -> str:
    """The first message inside a ValidationError's detail (a string, list or dict of them)."""
    if isinstance(detail, Mapping):
        return first_message(next(iter(detail.values()), ""))
    if isinstance(detail, list):
        return first_message(detail[0]) if detail else ""
    return str(detail)


class FirstErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """A request whose first wrong field is the whole answer: one InvalidInput.

    The identify endpoints and the performer search answer `{"code", "message"}` naming one
    field, the message written to be shown as it is, where DRF would list every field's errors
    under `fields`. So fields are checked in the order they are declared and the first
    ValidationError stops the check as InvalidInput (its message naming the field); a field may
    raise a domain error of its own (TooLarge, or InvalidInput with a code other than
    `invalid`), which stays what it is.
    """

    default_error_messages = {"invalid": "The request body must be a JSON object or a form."}

    def run_validation(self, data: Any = empty) -> Any:
        if not isinstance(data, Mapping):  # a JSON list, number or null
            raise InvalidInput(str(self.error_messages["invalid"]), code="invalid")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field in self._writable_fields:
            try:
                value = field.run_validation(field.get_value(data))
            except SkipField:
                continue
            except serializers.ValidationError as error:
                message = first_message(error.detail)
                if f"`{field.field_name}`" not in message:  # DRF's own words name no field
                    message = f"`{field.field_name}`: {message}"
                raise InvalidInput(message, code="invalid") from error
            self.set_value(values, field.source_attrs, value)
        return values
