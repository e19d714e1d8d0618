"""Reproduction of the paper's music experiment: runs, the table beside the paper's, the report."""
