"""The manager's workspace: the dashboard (``/dashboard``) and the process instances."""
