"""What `jfm calibrate` shows: the table on the terminal, calibration.md and a page like report.html."""

from __future__ import annotations

from ..calibration.run import CalibrationRecord
from .rendering import render_template

CALIBRATION_MD = "calibration.md"
CALIBRATION_HTML = "calibration.html"


def calibration_markdown(record: CalibrationRecord) -> str:
    return render_template("calibration.md.j2", c=record).rstrip() + "\n"


def calibration_html(record: CalibrationRecord) -> str:
    return render_template("calibration.html.j2", c=record)
