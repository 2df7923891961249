"""Calibration: a labelled set of profiles, planted faults, and how often the panel agrees."""
