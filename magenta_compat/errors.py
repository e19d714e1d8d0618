"""Errors that say everything wrong with a file at once, and what would have fitted it."""


class MagentaCompatError(ValueError):
    """Base class: a Magenta file that cannot be read as asked."""


class UnsupportedGeneratorError(MagentaCompatError):
    """A .mag bundle written by a generator we cannot rebuild."""


def _shape(shape):
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


class CheckpointMismatchError(MagentaCompatError):
    """Variables of a checkpoint do not match the model asked for.

    Lists every missing, unexpected and misshaped variable (with expected and found shapes), and
    the hparams inferred from the file's own shapes, so one read of the message is enough to fix
    the call.
    """

    def __init__(self, path, wanted, missing=(), unexpected=(), misshaped=(), suggestion=None):
        self.path = path
        self.missing = list(missing)        # [(name, expected_shape)]
        self.unexpected = list(unexpected)  # [(name, found_shape)]
        self.misshaped = list(misshaped)    # [(name, expected_shape, found_shape)]
        self.suggestion = suggestion
        lines = [f"{path} does not match {wanted}:"]
        for name, shape in self.missing:
            lines.append(f"  missing variable {name} (expected shape {_shape(shape)})")
        for name, shape in self.unexpected:
            lines.append(f"  unexpected variable {name} (found shape {_shape(shape)})")
        for name, expected, found in self.misshaped:
            lines.append(f"  shape mismatch for {name}: expected {_shape(expected)}, "
                         f"found {_shape(found)}")
        if suggestion:
            lines.append(f"The file's shapes fit: {suggestion}")
        else:
            lines.append("No supported Note RNN layout fits the file's shapes "
                         "(run `sequence-tutor inspect` on it to see its variables).")
        super().__init__("\n".join(lines))
