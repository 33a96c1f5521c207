"""Use cases in flow order: ingest, assess, decide, policies, exemptions, audit.

Services take their collaborators (store, clock-supplied `now`, fleet index, decision service) as
arguments; they never open files, sockets or databases themselves.
"""
