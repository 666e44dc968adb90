"""Export a trained policy for a real hand controller: ONNX graph + manifest (DESIGN.md 9)."""
