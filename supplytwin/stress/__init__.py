"""Scheduled resilience stress tests.

A *battery* (``scenarios/stress/*.yaml``) names a base scenario and disruption *generators*;
:mod:`~supplytwin.stress.battery` reads and checks it, :mod:`~supplytwin.stress.generators`
expands each generator into concrete *what-ifs* (a site down for D days, a lane closed, every
site within a radius of a hurricane's landfall down, ...). Every what-if is a *scenario
transform*: the base scenario plus rows of the ordinary disruption table, so the simulator
needs no special code.

:mod:`~supplytwin.stress.measures` computes what a disruption did in one replication (fill rate
during and after it, peak backlog, time to first stockout per customer, the daily fill series);
:mod:`~supplytwin.stress.runner` runs every what-if against the base with common random
numbers, :mod:`~supplytwin.stress.adaptive` spends replications only where a decision is open,
:mod:`~supplytwin.stress.tts` holds the time-to-survive / time-to-recover linear programs
(Simchi-Levi et al. 2015), and :mod:`~supplytwin.stress.report` writes the JSON summary and the
HTML report.
"""
