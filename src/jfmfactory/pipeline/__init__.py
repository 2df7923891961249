"""The stages of a run: drafter, panel (checks, evidence, reviewers) and the loop."""
