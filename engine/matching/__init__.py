"""Matching mentees to mentors: scores, constraints, assignment, explanations. Pure."""
