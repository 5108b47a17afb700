"""The phase policies shipped with mentorflow, as package data (``*.yaml``)."""
