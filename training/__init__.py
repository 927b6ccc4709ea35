"""Scripts that rebuild the shipped models from the public datasets (``python -m training``)."""
