"""``FIELD=VALUE`` overrides of SynthParams (``prepare_synthetic.py --set``)."""

import dataclasses

from .params import FIELD_NAMES, LATEST_VERSION, SynthParams


def _convert(text: str, example, field: str):
    """Parse ``text`` as the type of ``example`` (a field's default value)."""
    if isinstance(example, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{field}: expected true or false, got {text!r}")
    if isinstance(example, tuple):
        parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
        if len(parts) != len(example):
            raise ValueError(
                f"{field}: expected {len(example)} comma-separated values like "
                f"{','.join(str(x) for x in example)}, got {text!r}"
            )
        return tuple(_convert(p.strip(), e, field) for p, e in zip(parts, example, strict=True))
    try:
        return type(example)(text)
    except ValueError:
        raise ValueError(
            f"{field}: expected a value of type {type(example).__name__}, got {text!r}"
        ) from None


def params_with_overrides(params: SynthParams, assignments: list[str]) -> SynthParams:
    """Apply ``FIELD=VALUE`` strings to ``params``, converting each value to the field's type.

    Tuples are written comma-separated (``video_speed=0.01,0.03``); booleans as true/false.

    Args:
        params: the starting parameters.
        assignments: strings "FIELD=VALUE".
    Returns:
        a new, validated SynthParams.
    Raises:
        ValueError naming the assignment for a missing "=", an unknown field (listing the valid
        ones), a value of the wrong type, or a value SynthParams rejects.
    """
    changes = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"Override {assignment!r} must have the form FIELD=VALUE")
        if name not in FIELD_NAMES:
            raise ValueError(
                f"Unknown SynthParams field {name!r} in {assignment!r}; valid fields: "
                + ", ".join(FIELD_NAMES)
            )
        changes[name] = _convert(text.strip(), getattr(params, name), name)
    return dataclasses.replace(params, **changes)


def requested_version(assignments: list[str]) -> int | None:
    """The version a list of ``FIELD=VALUE`` strings sets (the last one wins), or None.

    Raises:
        ValueError when a ``version=`` value is not an integer.
    """
    version = None
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if sep and name.strip() == "version":
            version = _convert(text.strip(), LATEST_VERSION, "version")
    return version
