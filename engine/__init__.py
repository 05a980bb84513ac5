"""The comparison engine: sides and how they are made, the Comparator, timing, results.

Imports point one way: app/ui → engine → models → modalities. The engine knows nothing of
Gradio or the command line; it takes a request and yields results.
"""
