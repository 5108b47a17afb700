"""Readers of the CSV files operators bring: participants, survey answers, kickoffs, trainings."""
