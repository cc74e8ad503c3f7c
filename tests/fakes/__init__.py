"""In-process HTTP fakes of the external services (test code only; product code never imports this)."""
