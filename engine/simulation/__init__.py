"""A simulated mentoring program: its people, generated from a seed, and what they do day by day.

Pure and seeded, so the demo and the tests replay the same year every time:
:mod:`.people` generates the participants and their import days,
:mod:`.traits` how each mentor and pair behaves, :mod:`.behaviour` decides
what happens on a day, and :mod:`.day` records it through the services.
"""

from engine.simulation.day import DaySummary, day_moment, simulate_day
from engine.simulation.people import Program, generate_program, participants_csv

__all__ = ["DaySummary", "Program", "day_moment", "generate_program", "participants_csv", "simulate_day"]
