"""Stage descriptions for scripts/bpmn_layout.py: one module per group of lifecycle stages."""
