"""Matching a checkpoint's variables against the names and shapes a layout expects.

Everything wrong is collected first and raised as one CheckpointMismatchError, together with
the hparams that the file's own shapes imply.
"""
from magenta_compat import layouts, naming
from magenta_compat.errors import CheckpointMismatchError


def match_roles(path, shapes, layout, role_names, wanted, scope=None, readout_bias="bias"):
    """Returns {role: original variable name} or raises CheckpointMismatchError.

    Only variables under `scope/` count as candidates when a scope is given (an RL Tuner
    checkpoint also holds the target and reward networks); optimizer slots never count.
    """
    norm = layouts.normalized_shapes(shapes, readout_bias)
    expected_shapes = naming.role_shapes(layout)
    by_name = {name: role for role, name in role_names.items()}
    missing, misshaped, found = [], [], {}
    for role, name in role_names.items():
        if name not in norm:
            missing.append((name, expected_shapes[role]))
            continue
        original, shape = norm[name]
        if tuple(shape) != tuple(expected_shapes[role]):
            misshaped.append((original, expected_shapes[role], shape))
        found[role] = original
    candidates = [n for n in norm if not scope or n.startswith(scope + "/")]
    unexpected = [(norm[n][0], norm[n][1]) for n in sorted(candidates) if n not in by_name]
    if missing or misshaped or unexpected:
        fits = layouts.infer_layouts(shapes)
        if scope:
            fits = sorted(fits, key=lambda f: f.get("checkpoint_scope") != scope)
        raise CheckpointMismatchError(path, wanted, missing, unexpected, misshaped,
                                      layouts.describe_all(fits))
    return found
