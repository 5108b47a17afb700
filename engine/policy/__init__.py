"""The policy language: its model, loading, checks, vocabulary, durations and problems.

Pure: no SQL; the only files it reads are policy files.
"""
