"""Hypothesis without deadlines: a property's examples are judged on what they compute, never on how long one
took (a loaded machine can make a 1-ms example take 400 ms; speed is measured in bench/)."""

from hypothesis import settings

settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")
