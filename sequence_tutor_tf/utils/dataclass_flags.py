"""Command-line flags made from a settings dataclass, so that a setting is written down once.

Each field's `metadata` may give `help`, `choices`, `type` (the argparse type), `low` / `high`
(bounds of a number, checked as the flag is parsed; floats are always finite) and `flag` (the
option name; default `--field-name`). Absent flags leave no attribute ("not given"), so a caller can layer
dataclass defaults, a named preset and the user's flags, in that order (`resolve`).
"""
import argparse
import dataclasses
import typing


def _is_bool(field):
    return field.type in (bool, "bool")


def add_flags(parser, cls, skip=()):
    """One flag per field of `cls` (booleans as --x / --no-x)."""
    for field in dataclasses.fields(cls):
        if field.name in skip or field.metadata.get("no_flag"):
            continue
        meta = field.metadata
        flag = meta.get("flag", "--" + field.name.replace("_", "-"))
        default = field.default if field.default is not dataclasses.MISSING else (
            field.default_factory() if field.default_factory is not dataclasses.MISSING else None)
        help_text = meta.get("help", "")
        help_text = f"{help_text} (default: {default!r})" if help_text else f"default {default!r}"
        # SUPPRESS: an absent flag leaves no attribute (so `given` sees what was typed), and the
        # help shows the field's own default instead of None.
        kwargs = {"dest": field.name, "default": argparse.SUPPRESS,
                  "help": help_text.replace("%", "%%")}
        if _is_bool(field):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            if "choices" in meta:
                kwargs["choices"] = meta["choices"]
            if meta.get("append"):
                kwargs["action"] = "append"
            kwargs["type"] = meta.get("type") or _checked(_scalar_type(field), meta.get("low"),
                                                          meta.get("high"),
                                                          meta.get("low_open", False))
            if "metavar" in meta:
                kwargs["metavar"] = meta["metavar"]
        parser.add_argument(flag, **kwargs)


def _checked(kind, low, high, low_open):
    """An argparse type: `kind` (int, float or str) within [low, high]; floats finite."""
    import math
    if kind is str:
        return str

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if (low is not None and (value <= low if low_open else value < low)) or \
                (high is not None and value > high):
            if kind is int and low == 1 and high is None:
                wanted = "a positive integer"
            else:
                wanted = " and ".join(filter(None, (
                    None if low is None else f"{'>' if low_open else '>='} {low}",
                    None if high is None else f"<= {high}")))
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _scalar_type(field):
    t = field.type
    if isinstance(t, str):
        t = {"int": int, "float": float, "str": str}.get(t, str)
    origin = typing.get_origin(t)
    if origin is typing.Union:     # Optional[x]
        t = next(a for a in typing.get_args(t) if a is not type(None))
    return t if t in (int, float, str) else str


def given(args, cls):
    """{field: value} of the flags of `cls` the user gave (not None)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
            if getattr(args, f.name, None) is not None}


def field_defaults(obj_or_cls):
    """{field name: default} of a dataclass (fields without a plain default left out)."""
    return {f.name: f.default for f in dataclasses.fields(obj_or_cls)
            if f.default is not dataclasses.MISSING}


def resolve(cls, *layers):
    """An instance of `cls` from dicts of settings, later ones winning; unknown keys raise."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for layer in layers:
        unknown = sorted(set(layer) - names)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} settings {unknown}; known: {sorted(names)}")
        values.update(layer)
    return cls(**values)
