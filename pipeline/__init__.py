"""The code behind the invoke tasks: one module per step (package, deploy, verify, logs, destroy, lint, bootstrap).

Step modules call AWS and return plain data; they never print. ``pipeline.report`` renders that data for the
terminal and for the GitHub job summary, and ``tasks.py`` wires the two together.
"""
