"""Export a trained policy for a real hand controller: ONNX graph + manifest.

Why it stands alone: docs/architecture.md §9.
"""
