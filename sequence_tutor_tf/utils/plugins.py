"""User plug-ins named on the command line: a registered name, 'package.module:function', or a
callable. Music's extra rewards and molecules' reward components both resolve through here.

Importing a user's module runs its code: the README's "Trusted inputs" says so.
"""
import importlib
import os
import sys


def import_user_module(module_name):
    """Imports the user's module, also from the working directory: the installed
    `sequence-tutor` script does not put it on sys.path, `python -m` does."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        cwd = os.getcwd()
        if e.name != module_name.split(".")[0] or cwd in sys.path:
            raise
        sys.path.append(cwd)
        return importlib.import_module(module_name)


def resolve_plugin(spec, registry, what, name_from="attr"):
    """(name, function) for `spec`; ValueError naming `what` and the spec when it cannot be
    resolved. `name_from` 'attr' names a module function by its attribute, 'spec' by the spec."""
    if callable(spec):
        return getattr(spec, "__name__", repr(spec)), spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{what} must be a registered name or 'module:function', got {spec!r}")
    spec = spec.strip()
    if spec in registry:
        return spec, registry[spec]
    if ":" not in spec:
        raise ValueError(f"unknown {what} {spec!r}: expected one of {', '.join(sorted(registry))}"
                         " or 'package.module:function'")
    module_name, _, attr = spec.partition(":")
    try:
        module = import_user_module(module_name)
    except Exception as e:   # ImportError, or the module's own code failing
        raise ValueError(f"{what} {spec!r}: cannot import module {module_name!r} "
                         f"({type(e).__name__}: {e})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"{what} {spec!r}: module {module_name!r} has no function {attr!r}")
    return (attr if name_from == "attr" else spec), fn
