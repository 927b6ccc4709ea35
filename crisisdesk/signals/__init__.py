"""Signals computed from the stream of ingested comments: the flame level (``flame``), its volume
component (``spikes``), and, from other modules, author risk and coordination."""
