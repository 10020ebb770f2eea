"""Evaluation: scenario suites, the harness that scores the loop, baselines and reports."""
