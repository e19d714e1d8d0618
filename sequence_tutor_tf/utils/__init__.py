"""Small shared helpers: hparams, seeds, atomic file writes, plotting, zero-copy tensors."""
