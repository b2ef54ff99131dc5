"""Export: saved models -> ONNX (checked against eager), int8, the onnxruntime session."""
