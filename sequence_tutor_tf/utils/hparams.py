"""A minimal stand-in for `contrib_training.HParams`, so Magenta-style hparams code ports as is.

Supports attribute access, `values()`, `override_from_dict`, `parse("a=1,b=[2,3]")` and
`set_hparam`; unknown names are an error naming the known ones (a typo never passes silently).
"""
import ast
import copy


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
        for name, value in _split_assignments(text):
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                parsed = value
            self.set_hparam(name, parsed)
        return self

    def copy(self):
        return HParams(**self.values())


def _split_assignments(text):
    """Splits 'a=1,b=[2,3],c=x' at top-level commas."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
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
        yield name.strip(), value.strip()
