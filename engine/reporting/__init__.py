"""The program report: outcomes read from the store, their statistics, charts and rendering.

:mod:`.outcomes` turns the audit history, meetings and survey answers into one
record per relationship; :mod:`engine.metrics` computes the figures from
those records; :mod:`.charts` draws them as inline SVG and :mod:`.render`
writes the report as HTML, Markdown or JSON.
"""
