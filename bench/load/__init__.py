"""Load test (issue 10): 50 officers and 5 managers against gunicorn, workers and PostgreSQL."""
