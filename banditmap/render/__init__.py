"""Presentation: every result printed as a table, JSON, CSV or Markdown, plots and the drawn map."""
