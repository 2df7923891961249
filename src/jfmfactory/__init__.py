"""jfmfactory: drafts job-family profiles with an LLM and publishes none until a review panel passes it."""

__version__ = "0.1.0"
