"""The catalog around a profile: level rubric, taxonomy, codes, SOC classification, adjacency."""
