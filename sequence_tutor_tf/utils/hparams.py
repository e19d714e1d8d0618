"""A minimal stand-in for `contrib_training.HParams`, so Magenta-style hparams code ports as is.

Supports attribute access, `values()`, `override_from_dict`, `parse("a=1,b=[2,3]")` and
`set_hparam`; unknown names are an error naming the known ones (a typo never passes silently).
As in contrib_training, `parse` keeps each hparam's kind: a number where the default is a number
(ints stay ints), a list where it is a list, true/false for a bool, and no nan or inf. Every error is a ValueError naming the hparam and what was expected.
"""
import ast
import copy
import math


class HParams:
    def __init__(self, **kwargs):
        self.__dict__["_values"] = dict(kwargs)

    def __getattr__(self, name):
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"HParams has no hparam {name!r}") from None

    def __setattr__(self, name, value):
        self.set_hparam(name, value)

    def __contains__(self, name):
        return name in self._values

    def __repr__(self):
        return f"HParams({', '.join(f'{k}={v!r}' for k, v in sorted(self._values.items()))})"

    def __eq__(self, other):
        return isinstance(other, HParams) and self._values == other._values

    def values(self):
        return copy.deepcopy(self._values)

    def add_hparam(self, name, value):
        if name in self._values:
            raise ValueError(f"hparam {name!r} already exists")
        self._values[name] = value

    def set_hparam(self, name, value):
        if name not in self._values:
            raise ValueError(
                f"unknown hparam {name!r}; known hparams are: {', '.join(sorted(self._values))}")
        self._values[name] = value

    def override_from_dict(self, values):
        for name, value in values.items():
            self.set_hparam(name, value)
        return self

    def parse(self, text):
        """Overrides from 'name=value,name=[1,2]' (Magenta's --hparams syntax)."""
        if len(text) > MAX_PARSE_CHARS:
            raise ValueError(f"hparams string of {len(text)} characters; at most "
                             f"{MAX_PARSE_CHARS} are read")
        for name, value in _split_assignments(text):
            if name not in self._values:
                self.set_hparam(name, None)   # the unknown-name error, listing the known ones
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
                parsed = value
            self.set_hparam(name, _coerce(name, parsed, self._values[name], value))
        return self

    def copy(self):
        return HParams(**self.values())


MAX_PARSE_CHARS = 10000


def _coerce(name, parsed, default, text):
    """`parsed` in the type of `default` (the hparam's current value), or a ValueError."""
    def fail(expected):
        raise ValueError(f"hparam {name}={text!r}: expected {expected}")

    if default is None or isinstance(default, str):
        return parsed if default is None else str(parsed) if not isinstance(parsed, str) \
            else parsed
    if isinstance(default, bool):
        if isinstance(parsed, bool):
            return parsed
        if isinstance(parsed, str) and parsed.lower() in ("true", "false"):
            return parsed.lower() == "true"
        fail("true or false")
    if isinstance(default, int) and isinstance(parsed, int) and not isinstance(parsed, bool):
        return parsed
    if isinstance(default, (int, float)):
        # An int default may hold a float (clip_norm=5 -> 2.5): what must be whole is checked
        # where the value is used.
        if isinstance(parsed, bool) or not isinstance(parsed, (int, float)):
            fail("a number")
        if not math.isfinite(parsed):
            fail("a finite number")
        return float(parsed)
    if isinstance(default, (list, tuple)):
        if isinstance(parsed, (int, float)) and not isinstance(parsed, bool):
            parsed = [parsed]          # 'rnn_layer_sizes=100' means [100]
        if not isinstance(parsed, (list, tuple)):
            fail("a list like [512, 512]")
        kinds = {type(v) for v in default}
        if kinds <= {int} and not all(isinstance(v, int) and not isinstance(v, bool)
                                      for v in parsed):
            fail("a list of integers like [512, 512]")
        if kinds and kinds <= {int, float} and not all(
                isinstance(v, (int, float)) and math.isfinite(v) for v in parsed):
            fail("a list of finite numbers")
        return type(default)(parsed)
    return parsed


def _split_assignments(text):
    """Splits 'a=1,b=[2,3],c=x' at top-level commas."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    for part in parts:
        if "=" not in part:
            raise ValueError(f"bad hparams item {part!r}: expected name=value")
        name, value = part.split("=", 1)
        if not name.strip():
            raise ValueError(f"bad hparams item {part!r}: expected name=value")
        yield name.strip(), value.strip()
