"""`make bench`: stand up the stack on a bench host and measure it side by side.

The run (bench.runner) collects plain data per section; bench.report renders
results.md from that data and bench.chart the PNG. Parsing lives in small
modules (wrk, ansible_output, memory, security) that the unit tests cover with
outputs captured from real runs.
"""
