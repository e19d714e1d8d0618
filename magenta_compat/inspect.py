"""What a Note RNN file holds: its variables and shapes, and the layouts they fit."""
import os

from magenta_compat import bundle, checkpoint_io, layouts, metagraph, naming


def inspect_checkpoint(path):
    """Returns a report dict: format, checkpoint, variables [(name, shape)], ignored training
    state, detected layouts (note_rnn_type, checkpoint_scope, rnn_layer_sizes, ...) and, for
    bundles, the generator id and descriptions."""
    from magenta_compat.loader import detect_format
    kind = detect_format(path)
    report = {"path": path, "format": kind}
    if kind == "ours":
        from sequence_tutor_tf.models.note_rnn import read_model_config
        from sequence_tutor_tf.models.checkpoints import latest_note_rnn_checkpoint
        try:
            report["config"] = read_model_config(path)
        except ValueError as e:   # bad JSON, or not UTF-8
            raise ValueError(f"{os.path.join(path, 'note_rnn_config.json')}: not a UTF-8 JSON "
                             f"file ({e})") from None
        ckpt = latest_note_rnn_checkpoint(path)
        report["checkpoint"] = ckpt
        report["variables"] = sorted(checkpoint_io.read_shapes(ckpt).items())
        report["layouts"] = []
        return report
    if kind == "mag":
        import tempfile
        b = bundle.read_bundle(path)
        report.update(generator_id=b.generator_details.id,
                      generator_description=b.generator_details.description,
                      bundle_description=b.bundle_details.description)
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = os.path.join(tmp, "model.ckpt")
            with open(ckpt, "wb") as f:
                f.write(b.checkpoint_file[0])
            shapes = checkpoint_io.read_shapes(ckpt)
        found = layouts.infer_layouts(shapes)
        for layout in found:
            layout.update(metagraph.graph_facts(b.metagraph_file, layout["rnn_layer_sizes"]))
        report["checkpoint"] = path
    else:
        report["checkpoint"] = checkpoint_io.resolve_checkpoint(path)
        shapes = checkpoint_io.read_shapes(report["checkpoint"])
        found = layouts.infer_layouts(shapes)
    report["variables"] = sorted((n, s) for n, s in shapes.items()
                                 if not naming.is_training_state(n))
    report["training_state"] = sorted(n for n in shapes if naming.is_training_state(n))
    report["layouts"] = found
    return report


def format_report(report):
    """Human-readable text of an inspect_checkpoint report."""
    lines = [f"{report['path']}: format {report['format']}"]
    if report.get("generator_id"):
        lines.append(f"generator id: {report['generator_id']} "
                     f"({report.get('generator_description', '')})")
        if report.get("bundle_description"):
            lines.append(f"bundle: {report['bundle_description']}")
    if report.get("config"):
        lines.append(f"config: {report['config']}")
    lines.append(f"checkpoint: {report['checkpoint']}")
    lines.append("variables:")
    for name, shape in report["variables"]:
        lines.append(f"  {name} {list(shape)}")
    if report.get("training_state"):
        lines.append(f"training state (ignored): {len(report['training_state'])} variables")
    for layout in report["layouts"]:
        lines.append("detected: " + layouts.describe(layout))
    if report["format"] != "ours" and not report["layouts"]:
        lines.append("detected: no supported Note RNN layout")
    return "\n".join(lines)
