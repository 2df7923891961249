"""Views of finished runs for people: terminal, report.html, level pages, comparisons."""
